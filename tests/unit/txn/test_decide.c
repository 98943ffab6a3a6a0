/* SPDX-License-Identifier: ISC */
/* Unit tests for src/txn/decide.c: every reason a ref is not published, from the facts given. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/config.h"
#include "txn/decide.h"

#define A "1111111111111111111111111111111111111111"
#define B "2222222222222222222222222222222222222222"
#define Z "0000000000000000000000000000000000000000"

static const char conf[] = "[group devs]\nmembers = alice\n"
			   "[repo demo.git]\nread = @all\nwrite = @devs\n"
			   "protect = refs/heads/main\n";

struct fixture {
	struct config cfg;
	struct decide_context ctx;
	struct txn_ref refs[4];
	size_t count;
	struct check_request facts;
	size_t index[4];
	struct journal_changes changes;
	char current[4][RELAY_OID_HEX + 1];
	enum ref_kind kind[4];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct config_errors errors = {0};
	config_init(&f->cfg);
	assert_int_equal(config_parse_string(conf, "test.conf", &f->cfg, &errors), 0);
	f->ctx = (struct decide_context){&f->cfg, "demo.git", NULL, "alice", true};
	f->facts.objects_ok = true;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	for (size_t i = 0; i < f->count; i++)
		free(f->refs[i].ref);
	check_request_free(&f->facts);
	config_free(&f->cfg);
	free(f);
	return 0;
}

/* A ref update, the repository holding `now` for it, and what the verifier says. */
static struct txn_ref *add(struct fixture *f, const char *old_id, const char *new_id,
			   const char *ref, const char *now, const char *type, enum check_ff ff)
{
	size_t i = f->count++;
	f->refs[i] = (struct txn_ref){.ref = strdup(ref)};
	snprintf(f->refs[i].old_id, sizeof(f->refs[i].old_id), "%s", old_id);
	snprintf(f->refs[i].new_id, sizeof(f->refs[i].new_id), "%s", new_id);
	snprintf(f->current[i], sizeof(f->current[i]), "%s", now);
	f->kind[i] = strcmp(now, Z) ? REF_OID : REF_ABSENT;
	f->index[i] = f->facts.count;
	check_add_command(&f->facts, old_id, new_id, ref, false);
	struct check_command *cmd = &f->facts.commands[f->facts.count - 1];
	cmd->name_valid = true;
	cmd->exists = type != NULL;
	snprintf(cmd->type, sizeof(cmd->type), "%s", type ? type : "-");
	cmd->ff = ff;
	return &f->refs[i];
}

static void decide(struct fixture *f)
{
	decide_before(&f->ctx, f->refs, f->count);
	decide_after(&f->ctx, f->refs, f->count, &f->facts, f->index, &f->changes, f->current,
		     f->kind);
}

static void test_create_update_delete_allowed(void **state)
{
	struct fixture *f = *state;
	struct txn_ref *create = add(f, Z, B, "refs/heads/topic", Z, "commit", CHECK_FF_UNASKED);
	struct txn_ref *update = add(f, A, B, "refs/heads/other", A, "commit", CHECK_FF_YES);
	struct txn_ref *delete = add(f, A, Z, "refs/heads/old", A, NULL, CHECK_FF_UNASKED);
	decide(f);
	assert_int_equal(create->refusal, REFUSAL_NONE);
	assert_int_equal(update->refusal, REFUSAL_NONE);
	assert_int_equal(delete->refusal, REFUSAL_NONE);
	assert_int_equal(create->perm, ACL_CREATE);
	assert_int_equal(delete->perm, ACL_DELETE);
}

static void test_protected_rewind_needs_the_ancestry(void **state)
{
	struct fixture *f = *state;
	struct txn_ref *ff = add(f, A, B, "refs/heads/main", A, "commit", CHECK_FF_YES);
	decide_before(&f->ctx, f->refs, f->count);
	assert_true(ff->ask_ff); /* alice may write main, not rewind it */
	decide_after(&f->ctx, f->refs, f->count, &f->facts, f->index, &f->changes, f->current,
		     f->kind);
	assert_int_equal(ff->refusal, REFUSAL_NONE);
}

static void test_protected_rewind_refused(void **state)
{
	struct fixture *f = *state;
	struct txn_ref *rewind = add(f, A, B, "refs/heads/main", A, "commit", CHECK_FF_NO);
	struct txn_ref *delete = add(f, A, Z, "refs/heads/main", A, NULL, CHECK_FF_UNASKED);
	decide(f);
	assert_int_equal(rewind->refusal, REFUSAL_RULE);
	assert_string_equal(rewind->reason, "alice may not rewind refs/heads/main");
	assert_int_equal(delete->refusal, REFUSAL_RULE);
	assert_string_equal(delete->reason, "alice may not delete refs/heads/main");
}

/* As in gitolite, moving an existing tag is a rewind, even to a descendant; creating one is
 * not. */
static void test_tag_update_is_a_rewind(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(
	    config_parse_string("[repo tags.git]\nRW = alice\nRW+ refs/tags/r = alice\n",
				"tags.conf", &f->cfg, &(struct config_errors){0}),
	    0);
	f->ctx.repo = "tags.git";
	struct txn_ref *moved = add(f, A, B, "refs/tags/v1", A, "commit", CHECK_FF_YES);
	struct txn_ref *created = add(f, Z, B, "refs/tags/v2", Z, "commit", CHECK_FF_UNASKED);
	struct txn_ref *release = add(f, A, B, "refs/tags/r1", A, "commit", CHECK_FF_YES);
	struct txn_ref *branch = add(f, A, B, "refs/heads/main", A, "commit", CHECK_FF_YES);
	decide(f);
	assert_int_equal(moved->refusal, REFUSAL_RULE);
	assert_string_equal(moved->reason, "alice may not rewind refs/tags/v1");
	assert_int_equal(created->refusal, REFUSAL_NONE);
	assert_int_equal(release->refusal, REFUSAL_NONE);
	assert_int_equal(branch->refusal, REFUSAL_NONE);
}

static void test_reader_may_not_push(void **state)
{
	struct fixture *f = *state;
	f->ctx.user = "bob";
	struct txn_ref *ref = add(f, Z, B, "refs/heads/topic", Z, "commit", CHECK_FF_UNASKED);
	decide(f);
	assert_int_equal(ref->refusal, REFUSAL_RULE);
	assert_string_equal(ref->reason, "bob may not create refs/heads/topic");
}

static void test_moved_since_the_session_began(void **state)
{
	struct fixture *f = *state;
	struct journal_entry moved = {.old_id = A, .new_id = B, .ref = "refs/heads/topic"};
	f->changes = (struct journal_changes){.items = &moved, .count = 1};
	/* Whatever the session claims to have seen, and even if the repository holds it. */
	struct txn_ref *ref = add(f, B, A, "refs/heads/topic", B, "commit", CHECK_FF_UNASKED);
	decide(f);
	assert_int_equal(ref->refusal, REFUSAL_MOVED);
	assert_non_null(strstr(ref->reason, "moved while this push ran"));
	f->changes = (struct journal_changes){0};
}

static void test_old_value_no_longer_the_refs(void **state)
{
	struct fixture *f = *state;
	struct txn_ref *ref =
	    add(f, A, B, "refs/heads/topic", "3333333333333333333333333333333333333333", "commit",
		CHECK_FF_UNASKED);
	decide(f);
	assert_int_equal(ref->refusal, REFUSAL_MOVED);
}

static void test_facts_refuse(void **state)
{
	struct fixture *f = *state;
	struct txn_ref *missing = add(f, Z, B, "refs/heads/a", Z, NULL, CHECK_FF_UNASKED);
	struct txn_ref *blob = add(f, Z, B, "refs/heads/b", Z, "blob", CHECK_FF_UNASKED);
	struct txn_ref *tag = add(f, Z, B, "refs/tags/t", Z, "blob", CHECK_FF_UNASKED);
	struct txn_ref *name = add(f, Z, B, "refs/heads/bad..name", Z, "commit", CHECK_FF_UNASKED);
	f->facts.commands[3].name_valid = false;
	decide(f);
	assert_int_equal(missing->refusal, REFUSAL_MISSING);
	assert_int_equal(blob->refusal, REFUSAL_TYPE);
	assert_int_equal(tag->refusal, REFUSAL_NONE); /* a tag may name any object */
	assert_int_equal(name->refusal, REFUSAL_NAME);
}

static void test_bad_objects_refuse_everything(void **state)
{
	struct fixture *f = *state;
	struct txn_ref *a = add(f, Z, B, "refs/heads/a", Z, "commit", CHECK_FF_UNASKED);
	struct txn_ref *gone = add(f, A, Z, "refs/heads/gone", A, NULL, CHECK_FF_UNASKED);
	f->facts.objects_ok = false;
	snprintf(f->facts.objects_reason, sizeof(f->facts.objects_reason), "x is too big");
	decide(f);
	assert_int_equal(a->refusal, REFUSAL_OBJECTS);
	assert_string_equal(a->reason, "x is too big");
	assert_int_equal(gone->refusal, REFUSAL_OBJECTS);
}

static void test_symbolic_and_outside_refs(void **state)
{
	struct fixture *f = *state;
	struct txn_ref *sym = add(f, A, B, "refs/heads/master", A, "commit", CHECK_FF_YES);
	f->kind[0] = REF_SYMBOLIC;
	struct txn_ref *head = add(f, A, B, "HEAD", A, "commit", CHECK_FF_YES);
	decide(f);
	assert_int_equal(sym->refusal, REFUSAL_SYMBOLIC);
	assert_int_equal(head->refusal, REFUSAL_NAME);
}

/* A name git would not make is refused whatever the update, before anything asks the
 * verifier: a deletion and a no-op never reach it. */
static void test_names_git_would_not_make(void **state)
{
	struct fixture *f = *state;
	struct txn_ref *noop =
	    add(f, B, B, "refs/heads/feature/./x", B, "commit", CHECK_FF_UNASKED);
	struct txn_ref *gone = add(f, A, Z, "refs/heads/a..b", A, NULL, CHECK_FF_UNASKED);
	struct txn_ref *lock = add(f, Z, B, "refs/heads/x.lock", Z, "commit", CHECK_FF_UNASKED);
	struct txn_ref *fine =
	    add(f, Z, B, "refs/heads/feature/x-1_2@3", Z, "commit", CHECK_FF_UNASKED);
	decide(f);
	assert_int_equal(noop->refusal, REFUSAL_NAME);
	assert_false(noop->unchanged);
	assert_int_equal(gone->refusal, REFUSAL_NAME);
	assert_int_equal(lock->refusal, REFUSAL_NAME);
	assert_string_equal(lock->reason, "not a valid ref name");
	assert_int_equal(fine->refusal, REFUSAL_NONE);
	const char *bad[] = {"refs/heads/",	   "refs/heads/x.",	  "refs//x",
			     "refs/heads/a@{1}",   "refs/heads/a b",	  "refs/heads/a~1",
			     "refs/heads/a^",	   "refs/heads/a:b",	  "refs/heads/a?",
			     "refs/heads/a*",	   "refs/heads/[a",	  "refs/heads/a\\b",
			     "refs/heads/.hidden", "refs/heads/x.lock/y", "refs/heads/a\tb"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		struct txn_ref ref = {.ref = (char *)bad[i]};
		snprintf(ref.old_id, sizeof(ref.old_id), "%s", Z);
		snprintf(ref.new_id, sizeof(ref.new_id), "%s", B);
		decide_before(&f->ctx, &ref, 1);
		assert_int_equal(ref.refusal, REFUSAL_NAME);
	}
}

static void test_noop_is_unchanged_already_so_is_moved(void **state)
{
	struct fixture *f = *state;
	struct txn_ref *noop = add(f, B, B, "refs/heads/topic", B, "commit", CHECK_FF_UNASKED);
	/* The value wanted is there already, but not the one the session claims it saw: as git
	 * would, refuse it rather than report (and audit, and notify) a change that never was. */
	struct txn_ref *claimed = add(f, A, B, "refs/heads/other", B, "commit", CHECK_FF_UNASKED);
	decide(f);
	assert_int_equal(noop->refusal, REFUSAL_NONE);
	assert_true(noop->unchanged);
	assert_int_equal(claimed->refusal, REFUSAL_MOVED);
	assert_false(claimed->unchanged);
}

static void test_atomic_refuses_all(void **state)
{
	struct fixture *f = *state;
	struct txn_ref *good = add(f, Z, B, "refs/heads/a", Z, "commit", CHECK_FF_UNASKED);
	struct txn_ref *bad = add(f, Z, B, "refs/heads/b", Z, NULL, CHECK_FF_UNASKED);
	decide(f);
	decide_atomic(f->refs, f->count);
	assert_int_equal(bad->refusal, REFUSAL_MISSING);
	assert_int_equal(good->refusal, REFUSAL_ATOMIC);
	assert_string_equal(good->reason, "atomic push: refs/heads/b was refused");
	assert_int_equal(decide_verdict(good), AUDIT_REFUSED);
}

static void test_run_has_no_rules(void **state)
{
	struct fixture *f = *state;
	f->ctx.rules = false;
	f->ctx.user = NULL;
	struct txn_ref *rewind = add(f, A, B, "refs/heads/main", A, "commit", CHECK_FF_NO);
	decide(f);
	assert_int_equal(rewind->refusal, REFUSAL_NONE);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_create_update_delete_allowed),
	    T(test_protected_rewind_needs_the_ancestry),
	    T(test_protected_rewind_refused),
	    T(test_tag_update_is_a_rewind),
	    T(test_reader_may_not_push),
	    T(test_moved_since_the_session_began),
	    T(test_old_value_no_longer_the_refs),
	    T(test_facts_refuse),
	    T(test_bad_objects_refuse_everything),
	    T(test_symbolic_and_outside_refs),
	    T(test_names_git_would_not_make),
	    T(test_noop_is_unchanged_already_so_is_moved),
	    T(test_atomic_refuses_all),
	    T(test_run_has_no_rules),
	};
	return cmocka_run_group_tests_name("decide", tests, NULL, NULL);
}

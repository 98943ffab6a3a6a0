/* SPDX-License-Identifier: ISC */
/* Unit tests for src/common/acl.c, on configs parsed by src/common/config.c: groups, the
 * repository-level check, and gitolite's rule semantics on the cases its documentation
 * gives (rules.html, refs.html, wild.html). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/acl.h"

struct fixture {
	struct config cfg;
	struct config_errors errors;
};

static const char acl_config[] = "[group devs]\n"
				 "members = alice bob @ops\n"
				 "[group ops]\n"
				 "members = carol @oncall\n"
				 "[group oncall]\n"
				 "members = dave\n"
				 "[group loop-a]\n"
				 "members = erin @loop-b\n"
				 "[group loop-b]\n"
				 "members = @loop-c\n"
				 "[group loop-c]\n"
				 "members = @loop-a frank\n"
				 "[group self]\n"
				 "members = @self\n"
				 "[group everyone]\n"
				 "members = @all\n"
				 "[group empty]\n"
				 "\n"
				 "[repo demo.git]\n"
				 "read = @all\n"
				 "write = alice @devs\n"
				 "[repo private.git]\n"
				 "read = grace @loop-b\n"
				 "write = heidi\n"
				 "[repo cycle.git]\n"
				 "read = @self @loop-a\n"
				 "write = @loop-c\n"
				 "[repo nobody.git]\n"
				 "[repo everyone.git]\n"
				 "write = @everyone\n";

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	config_init(&f->cfg);
	size_t count = config_parse_string(acl_config, "acl.conf", &f->cfg, &f->errors);
	for (size_t i = 0; i < f->errors.count; i++)
		fprintf(stderr, "%s\n", f->errors.lines[i]);
	*state = f;
	return count == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	config_free(&f->cfg);
	config_errors_free(&f->errors);
	free(f);
	return 0;
}

enum question {
	ASK_READ,
	ASK_WRITE,
};
#define ACCESS_READ  ASK_READ
#define ACCESS_WRITE ASK_WRITE

/* The check before git runs, for a fetch (read) or a push (write). */
static bool allows(void **state, const char *path, const char *user, enum question access)
{
	struct fixture *f = *state;
	return acl_repo_allows(&f->cfg, path, NULL, user,
			       access == ACCESS_READ ? ACL_READ : ACL_WRITE, NULL);
}

static void test_direct_user(void **state)
{
	assert_true(allows(state, "private.git", "heidi", ACCESS_WRITE));
	assert_true(allows(state, "private.git", "grace", ACCESS_READ));
	assert_true(allows(state, "demo.git", "alice", ACCESS_WRITE));
}

static void test_read_only_user_may_not_write(void **state)
{
	assert_false(allows(state, "private.git", "grace", ACCESS_WRITE));
	assert_false(allows(state, "demo.git", "mallory", ACCESS_WRITE));
}

static void test_write_implies_read(void **state)
{
	assert_true(allows(state, "private.git", "heidi", ACCESS_READ));
}

static void test_group(void **state)
{
	assert_true(allows(state, "demo.git", "bob", ACCESS_WRITE));
	assert_true(allows(state, "demo.git", "bob", ACCESS_READ));
}

static void test_nested_groups(void **state)
{
	struct fixture *f = *state;
	/* devs -> ops -> oncall -> dave */
	assert_true(allows(state, "demo.git", "carol", ACCESS_WRITE));
	assert_true(allows(state, "demo.git", "dave", ACCESS_WRITE));
	assert_true(acl_in_group(&f->cfg, "devs", "dave"));
	assert_true(acl_in_group(&f->cfg, "ops", "dave"));
	assert_false(acl_in_group(&f->cfg, "ops", "alice")); /* membership goes one way only */
	assert_false(acl_in_group(&f->cfg, "oncall", "carol"));
}

/* loop-a -> loop-b -> loop-c -> loop-a, and self -> self: every query must end. */
static void test_group_cycles_terminate(void **state)
{
	struct fixture *f = *state;
	assert_true(acl_in_group(&f->cfg, "loop-a", "frank"));
	assert_true(acl_in_group(&f->cfg, "loop-b", "erin"));
	assert_true(acl_in_group(&f->cfg, "loop-c", "erin"));
	assert_false(acl_in_group(&f->cfg, "loop-a", "mallory"));
	assert_false(acl_in_group(&f->cfg, "self", "mallory"));
	assert_true(allows(state, "private.git", "frank", ACCESS_READ));
	assert_false(allows(state, "private.git", "frank", ACCESS_WRITE));
	assert_true(allows(state, "cycle.git", "erin", ACCESS_WRITE));
	assert_false(allows(state, "cycle.git", "mallory", ACCESS_READ));
	assert_false(allows(state, "cycle.git", "mallory", ACCESS_WRITE));
}

static void test_all(void **state)
{
	struct fixture *f = *state;
	assert_true(allows(state, "demo.git", "mallory", ACCESS_READ));
	assert_true(allows(state, "demo.git", "zed", ACCESS_READ));
	assert_true(acl_in_group(&f->cfg, "all", "zed"));
	/* @all inside a group counts too. */
	assert_true(acl_in_group(&f->cfg, "everyone", "zed"));
	assert_true(allows(state, "everyone.git", "zed", ACCESS_WRITE));
}

static void test_unknown_user_denied(void **state)
{
	assert_false(allows(state, "private.git", "mallory", ACCESS_READ));
	assert_false(allows(state, "private.git", "mallory", ACCESS_WRITE));
	assert_false(allows(state, "nobody.git", "alice", ACCESS_READ));
	assert_false(allows(state, "nobody.git", "alice", ACCESS_WRITE));
}

static void test_unlisted_repo_denied(void **state)
{
	struct fixture *f = *state;
	/* No rule for a repository: nobody reaches it, not even through @all elsewhere. */
	assert_false(acl_repo_allows(&f->cfg, "unlisted.git", NULL, "alice", ACL_READ, NULL));
	assert_false(acl_repo_allows(&f->cfg, NULL, NULL, "alice", ACL_READ, NULL));
	assert_false(acl_repo_allows(NULL, "demo.git", NULL, "alice", ACL_READ, NULL));
}

/* Names that are not users: none may ride on @all, or pose as a group. */
static void test_bad_user_names_denied(void **state)
{
	static const char *const names[] = {
	    "",		 "@all",    "@devs",  "@",	 "-alice", ".alice",
	    "alice bob", "alice\n", "al/ice", "CREATOR", "+alice", "al\033ice",
	};
	struct fixture *f = *state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (allows(state, "demo.git", names[i], ACCESS_READ) ||
		    allows(state, "demo.git", names[i], ACCESS_WRITE) ||
		    acl_in_group(&f->cfg, "all", names[i]) ||
		    acl_in_group(&f->cfg, "devs", names[i]))
			fail_msg("user name '%s' was allowed", names[i]);
	}
	assert_false(acl_repo_allows(&f->cfg, "demo.git", NULL, NULL, ACL_READ, NULL));
	assert_false(acl_in_group(&f->cfg, "devs", NULL));
}

static void test_bad_access_denied(void **state)
{
	struct fixture *f = *state;
	/* Only R and W are repository-level questions; anything else is refused. */
	assert_false(acl_repo_allows(&f->cfg, "demo.git", NULL, "alice", ACL_REWIND, NULL));
	assert_false(acl_repo_allows(&f->cfg, "demo.git", NULL, "alice", (enum acl_perm)7, NULL));
	assert_false(acl_check_ref(&f->cfg, "demo.git", NULL, "alice", (enum acl_perm)7,
				   "refs/heads/main", NULL));
	/* The publisher always knows the ref: "any" or none is not a question it may ask. */
	assert_false(acl_check_ref(&f->cfg, "demo.git", NULL, "alice", ACL_WRITE, "any", NULL));
	assert_false(acl_check_ref(&f->cfg, "demo.git", NULL, "alice", ACL_WRITE, NULL, NULL));
}

static void test_in_group_edge_cases(void **state)
{
	struct fixture *f = *state;
	assert_false(acl_in_group(&f->cfg, "nosuchgroup", "alice"));
	assert_false(acl_in_group(&f->cfg, "empty", "alice"));
	assert_false(acl_in_group(&f->cfg, "@devs", "alice")); /* a name, not a reference */
	assert_false(acl_in_group(&f->cfg, NULL, "alice"));
	assert_true(acl_in_group(NULL, "all", "alice"));
	assert_false(acl_in_group(NULL, "devs", "alice"));
}

/* A long chain of nested groups: searched without recursion, so the stack stays small. */
static void test_long_group_chain(void **state)
{
	enum { DEPTH = 2000 };
	(void)state;
	size_t size = DEPTH * 48 + 64;
	char *text = calloc(1, size);
	assert_non_null(text);
	size_t len = 0;
	for (int i = 0; i < DEPTH - 1; i++)
		len += (size_t)snprintf(text + len, size - len, "[group g%d]\nmembers = @g%d\n", i,
					i + 1);
	snprintf(text + len, size - len, "[group g%d]\nmembers = last\n", DEPTH - 1);

	struct config cfg;
	struct config_errors errors = {0};
	config_init(&cfg);
	size_t count = config_parse_string(text, "chain.conf", &cfg, &errors);
	free(text);
	bool deep = acl_in_group(&cfg, "g0", "last");
	bool stranger = acl_in_group(&cfg, "g0", "stranger");
	size_t groups = cfg.group_count;
	config_free(&cfg);
	config_errors_free(&errors);
	assert_int_equal(count, 0);
	assert_int_equal(groups, DEPTH);
	assert_true(deep);
	assert_false(stranger);
}

/* ---- gitolite's rules ---- */

/* One config per test, parsed without errors. */
static struct config *rules(const char *text)
{
	struct config *cfg = calloc(1, sizeof(*cfg));
	struct config_errors errors = {0};
	assert_non_null(cfg);
	config_init(cfg);
	size_t count = config_parse_string(text, "rules.conf", cfg, &errors);
	for (size_t i = 0; i < errors.count; i++)
		print_message("%s\n", errors.lines[i]);
	config_errors_free(&errors);
	assert_int_equal(count, 0);
	return cfg;
}

static void rules_free(struct config *cfg)
{
	config_free(cfg);
	free(cfg);
}

static bool may(const struct config *cfg, const char *repo, const char *user, char perm,
		const char *ref)
{
	return acl_check_ref(cfg, repo, NULL, user, (enum acl_perm)perm, ref, NULL);
}

/* A pattern section and an exact one both count, in file order, whichever comes first. */
static void test_accumulation(void **state)
{
	(void)state;
	struct config *cfg = rules("[group devs]\nmembers = alice\n"
				   "[repo team/*]\nRW+ = @devs\n"
				   "[repo team/tools.git]\nR = @all\nRW = bob\n"
				   "[repo ~team/t.*]\n- = carol\nRW = carol\n");
	assert_true(acl_repo_allows(cfg, "team/tools.git", NULL, "alice", ACL_WRITE, NULL));
	assert_true(may(cfg, "team/tools.git", "alice", '+', "refs/heads/main"));
	assert_true(acl_repo_allows(cfg, "team/tools.git", NULL, "zed", ACL_READ, NULL));
	assert_false(acl_repo_allows(cfg, "team/tools.git", NULL, "zed", ACL_WRITE, NULL));
	assert_true(may(cfg, "team/tools", "bob", 'W', "refs/heads/main"));
	assert_false(may(cfg, "team/tools", "bob", '+', "refs/heads/main"));
	/* carol: the deny rule of the regex section comes first for her. */
	assert_false(may(cfg, "team/tools", "carol", 'W', "refs/heads/main"));
	assert_true(acl_repo_allows(cfg, "team/tools", NULL, "carol", ACL_WRITE, NULL));
	/* The glob does not reach into subdirectories; other repositories see nothing. */
	assert_false(acl_repo_allows(cfg, "team/a/b.git", NULL, "alice", ACL_READ, NULL));
	assert_false(acl_repo_allows(cfg, "other.git", NULL, "alice", ACL_READ, NULL));
	rules_free(cfg);
}

/* "- master = @interns" before "RW = @interns": the first rule whose ref matches decides. */
static void test_deny_before_allow(void **state)
{
	(void)state;
	struct acl_decision why;
	struct config *cfg = rules("[group interns]\nmembers = ian\n"
				   "[repo foo]\n"
				   "RW+ = alice\n"		 /* 4 */
				   "- master = @interns alice\n" /* 5 */
				   "RW = @interns\n");		 /* 6 */
	assert_false(acl_check_ref(cfg, "foo", NULL, "ian", ACL_WRITE, "refs/heads/master", &why));
	assert_int_equal(why.line, 5);
	assert_string_equal(why.rule, "- master = @interns alice");
	assert_true(acl_check_ref(cfg, "foo", NULL, "ian", ACL_WRITE, "refs/heads/dev", &why));
	assert_int_equal(why.line, 6);
	/* Before the ref is known ("any"), deny rules are passed over: ian may push at all. */
	assert_true(acl_repo_allows(cfg, "foo", NULL, "ian", ACL_WRITE, &why));
	assert_int_equal(why.line, 6);
	/* alice's RW+ comes before the deny rule that names her. */
	assert_true(may(cfg, "foo", "alice", '+', "refs/heads/master"));
	/* The refex is anchored at the start only: master-2 is covered, x/master not. */
	assert_false(may(cfg, "foo", "ian", 'W', "refs/heads/master-2"));
	assert_true(may(cfg, "foo", "ian", 'W', "refs/heads/x/master"));
	rules_free(cfg);
}

/* RW allows fast-forwards only; without a D rule, deleting is a rewind. */
static void test_rw_against_rewind(void **state)
{
	(void)state;
	struct acl_decision why;
	struct config *cfg = rules("[repo foo]\nRW = bob\nRW+ dev/ = bob\n");
	assert_true(may(cfg, "foo", "bob", 'W', "refs/heads/main"));
	assert_false(acl_check_ref(cfg, "foo", NULL, "bob", ACL_REWIND, "refs/heads/main", &why));
	assert_null(why.file); /* RW matched but lacks '+': passed over, then nothing matched */
	assert_false(may(cfg, "foo", "bob", 'D', "refs/heads/main"));
	assert_true(may(cfg, "foo", "bob", 'C', "refs/heads/main")); /* no C rule: C is W */
	assert_true(may(cfg, "foo", "bob", '+', "refs/heads/dev/x"));
	assert_true(may(cfg, "foo", "bob", 'D', "refs/heads/dev/x"));
	rules_free(cfg);
}

/* Once a rule of a repository uses C (or D), creating (deleting) needs it, for everyone. */
static void test_rwc_rwd(void **state)
{
	(void)state;
	struct config *cfg = rules("[repo cd]\nRWC feature/ = carol\nRW+ = dave\nRWD = erin\n"
				   "[repo plain]\nRW+ = dave\n"
				   "[repo @all]\nR = @all\n");
	assert_true(may(cfg, "cd", "carol", 'C', "refs/heads/feature/x"));
	assert_false(may(cfg, "cd", "carol", 'C', "refs/heads/main"));
	assert_false(may(cfg, "cd", "dave", 'C', "refs/heads/feature/x"));
	assert_true(may(cfg, "cd", "dave", '+', "refs/heads/main"));
	assert_false(may(cfg, "cd", "dave", 'D', "refs/heads/main"));
	assert_true(may(cfg, "cd", "erin", 'D', "refs/heads/main"));
	assert_false(may(cfg, "cd", "erin", '+', "refs/heads/main"));
	assert_true(may(cfg, "cd", "erin", 'W', "refs/heads/main"));
	/* Where no rule uses C or D, RW+ creates and deletes. */
	assert_true(may(cfg, "plain", "dave", 'C', "refs/heads/new"));
	assert_true(may(cfg, "plain", "dave", 'D', "refs/heads/old"));
	/* [repo @all] reaches every repository. */
	assert_true(acl_repo_allows(cfg, "anything", NULL, "zed", ACL_READ, NULL));
	rules_free(cfg);
}

/* Wild repositories: C says who may create one, CREATOR is whoever did. */
static void test_creator(void **state)
{
	(void)state;
	struct acl_decision why;
	struct config *cfg = rules("[repo ~u/CREATOR/..*]\nC = @all\nRW+ = CREATOR\nR = @all\n"
				   "[repo ~shared/..*]\nC = alice\nRW+ = CREATOR\n");
	assert_true(acl_check_ref(cfg, "u/alice/x.git", "alice", "alice", ACL_REWIND,
				  "refs/heads/main", NULL));
	assert_false(acl_check_ref(cfg, "u/alice/x.git", "alice", "bob", ACL_WRITE,
				   "refs/heads/main", NULL));
	assert_true(acl_repo_allows(cfg, "u/alice/x.git", "alice", "bob", ACL_READ, NULL));
	/* A repository whose creator nobody recorded has no CREATOR; it does not match
	 * u/CREATOR/ either. */
	assert_false(acl_repo_allows(cfg, "u/alice/x.git", NULL, "alice", ACL_WRITE, NULL));
	/* Creating: CREATOR in the pattern is the user who asks. */
	assert_true(acl_may_create(cfg, "u/bob/new", "bob", &why));
	assert_int_equal(why.line, 2);
	assert_false(acl_may_create(cfg, "u/bob/new", "alice", NULL));
	assert_false(acl_may_create(cfg, "u/bob", "bob", NULL)); /* "..*": at least one char */
	assert_true(acl_may_create(cfg, "shared/x", "alice", NULL));
	assert_false(acl_may_create(cfg, "shared/x", "bob", NULL));
	assert_false(acl_may_create(cfg, "elsewhere", "alice", NULL));
	/* A missing repository answers nothing to those who may not create it. */
	struct acl_repo missing = {.name = "u/bob/new", .missing = true};
	assert_true(acl_check(cfg, &missing, "bob", ACL_READ, NULL, NULL));
	assert_false(acl_check(cfg, &missing, "alice", ACL_READ, NULL, NULL));
	/* CREATOR is a role, never a login. */
	assert_false(acl_check_ref(cfg, "u/CREATOR/x", "CREATOR", "CREATOR", ACL_WRITE,
				   "refs/heads/main", NULL));
	rules_free(cfg);
}

/* Deny rules apply to reads (the check before git runs) only with deny-rules = yes. */
static void test_read_deny(void **state)
{
	(void)state;
	struct acl_decision why;
	struct config *cfg = rules("[repo secret]\ndeny-rules = yes\n- = mallory\nR = @all\n"
				   "[repo open]\n- = mallory\nR = @all\n");
	assert_false(acl_repo_allows(cfg, "secret", NULL, "mallory", ACL_READ, &why));
	assert_int_equal(why.line, 3);
	assert_true(acl_repo_allows(cfg, "secret", NULL, "bob", ACL_READ, NULL));
	assert_true(acl_repo_allows(cfg, "open", NULL, "mallory", ACL_READ, NULL));
	rules_free(cfg);
}

/* read, write and protect: shorthand for R, RW+ and a veto on rewinds and deletions. */
static void test_shorthand_and_protect(void **state)
{
	(void)state;
	struct acl_decision why;
	char text[256];
	struct config *cfg = rules("[server]\nprotect = refs/tags/*\n"
				   "[repo demo]\nread = @all\nwrite = alice\n"
				   "protect = refs/heads/main refs/heads/release/*\n");
	assert_true(may(cfg, "demo", "alice", 'W', "refs/heads/main"));
	assert_false(
	    acl_check_ref(cfg, "demo", NULL, "alice", ACL_REWIND, "refs/heads/main", &why));
	assert_true(why.protect);
	assert_int_equal(why.line, 6);
	assert_string_equal(acl_describe(text, sizeof(text), &why),
			    "rules.conf:6: protected (no rewind, no deletion)");
	assert_false(may(cfg, "demo", "alice", 'D', "refs/heads/release/1/2"));
	assert_true(may(cfg, "demo", "alice", '+', "refs/heads/dev"));
	assert_true(may(cfg, "demo", "alice", '+', "refs/tags/v1")); /* overridden here */
	assert_false(may(cfg, "demo", "bob", 'W', "refs/heads/dev"));
	assert_true(acl_repo_allows(cfg, "demo", NULL, "bob", ACL_READ, NULL));
	rules_free(cfg);
}

/* /USER/ in a ref pattern is the user who asks. */
static void test_user_in_refex(void **state)
{
	(void)state;
	struct config *cfg = rules("[repo foo]\nRW+ personal/USER/ = @all\nR = @all\n");
	assert_true(may(cfg, "foo", "alice", '+', "refs/heads/personal/alice/x"));
	assert_false(may(cfg, "foo", "alice", '+', "refs/heads/personal/bob/x"));
	assert_true(may(cfg, "foo", "bob", 'W', "refs/heads/personal/bob/x"));
	/* The name is the name, not a pattern: al.ce is not alice, bob+git has its own. */
	assert_false(may(cfg, "foo", "al.ce", 'W', "refs/heads/personal/alice/x"));
	assert_true(may(cfg, "foo", "al.ce", 'W', "refs/heads/personal/al.ce/x"));
	assert_true(may(cfg, "foo", "bob+git", 'W', "refs/heads/personal/bob+git/x"));
	assert_false(may(cfg, "foo", "bob+git", 'W', "refs/heads/personal/bobbgit/x"));
	rules_free(cfg);
}

/* [repo @group]: the group's members name repositories, patterns included. */
static void test_repo_groups(void **state)
{
	(void)state;
	struct config *cfg = rules("[group webapps]\nmembers = app1 ~web/.* @more\n"
				   "[group more]\nmembers = app2.git\n"
				   "[repo @webapps]\nRW = alice\n");
	assert_true(acl_repo_allows(cfg, "app1.git", NULL, "alice", ACL_WRITE, NULL));
	assert_true(acl_repo_allows(cfg, "app2", NULL, "alice", ACL_WRITE, NULL));
	assert_true(acl_repo_allows(cfg, "web/shop.git", NULL, "alice", ACL_WRITE, NULL));
	assert_false(acl_repo_allows(cfg, "app3", NULL, "alice", ACL_READ, NULL));
	rules_free(cfg);
}

/* What a client and `gitcage access` are told. */
static void test_messages(void **state)
{
	(void)state;
	struct acl_decision why;
	char text[256];
	struct config *cfg = rules("[repo foo]\nRW+ = alice\n");
	assert_string_equal(
	    acl_refusal_message(text, sizeof(text), "bob", ACL_REWIND, "refs/heads/main"),
	    "bob may not rewind refs/heads/main");
	assert_string_equal(acl_refusal_message(text, sizeof(text), "bob", ACL_CREATE_REPO, NULL),
			    "bob may not create the repository");
	assert_true(acl_check_ref(cfg, "foo", NULL, "alice", ACL_DELETE, "refs/heads/x", &why));
	assert_string_equal(acl_describe(text, sizeof(text), &why), "rules.conf:2: RW+ = alice");
	assert_false(acl_check_ref(cfg, "foo", NULL, "bob", ACL_DELETE, "refs/heads/x", &why));
	assert_string_equal(acl_describe(text, sizeof(text), &why), "no rule matched");
	rules_free(cfg);
}

#define TEST(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    TEST(test_direct_user),
	    TEST(test_read_only_user_may_not_write),
	    TEST(test_write_implies_read),
	    TEST(test_group),
	    TEST(test_nested_groups),
	    TEST(test_group_cycles_terminate),
	    TEST(test_all),
	    TEST(test_unknown_user_denied),
	    TEST(test_unlisted_repo_denied),
	    TEST(test_bad_user_names_denied),
	    TEST(test_bad_access_denied),
	    TEST(test_in_group_edge_cases),
	    cmocka_unit_test(test_long_group_chain),
	    cmocka_unit_test(test_accumulation),
	    cmocka_unit_test(test_deny_before_allow),
	    cmocka_unit_test(test_rw_against_rewind),
	    cmocka_unit_test(test_rwc_rwd),
	    cmocka_unit_test(test_creator),
	    cmocka_unit_test(test_read_deny),
	    cmocka_unit_test(test_shorthand_and_protect),
	    cmocka_unit_test(test_user_in_refex),
	    cmocka_unit_test(test_repo_groups),
	    cmocka_unit_test(test_messages),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

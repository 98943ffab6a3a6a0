/* SPDX-License-Identifier: ISC */
/* Unit tests for src/acl.c, on configs parsed by src/config.c. */
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

static const struct repo_rule *rule(void **state, const char *path)
{
	struct fixture *f = *state;
	const struct repo_rule *found = config_find_repo(&f->cfg, path);
	assert_non_null(found);
	return found;
}

static bool allows(void **state, const char *path, const char *user, enum access access)
{
	struct fixture *f = *state;
	return acl_allows(&f->cfg, rule(state, path), user, access);
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

static void test_null_rule_denied(void **state)
{
	struct fixture *f = *state;
	assert_false(acl_allows(&f->cfg, NULL, "alice", ACCESS_READ));
	assert_false(acl_allows(&f->cfg, NULL, "alice", ACCESS_WRITE));
	/* No rule for a repository: nobody reaches it, not even through @all elsewhere. */
	assert_false(
	    acl_allows(&f->cfg, config_find_repo(&f->cfg, "unlisted.git"), "alice", ACCESS_READ));
}

/* Names that are not users: none may ride on @all, or pose as a group. */
static void test_bad_user_names_denied(void **state)
{
	static const char *const names[] = {
	    "", "@all", "@devs", "@", "-alice", ".alice", "alice bob", "alice\n", "al/ice",
	};
	struct fixture *f = *state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (allows(state, "demo.git", names[i], ACCESS_READ) ||
		    allows(state, "demo.git", names[i], ACCESS_WRITE) ||
		    acl_in_group(&f->cfg, "all", names[i]) ||
		    acl_in_group(&f->cfg, "devs", names[i]))
			fail_msg("user name '%s' was allowed", names[i]);
	}
	assert_false(acl_allows(&f->cfg, rule(state, "demo.git"), NULL, ACCESS_READ));
	assert_false(acl_in_group(&f->cfg, "devs", NULL));
}

static void test_bad_access_denied(void **state)
{
	assert_false(allows(state, "demo.git", "alice", (enum access)7));
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
	    TEST(test_null_rule_denied),
	    TEST(test_bad_user_names_denied),
	    TEST(test_bad_access_denied),
	    TEST(test_in_group_edge_cases),
	    cmocka_unit_test(test_long_group_chain),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

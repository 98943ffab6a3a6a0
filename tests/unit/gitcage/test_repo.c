/* SPDX-License-Identifier: ISC */
/* Unit tests for src/gitcage/repo.c: resolution beneath the root never follows a symlink or leaves
 * the root, and an unsafe layout is refused with a reason for the audit log. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "gitcage/repo.h"

static char base[64];
static char root[PATH_MAX];
static char outside[PATH_MAX];

static void sh(const char *fmt, ...)
{
	char command[4 * PATH_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(command, sizeof(command), fmt, ap);
	va_end(ap);
	assert_int_equal(system(command), 0);
}

/* A bare repository's skeleton, without git: HEAD, objects/, refs/, config, hooks/. */
static void make_bare(const char *relpath)
{
	sh("mkdir -p '%s/%s/objects/info' '%s/%s/refs/heads' '%s/%s/hooks' && "
	   "echo 'ref: refs/heads/main' > '%s/%s/HEAD' && : > '%s/%s/config'",
	   root, relpath, root, relpath, root, relpath, root, relpath, root, relpath);
}

static int setup(void **state)
{
	(void)state;
	snprintf(base, sizeof(base), "/tmp/gitcage-test-repo.XXXXXX");
	if (!mkdtemp(base))
		return -1;
	snprintf(root, sizeof(root), "%s/root", base);
	snprintf(outside, sizeof(outside), "%s/outside", base);
	sh("mkdir -p '%s' '%s'", root, outside);
	make_bare("demo.git");
	make_bare("team/tools.git");
	make_bare("plain");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sh("rm -rf '%s'", base);
	return 0;
}

/* Resolve path; returns repo_resolve's result and leaves the reason in err. */
static int resolve(const char *path, struct repo *repo, struct error *err)
{
	int root_fd = repo_open_root(root, err);
	assert_true(root_fd >= 0);
	int rc = repo_resolve(root_fd, root, path, getuid(), repo, err);
	close(root_fd);
	return rc;
}

static void expect_refused(const char *path, const char *reason_part)
{
	struct repo repo;
	struct error err = {""};
	assert_int_equal(resolve(path, &repo, &err), -1);
	if (!strstr(err.message, reason_part))
		fail_msg("'%s': expected a reason with '%s', got '%s'", path, reason_part,
			 err.message);
}

static void test_finds_name_dot_git(void **state)
{
	(void)state;
	struct repo repo;
	struct error err;
	assert_int_equal(resolve("demo", &repo, &err), 0);
	assert_string_equal(repo.relpath, "demo.git");
	char expected[PATH_MAX + 16];
	snprintf(expected, sizeof(expected), "%s/demo.git", root);
	assert_string_equal(repo.path, expected);
	repo_close(&repo);
	assert_int_equal(resolve("team/tools.git", &repo, &err), 0);
	assert_string_equal(repo.relpath, "team/tools.git");
	repo_close(&repo);
	assert_int_equal(resolve("plain", &repo, &err), 0);
	assert_string_equal(repo.relpath, "plain");
	repo_close(&repo);
}

static void test_missing(void **state)
{
	(void)state;
	expect_refused("nothing.git", "No such file");
}

static void test_symlinked_repository(void **state)
{
	(void)state;
	sh("ln -sfn demo.git '%s/link.git'", root);
	expect_refused("link.git", "cannot open");
	expect_refused("link", "cannot open");
}

static void test_symlink_in_the_middle(void **state)
{
	(void)state;
	sh("ln -sfn team '%s/alias'", root);
	expect_refused("alias/tools.git", "cannot open");
}

static void test_symlink_out_of_the_root(void **state)
{
	(void)state;
	sh("mkdir -p '%s/evil.git' && ln -sfn '%s/evil.git' '%s/away.git'", outside, outside, root);
	expect_refused("away.git", "cannot open");
}

static void test_commondir(void **state)
{
	(void)state;
	make_bare("common.git");
	sh("echo ../demo.git > '%s/common.git/commondir'", root);
	expect_refused("common.git", "commondir");
}

static void test_work_tree_and_gitfile(void **state)
{
	(void)state;
	sh("mkdir -p '%s/worktree/.git'", root);
	expect_refused("worktree", "not a bare repository");
	make_bare("gitfile.git");
	sh("echo 'gitdir: ../demo.git' > '%s/gitfile.git/.git'", root);
	expect_refused("gitfile.git", "not a bare repository");
}

static void test_symlinked_control_entries(void **state)
{
	(void)state;
	make_bare("hooks.git");
	sh("rm -rf '%s/hooks.git/hooks' && ln -s /tmp '%s/hooks.git/hooks'", root, root);
	expect_refused("hooks.git", "symlink");
	make_bare("objects.git");
	sh("rm -rf '%s/objects.git/objects' && ln -s ../demo.git/objects '%s/objects.git/objects'",
	   root, root);
	expect_refused("objects.git", "objects/");
	make_bare("config.git");
	sh("rm -f '%s/config.git/config' && ln -s /etc/passwd '%s/config.git/config'", root, root);
	expect_refused("config.git", "config");
	make_bare("head.git");
	sh("rm -f '%s/head.git/HEAD'", root);
	expect_refused("head.git", "HEAD");
}

static void test_alternates(void **state)
{
	(void)state;
	make_bare("inside.git");
	sh("echo '%s/demo.git/objects' > '%s/inside.git/objects/info/alternates'", root, root);
	struct repo repo;
	struct error err;
	assert_int_equal(resolve("inside.git", &repo, &err), 0);
	repo_close(&repo);
	make_bare("alien.git");
	sh("mkdir -p '%s/objects' && echo '%s/objects' > '%s/alien.git/objects/info/alternates'",
	   outside, outside, root);
	expect_refused("alien.git", "alternates");
	make_bare("relative.git");
	sh("echo '../../demo.git/objects' > '%s/relative.git/objects/info/alternates'", root);
	expect_refused("relative.git", "alternates");
}

static void test_owner(void **state)
{
	(void)state;
	int root_fd = repo_open_root(root, NULL);
	struct repo repo;
	struct error err = {""};
	assert_int_equal(repo_resolve(root_fd, root, "demo.git", getuid() + 1, &repo, &err), -1);
	assert_non_null(strstr(err.message, "not by the service account"));
	close(root_fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_finds_name_dot_git),
	    cmocka_unit_test(test_missing),
	    cmocka_unit_test(test_symlinked_repository),
	    cmocka_unit_test(test_symlink_in_the_middle),
	    cmocka_unit_test(test_symlink_out_of_the_root),
	    cmocka_unit_test(test_commondir),
	    cmocka_unit_test(test_work_tree_and_gitfile),
	    cmocka_unit_test(test_symlinked_control_entries),
	    cmocka_unit_test(test_alternates),
	    cmocka_unit_test(test_owner),
	};
	return cmocka_run_group_tests_name("repo", tests, setup, teardown);
}

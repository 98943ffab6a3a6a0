/* SPDX-License-Identifier: ISC */
/* src/sandbox/cgroup.c on a fake cgroup tree: a directory laid out like cgroupfs, with the
 * files the kernel would show. These machines have no cgroup v2 controllers delegated to
 * anyone (memory and pids sit on cgroup v1, held by the host), so this is all that can run
 * here; README, "Limits", says what was and was not exercised. */
#include <errno.h>
#include <fcntl.h>
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

#include "sandbox/cgroup.h"

struct fixture {
	char dir[64];
	int fd;
	struct limits limits;
};

static void put(int dirfd, const char *name, const char *text)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void get(int dirfd, const char *name, char *buf, size_t size)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	ssize_t n = read(fd, buf, size - 1);
	assert_true(n >= 0);
	buf[n] = '\0';
	close(fd);
}

/* A delegated directory as the kernel shows it: controllers available, none enabled. */
static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/gitcage-cgroup.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	f->fd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	put(f->fd, "cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
	put(f->fd, "cgroup.subtree_control", "");
	f->limits = (struct limits){.memory = 64ULL << 20, .processes = 32};
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char command[128];
	close(f->fd);
	snprintf(command, sizeof(command), "rm -rf '%s'", f->dir);
	if (system(command) != 0)
		return -1;
	free(f);
	return 0;
}

static void test_enables_memory_and_pids(void **state)
{
	struct fixture *f = *state;
	struct error err;
	char text[128];
	assert_int_equal(cgroup_enable_controllers(f->fd, f->dir, &err), 0);
	get(f->fd, "cgroup.subtree_control", text, sizeof(text));
	assert_string_equal(text, "+memory +pids");
}

/* Already enabled (the kernel reads them back without '+'): nothing is written. */
static void test_leaves_enabled_controllers_alone(void **state)
{
	struct fixture *f = *state;
	struct error err;
	char text[128];
	put(f->fd, "cgroup.subtree_control", "cpu memory pids\n");
	assert_int_equal(cgroup_enable_controllers(f->fd, f->dir, &err), 0);
	get(f->fd, "cgroup.subtree_control", text, sizeof(text));
	assert_string_equal(text, "cpu memory pids\n");
}

static void test_refuses_without_delegated_controllers(void **state)
{
	struct fixture *f = *state;
	struct error err;
	char expected[256];
	/* "pids_extra" is not "pids": whole words only. */
	put(f->fd, "cgroup.controllers", "cpu memory pids_extra\n");
	assert_int_equal(cgroup_enable_controllers(f->fd, f->dir, &err), -1);
	snprintf(expected, sizeof(expected),
		 "%s: the memory and pids controllers are not delegated here "
		 "(cgroup.controllers: cpu memory pids_extra)",
		 f->dir);
	assert_string_equal(err.message, expected);
	put(f->fd, "cgroup.controllers", "");
	assert_int_equal(cgroup_enable_controllers(f->fd, f->dir, &err), -1);
	assert_non_null(strstr(err.message, "(cgroup.controllers: none)"));
}

/* A leaf as mkdir makes it on cgroupfs: the interface files exist. */
static int fake_leaf(struct fixture *f, const char *name, int with_swap)
{
	assert_int_equal(mkdirat(f->fd, name, 0755), 0);
	int leaf = openat(f->fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	put(leaf, "memory.max", "max\n");
	put(leaf, "pids.max", "max\n");
	if (with_swap)
		put(leaf, "memory.swap.max", "max\n");
	return leaf;
}

static void test_sets_the_session_limits(void **state)
{
	struct fixture *f = *state;
	struct error err;
	char text[64];
	int leaf = fake_leaf(f, "session-1", 1);
	assert_int_equal(cgroup_set_limits(leaf, &f->limits, &err), 0);
	get(leaf, "memory.max", text, sizeof(text));
	assert_string_equal(text, "67108864");
	get(leaf, "memory.swap.max", text, sizeof(text));
	assert_string_equal(text, "0"); /* tmpfs pages stay in memory, and in the count */
	get(leaf, "pids.max", text, sizeof(text));
	assert_string_equal(text, "32");
	close(leaf);
}

/* Without swap accounting there is no memory.swap.max, and nothing to close. */
static void test_no_swap_accounting_is_fine(void **state)
{
	struct fixture *f = *state;
	struct error err;
	int leaf = fake_leaf(f, "session-2", 0);
	assert_int_equal(cgroup_set_limits(leaf, &f->limits, &err), 0);
	assert_int_equal(faccessat(leaf, "memory.swap.max", F_OK, 0), -1);
	close(leaf);
}

/* memory not enabled for the children: no memory.max, and the session must not start
 * believing it is bounded. */
static void test_missing_memory_max_is_an_error(void **state)
{
	struct fixture *f = *state;
	struct error err;
	assert_int_equal(mkdirat(f->fd, "session-3", 0755), 0);
	int leaf = openat(f->fd, "session-3", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_int_equal(cgroup_set_limits(leaf, &f->limits, &err), -1);
	assert_string_equal(err.message, "cannot set memory.max: No such file or directory");
	close(leaf);
}

/* Empty leaves of earlier sessions go; one still in use (here: not empty) and directories
 * that are not ours stay. */
static void test_sweep_removes_only_empty_session_leaves(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(mkdirat(f->fd, "session-10-1", 0755), 0);
	close(fake_leaf(f, "session-11-1", 0));
	assert_int_equal(mkdirat(f->fd, "other", 0755), 0);
	put(f->fd, "session-file", "");
	assert_int_equal(cgroup_sweep(f->fd), 1);
	assert_int_equal(faccessat(f->fd, "session-10-1", F_OK, 0), -1);
	assert_int_equal(faccessat(f->fd, "session-11-1", F_OK, 0), 0);
	assert_int_equal(faccessat(f->fd, "other", F_OK, 0), 0);
}

static void test_oom_kills_are_read(void **state)
{
	struct fixture *f = *state;
	struct cgroup_leaf leaf = {.fd = fake_leaf(f, "session-4", 0), .parent_fd = -1};
	put(leaf.fd, "memory.events",
	    "low 0\nhigh 0\nmax 7\noom 2\noom_kill 2\noom_group_kill 0\n");
	assert_int_equal(cgroup_leaf_oom_kills(&leaf), 2);
	put(leaf.fd, "memory.events", "low 0\n");
	assert_int_equal(cgroup_leaf_oom_kills(&leaf), 0);
	close(leaf.fd);
}

/* The whole step refuses a directory that is not on cgroup2: the fake tree is on /tmp. */
static void test_create_refuses_what_is_not_cgroup2(void **state)
{
	struct fixture *f = *state;
	struct cgroup_leaf leaf;
	struct error err;
	char expected[160];
	assert_int_equal(cgroup_leaf_create(f->dir, &f->limits, &leaf, &err), -1);
	snprintf(expected, sizeof(expected), "[limits] cgroup %s is not a cgroup v2 directory",
		 f->dir);
	assert_string_equal(err.message, expected);
	assert_int_equal(leaf.fd, -1);
	assert_int_equal(leaf.parent_fd, -1);
}

#define TEST(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    TEST(test_enables_memory_and_pids),
	    TEST(test_leaves_enabled_controllers_alone),
	    TEST(test_refuses_without_delegated_controllers),
	    TEST(test_sets_the_session_limits),
	    TEST(test_no_swap_accounting_is_fine),
	    TEST(test_missing_memory_max_is_an_error),
	    TEST(test_sweep_removes_only_empty_session_leaves),
	    TEST(test_oom_kills_are_read),
	    TEST(test_create_refuses_what_is_not_cgroup2),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

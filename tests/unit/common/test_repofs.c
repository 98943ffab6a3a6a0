/* SPDX-License-Identifier: ISC */
/* Unit tests for src/common/repofs.c: after a push the repository's content is hostile, so every
 * open, read, write and removal beneath its fd refuses a symlink anywhere on the way and the
 * escape from the fd, and a planted link is replaced or removed, never written through. */
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

#include "common/repofs.h"
#include "common/util.h"

/* A private directory: repo/ (its fd is what the tests work beneath) and outside/. */
struct tree {
	char root[64];
	int repo_fd;
};

static void run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void run(const char *fmt, ...)
{
	char command[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(command, sizeof(command), fmt, ap);
	va_end(ap);
	assert_int_equal(system(command), 0);
}

static int tree_setup(void **state)
{
	struct tree *t = calloc(1, sizeof(*t));
	snprintf(t->root, sizeof(t->root), "/tmp/gitcage-repofs-XXXXXX");
	if (!mkdtemp(t->root))
		return -1;
	run("cd %s && mkdir -p repo/refs/heads outside && echo secret >outside/secret && "
	    "echo main >repo/refs/heads/main && ln -s ../outside repo/refs/link && "
	    "ln -s ../../outside/secret repo/refs/heads/to-secret && mkfifo repo/fifo",
	    t->root);
	char repo[128];
	snprintf(repo, sizeof(repo), "%s/repo", t->root);
	t->repo_fd = open(repo, O_PATH | O_DIRECTORY | O_CLOEXEC);
	*state = t;
	return t->repo_fd < 0 ? -1 : 0;
}

static int tree_teardown(void **state)
{
	struct tree *t = *state;
	close(t->repo_fd);
	run("rm -rf %s", t->root);
	free(t);
	return 0;
}

static void test_open_beneath(void **state)
{
	struct tree *t = *state;
	int fd = repofs_open_beneath(t->repo_fd, "refs/heads/main", O_RDONLY, 0);
	assert_true(fd >= 0);
	close(fd);
	errno = 0;
	assert_int_equal(repofs_open_beneath(t->repo_fd, "../outside/secret", O_RDONLY, 0), -1);
	assert_int_equal(errno, EXDEV);
	assert_int_equal(repofs_open_beneath(t->repo_fd, "/etc/passwd", O_RDONLY, 0), -1);
	assert_int_equal(errno, EXDEV);
	assert_int_equal(repofs_open_beneath(t->repo_fd, "refs/link/secret", O_RDONLY, 0), -1);
	assert_int_equal(errno, ELOOP); /* a link in the middle */
	assert_int_equal(repofs_open_beneath(t->repo_fd, "refs/heads/to-secret", O_RDONLY, 0), -1);
	assert_int_equal(errno, ELOOP); /* a link at the end */
	/* With O_PATH a trailing link is opened itself, to be looked at. */
	fd = repofs_open_beneath(t->repo_fd, "refs/heads/to-secret", O_PATH, 0);
	assert_true(fd >= 0);
	struct stat st;
	assert_int_equal(fstatat(fd, "", &st, AT_EMPTY_PATH), 0);
	assert_true(S_ISLNK(st.st_mode));
	close(fd);
	assert_int_equal(repofs_open_beneath(t->repo_fd, "/proc/self/root/etc", O_PATH, 0), -1);
}

static void test_read(void **state)
{
	struct tree *t = *state;
	char *data;
	size_t len;
	assert_int_equal(repofs_read(t->repo_fd, "refs/heads/main", 4096, &data, &len), 0);
	assert_int_equal(len, 5);
	assert_string_equal(data, "main\n");
	free(data);
	assert_int_equal(repofs_read(t->repo_fd, "refs/heads/main", 4, &data, &len), -1);
	assert_int_equal(errno, EFBIG);
	assert_int_equal(repofs_read(t->repo_fd, "refs/heads/to-secret", 4096, &data, &len), -1);
	assert_int_equal(errno, ELOOP);
	assert_int_equal(repofs_read(t->repo_fd, "refs", 4096, &data, &len), -1);
	assert_int_equal(errno, EINVAL); /* a directory */
	assert_int_equal(repofs_read(t->repo_fd, "fifo", 4096, &data, &len), -1);
	assert_int_equal(errno, EINVAL); /* a FIFO: opened without blocking, then refused */
	assert_int_equal(repofs_read(t->repo_fd, "refs/heads/gone", 4096, &data, &len), -1);
	assert_int_equal(errno, ENOENT);
}

/* A link planted where a file is written is replaced, not written through. */
static void test_replace_a_link(void **state)
{
	struct tree *t = *state;
	char *data;
	size_t len;
	assert_int_equal(repofs_replace(t->repo_fd, "refs/heads/to-secret", "new\n", 4, 0644), 0);
	assert_int_equal(repofs_read(t->repo_fd, "refs/heads/to-secret", 4096, &data, &len), 0);
	assert_string_equal(data, "new\n");
	free(data);
	char secret[128];
	snprintf(secret, sizeof(secret), "%s/outside/secret", t->root);
	int fd = open(secret, O_RDONLY);
	char buf[16] = "";
	assert_int_equal(read(fd, buf, sizeof(buf) - 1), 7);
	assert_string_equal(buf, "secret\n");
	close(fd);
	/* Through a link in the middle: refused, and nothing written outside. */
	assert_int_equal(repofs_replace(t->repo_fd, "refs/link/planted", "x", 1, 0644), -1);
	snprintf(secret, sizeof(secret), "%s/outside/planted", t->root);
	assert_int_equal(access(secret, F_OK), -1);
}

static void test_make_parents(void **state)
{
	struct tree *t = *state;
	struct repofs_stamp stamp;
	assert_int_equal(repofs_make_parents(t->repo_fd, "refs/heads/a/b/c"), 0);
	assert_int_equal(repofs_stamp(t->repo_fd, "refs/heads/a/b", &stamp), 0);
	assert_true(stamp.exists && S_ISDIR(stamp.mode));
	assert_int_equal(repofs_make_parents(t->repo_fd, "refs/heads/main/x"), -1);
	assert_int_equal(errno, ENOTDIR); /* a file on the way */
	assert_int_equal(repofs_make_parents(t->repo_fd, "refs/link/x/y"), -1);
}

/* Removal of a deep tree with a link in it: the link goes, what it points at stays. */
static void test_remove(void **state)
{
	struct tree *t = *state;
	struct repofs_stamp stamp;
	char deep[2048] = "deep";
	for (int i = 0; i < 200; i++)
		strcat(deep, "/d");
	assert_int_equal(repofs_make_parents(t->repo_fd, deep), 0);
	run("ln -s %s/outside %s/repo/deep/d/escape", t->root, t->root);
	assert_int_equal(repofs_remove(t->repo_fd, "deep"), 0);
	assert_int_equal(repofs_stamp(t->repo_fd, "deep", &stamp), 0);
	assert_false(stamp.exists);
	assert_int_equal(repofs_remove(t->repo_fd, "refs/link"), 0);
	char secret[128];
	snprintf(secret, sizeof(secret), "%s/outside/secret", t->root);
	assert_int_equal(access(secret, F_OK), 0);
	assert_int_equal(repofs_remove(t->repo_fd, "not-there"), 0);
}

struct seen {
	int files, dirs, links;
};

static int count(const char *path, mode_t type, int parent_fd, const char *name, void *payload)
{
	struct seen *seen = payload;
	(void)path, (void)parent_fd, (void)name;
	seen->files += type == S_IFREG;
	seen->dirs += type == S_IFDIR;
	seen->links += type == S_IFLNK;
	return 0;
}

static void test_walk_never_enters_a_link(void **state)
{
	struct tree *t = *state;
	struct seen seen = {0};
	assert_int_equal(repofs_walk(t->repo_fd, "refs", count, &seen), 0);
	assert_int_equal(seen.files, 1); /* refs/heads/main, not outside/secret */
	assert_int_equal(seen.dirs, 1);	 /* refs/heads */
	assert_int_equal(seen.links, 2);
	struct seen none = {0};
	assert_int_equal(repofs_walk(t->repo_fd, "missing", count, &none), 0);
	assert_int_equal(none.files + none.dirs + none.links, 0);
}

static void test_stamps(void **state)
{
	struct tree *t = *state;
	struct repofs_stamp before, after, link;
	assert_int_equal(repofs_stamp(t->repo_fd, "refs/heads/main", &before), 0);
	assert_int_equal(repofs_stamp(t->repo_fd, "refs/heads/main", &after), 0);
	assert_true(repofs_stamp_equal(&before, &after));
	assert_int_equal(repofs_replace(t->repo_fd, "refs/heads/main", "main\n", 5, 0644), 0);
	assert_int_equal(repofs_stamp(t->repo_fd, "refs/heads/main", &after), 0);
	assert_false(repofs_stamp_equal(&before, &after)); /* same bytes, another file */
	assert_true(repofs_changed_since(&after, before.ctime_sec, before.ctime_nsec));
	assert_int_equal(repofs_stamp(t->repo_fd, "refs/heads/to-secret", &link), 0);
	assert_true(S_ISLNK(link.mode)); /* the link's own stamp */
}

int main(void)
{
#define TEST(name) cmocka_unit_test_setup_teardown(name, tree_setup, tree_teardown)
	const struct CMUnitTest tests[] = {
	    TEST(test_open_beneath), TEST(test_read),	TEST(test_replace_a_link),
	    TEST(test_make_parents), TEST(test_remove), TEST(test_walk_never_enters_a_link),
	    TEST(test_stamps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: ISC */
/* Unit tests for src/txn/journal.c and state.c: what a session learns of what was published
 * since it began, across a rotation, in a real state directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/repofs.h"
#include "txn/journal.h"
#include "txn/session.h"
#include "txn/state.h"

#define A "1111111111111111111111111111111111111111"
#define B "2222222222222222222222222222222222222222"
#define C "3333333333333333333333333333333333333333"

struct fixture {
	char dir[64], state_path[128];
	struct state state;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct error err;
	snprintf(f->dir, sizeof(f->dir), "/tmp/gitcage-test-journal.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->state_path, sizeof(f->state_path), "%s/state", f->dir);
	assert_int_equal(state_open(f->state_path, &f->state, &err), 0);
	journal_rotate_bytes = 64 << 10; /* the same rotation, sooner */
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	state_close(&f->state);
	int tmp = open("/tmp", O_PATH | O_DIRECTORY); /* repofs resolves beneath a directory */
	assert_int_equal(repofs_remove(tmp, f->dir + strlen("/tmp/")), 0);
	close(tmp);
	free(f);
	return 0;
}

static void append(struct fixture *f, const char *old_id, const char *new_id, const char *ref)
{
	struct journal_entry e = {.ref = ref};
	struct error err;
	memcpy(e.old_id, old_id, sizeof(e.old_id));
	memcpy(e.new_id, new_id, sizeof(e.new_id));
	assert_int_equal(journal_append(&f->state, "key", &e, 1, &err), 0);
}

static void test_changes_since_the_mark_keep_the_first_old_value(void **state)
{
	struct fixture *f = *state;
	struct journal_mark mark;
	struct journal_changes changes;
	struct error err;
	append(f, A, B, "refs/heads/before");
	assert_int_equal(journal_mark(&f->state, "key", &mark, &err), 0);
	append(f, A, B, "refs/heads/main");
	append(f, B, C, "refs/heads/main");
	assert_int_equal(journal_since(&f->state, "key", &mark, &changes, &err), 0);
	assert_false(changes.lost);
	assert_int_equal(changes.count, 1);
	assert_string_equal(changes.items[0].old_id, A); /* what it was at the mark */
	assert_null(journal_find(&changes, "refs/heads/before"));
	journal_changes_free(&changes);
}

/* Appends until the journal is rotated (it has a new inode). */
static void fill_until_rotated(struct fixture *f)
{
	struct journal_mark before, now;
	struct error err;
	assert_int_equal(journal_mark(&f->state, "key", &before, &err), 0);
	for (int i = 0;; i++) {
		append(f, A, B, "refs/tags/filler");
		assert_int_equal(journal_mark(&f->state, "key", &now, &err), 0);
		if (strcmp(now.generation, before.generation) != 0)
			return;
		assert_true(i < 100000);
	}
}

static void test_rotation_once_is_followed_twice_is_lost(void **state)
{
	struct fixture *f = *state;
	struct journal_mark mark;
	struct journal_changes changes;
	struct error err;
	assert_int_equal(journal_mark(&f->state, "key", &mark, &err), 0);
	append(f, A, B, "refs/heads/early");
	fill_until_rotated(f);
	append(f, B, C, "refs/heads/late");
	assert_int_equal(journal_since(&f->state, "key", &mark, &changes, &err), 0);
	assert_false(changes.lost);
	assert_non_null(journal_find(&changes, "refs/heads/early")); /* from KEY.journal.1 */
	assert_non_null(journal_find(&changes, "refs/heads/late"));
	journal_changes_free(&changes);
	fill_until_rotated(f);
	assert_int_equal(journal_since(&f->state, "key", &mark, &changes, &err), 0);
	assert_true(changes.lost); /* everything counts as moved: no stale view can be kept */
	journal_changes_free(&changes);
}

static void test_torn_and_foreign_lines_skipped(void **state)
{
	(void)state;
	static const char text[] =
	    "garbage\n" A " " B " refs/heads/ok\n" A " " B " refs/heads/torn";
	struct journal_changes changes = {0};
	journal_parse(text, sizeof(text) - 1, &changes);
	assert_int_equal(changes.count, 1);
	assert_string_equal(changes.items[0].ref, "refs/heads/ok");
	journal_changes_free(&changes);
}

static void test_lock_excludes_and_times_out(void **state)
{
	struct fixture *f = *state;
	struct error err = {""};
	int held = journal_lock(&f->state, "key", LOCK_EX, 1000, &err);
	assert_true(held >= 0);
	pid_t child = fork();
	if (child == 0) {
		struct error e;
		_exit(journal_lock(&f->state, "key", LOCK_EX, 100, &e) < 0 &&
			      strstr(e.message, "busy")
			  ? 0
			  : 1);
	}
	int status;
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_int_equal(WEXITSTATUS(status), 0);
	close(held);
}

static void test_state_directory_must_be_private(void **state)
{
	struct fixture *f = *state;
	char open_dir[160];
	struct state other;
	struct error err = {""};
	snprintf(open_dir, sizeof(open_dir), "%s/open", f->dir);
	assert_int_equal(mkdir(open_dir, 0777), 0);
	assert_int_equal(chmod(open_dir, 0777), 0);
	assert_int_equal(state_open(open_dir, &other, &err), -1);
	assert_non_null(strstr(err.message, "writable by nobody else"));
	snprintf(open_dir, sizeof(open_dir), "%s/link", f->dir);
	assert_int_equal(symlink(f->state_path, open_dir), 0);
	assert_int_equal(state_open(open_dir, &other, &err), -1);
}

static void test_stale_sessions_swept_live_ones_kept(void **state)
{
	struct fixture *f = *state;
	struct session live, dead;
	struct error err;
	struct stat st;
	assert_int_equal(session_begin(&f->state, "key", &live, &err), 0);
	pid_t child = fork();
	if (child == 0)
		_exit(session_begin(&f->state, "key", &dead, &err) == 0 ? 0
									: 1); /* dies holding it */
	int status;
	waitpid(child, &status, 0);
	assert_int_equal(WEXITSTATUS(status), 0);
	session_sweep(&f->state);
	assert_int_equal(fstatat(f->state.sessions_fd, live.name, &st, 0), 0);
	int entries = 0;
	DIR *d = fdopendir(dup(f->state.sessions_fd));
	for (struct dirent *e; (e = readdir(d));)
		entries += e->d_name[0] != '.';
	closedir(d);
	assert_int_equal(entries, 1);
	session_end(&live);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_changes_since_the_mark_keep_the_first_old_value),
	    T(test_rotation_once_is_followed_twice_is_lost),
	    cmocka_unit_test(test_torn_and_foreign_lines_skipped),
	    T(test_lock_excludes_and_times_out),
	    T(test_state_directory_must_be_private),
	    T(test_stale_sessions_swept_live_ones_kept),
	};
	return cmocka_run_group_tests_name("journal", tests, NULL, NULL);
}

/* SPDX-License-Identifier: ISC */
/* Unit tests of the repository guard (src/snapshot.c, changes*.c, verify.c, rollback.c): a
 * repository prepared with the git CLI, a snapshot, then an honest write or one damage, then
 * the same pipeline gitcage-guard runs. Each test checks the verdict and that the repository
 * is back where it must be, and that no repair wrote through a planted link. */
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/changes.h"
#include "guard/gitconfig.h"
#include "common/snapshot.h"
#include "guard/verify.h"

#define MISSING "1234567890123456789012345678901234567890"

struct fixture {
	char dir[128];
	char repo[PATH_MAX];
	int repo_fd;
	struct snapshot snapshot;
	struct changes changes;
	char main_before[64];
};

/* Run a shell command in the fixture's directory; returns its exit status. */
static int sh(const struct fixture *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int sh(const struct fixture *f, const char *fmt, ...)
{
	char command[8192];
	va_list ap;
	int len = snprintf(command, sizeof(command), "cd '%s' && { ", f->dir);
	va_start(ap, fmt);
	len += vsnprintf(command + len, sizeof(command) - (size_t)len, fmt, ap);
	va_end(ap);
	snprintf(command + len, sizeof(command) - (size_t)len, "; } >/dev/null 2>&1");
	int status = system(command);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The first line a shell command prints, in the fixture's directory. */
static void sh_out(const struct fixture *f, char *buf, size_t size, const char *command)
{
	char full[8192];
	snprintf(full, sizeof(full), "cd '%s' && %s 2>/dev/null", f->dir, command);
	FILE *pipe = popen(full, "r");
	assert_non_null(pipe);
	if (!fgets(buf, (int)size, pipe))
		buf[0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	pclose(pipe);
}

static void main_now(const struct fixture *f, char *buf, size_t size)
{
	sh_out(f, buf, size, "git -C repo.git rev-parse --verify -q refs/heads/main");
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/gitcage-test-verify.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->repo, sizeof(f->repo), "%s/repo.git", f->dir);
	assert_int_equal(
	    sh(f, "git init -q --bare -b main repo.git && git init -q -b main work && "
		  "cd work && echo one >file && git add file && git commit -q -m one && "
		  "echo two >>file && git commit -q -am two && git push -q ../repo.git main"),
	    0);
	f->repo_fd = open(f->repo, O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_true(f->repo_fd >= 0);
	main_now(f, f->main_before, sizeof(f->main_before));
	assert_int_equal(strlen(f->main_before), 40);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	changes_free(&f->changes);
	snapshot_free(&f->snapshot);
	close(f->repo_fd);
	sh(f, "chmod -R u+rwx . ; rm -rf '%s'", f->dir);
	free(f);
	return 0;
}

static void take_snapshot(struct fixture *f)
{
	struct error err;
	if (snapshot_take(f->repo_fd, &f->snapshot, &err) != 0)
		fail_msg("snapshot: %s", err.message);
}

/* The guard's pipeline, as gitcage-guard runs it, with or without branch protection. */
static int guard_with(struct fixture *f, const struct policy *policy)
{
	struct error err;
	return verify_write(f->repo_fd, &f->snapshot, policy, &f->changes, NULL, &err);
}

static int guard(struct fixture *f)
{
	return guard_with(f, NULL);
}

static char *protected_patterns[] = {"refs/heads/main", "refs/tags/*"};
static const struct words protected_words = {protected_patterns, 2};
static const struct policy protect_main = {.protect = &protected_words};

static const struct ref_change *change_of(const struct fixture *f, const char *name)
{
	for (size_t i = 0; i < f->changes.ref_count; i++)
		if (strcmp(f->changes.refs[i].name, name) == 0)
			return &f->changes.refs[i];
	return NULL;
}

static void assert_main_is(const struct fixture *f, const char *expected)
{
	char now[64];
	main_now(f, now, sizeof(now));
	assert_string_equal(now, expected);
}

static void assert_fsck_clean(const struct fixture *f)
{
	assert_int_equal(sh(f, "git -C repo.git fsck --strict --no-dangling"), 0);
}

static void push_honest_commit(struct fixture *f, char *new_main, size_t size)
{
	assert_int_equal(sh(f, "cd work && echo three >>file && git commit -q -am three && "
			       "git push -q ../repo.git main"),
			 0);
	main_now(f, new_main, size);
}

/* ---- protected refs, enforced after git whoever moved them ---- */

static void protected_fast_forward_is_accepted(void **state)
{
	struct fixture *f = *state;
	char pushed[64];
	take_snapshot(f);
	push_honest_commit(f, pushed, sizeof(pushed));
	assert_int_equal(guard_with(f, &protect_main), 0);
	assert_null(change_of(f, "refs/heads/main")->failure);
	assert_main_is(f, pushed);
}

static void protected_rewind_is_restored(void **state)
{
	struct fixture *f = *state;
	take_snapshot(f);
	assert_int_equal(sh(f, "git -C repo.git update-ref refs/heads/main main~1"), 0);
	assert_int_equal(guard_with(f, &protect_main), 0);
	assert_string_equal(change_of(f, "refs/heads/main")->failure, "protected: no force-push");
	assert_main_is(f, f->main_before);
	assert_fsck_clean(f);
}

static void protected_deletion_is_restored(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(sh(f, "git -C repo.git tag v1 main"), 0);
	take_snapshot(f);
	assert_int_equal(sh(f, "git -C repo.git tag -d v1"), 0);
	assert_int_equal(guard_with(f, &protect_main), 0);
	assert_string_equal(change_of(f, "refs/tags/v1")->failure, "protected: no deletion");
	assert_int_equal(sh(f, "git -C repo.git rev-parse --verify -q refs/tags/v1"), 0);
}

static void unprotected_rewind_is_accepted(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(sh(f, "git -C repo.git branch topic main"), 0);
	take_snapshot(f);
	assert_int_equal(sh(f, "git -C repo.git update-ref refs/heads/topic main~1"), 0);
	assert_int_equal(guard_with(f, &protect_main), 0);
	assert_null(change_of(f, "refs/heads/topic")->failure);
}

static void blob_over_the_limit_is_rolled_back(void **state)
{
	struct fixture *f = *state;
	static const struct words none = {NULL, 0};
	const struct policy small_blobs = {.protect = &none, .max_blob_size = 64};
	take_snapshot(f);
	/* As if git had skipped the pre-receive hook: the blob is in, and main points to it. */
	assert_int_equal(sh(f, "cd work && head -c 1000 /dev/urandom >big && git add big && "
			       "git commit -q -m big && git push -q ../repo.git main"),
			 0);
	assert_int_equal(guard_with(f, &small_blobs), 0);
	const struct ref_change *main = change_of(f, "refs/heads/main");
	assert_non_null(main->failure);
	assert_non_null(strstr(main->failure, "of 1000 bytes, over max-blob-size"));
	assert_main_is(f, f->main_before);
}

/* ---- accepted ---- */

static void honest_push_is_accepted(void **state)
{
	struct fixture *f = *state;
	char pushed[64];
	take_snapshot(f);
	push_honest_commit(f, pushed, sizeof(pushed));
	assert_int_equal(guard(f), 0);
	assert_int_equal(f->changes.problem_count, 0);
	assert_false(f->changes.tampered);
	assert_int_equal(f->changes.ref_count, 1);
	const struct ref_change *main = change_of(f, "refs/heads/main");
	assert_non_null(main);
	assert_null(main->failure);
	assert_string_equal(main->old_state.oid, f->main_before);
	assert_string_equal(main->new_state.oid, pushed);
	assert_main_is(f, pushed);
	assert_fsck_clean(f);
}

static void push_of_a_pack_is_accepted(void **state)
{
	struct fixture *f = *state;
	char pushed[64];
	/* More objects than receive.unpackLimit (100): git keeps them as a new pack. */
	assert_int_equal(sh(f, "git -C repo.git config receive.unpackLimit 1"), 0);
	take_snapshot(f);
	assert_int_equal(sh(f,
			    "cd work && for i in $(seq 150); do echo $i >f$i; done && "
			    "git add . && git commit -q -m many && git push -q ../repo.git main"),
			 0);
	main_now(f, pushed, sizeof(pushed));
	assert_int_equal(guard(f), 0);
	assert_int_equal(f->changes.new_pack_count, 1);
	assert_null(change_of(f, "refs/heads/main")->failure);
	assert_main_is(f, pushed);
}

static void nothing_changed_means_no_changes(void **state)
{
	struct fixture *f = *state;
	take_snapshot(f);
	assert_int_equal(sh(f, "git -C repo.git rev-parse HEAD && git -C repo.git log"), 0);
	assert_int_equal(guard(f), 0);
	assert_int_equal(f->changes.ref_count, 0);
	assert_int_equal(f->changes.problem_count, 0);
}

static void deleting_a_branch_is_accepted(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(sh(f, "git -C repo.git branch topic main"), 0);
	take_snapshot(f);
	assert_int_equal(sh(f, "git -C repo.git branch -D topic"), 0);
	assert_int_equal(guard(f), 0);
	const struct ref_change *topic = change_of(f, "refs/heads/topic");
	assert_non_null(topic);
	assert_null(topic->failure);
	assert_int_equal(topic->new_state.kind, STATE_ABSENT);
	assert_int_not_equal(sh(f, "git -C repo.git rev-parse --verify -q refs/heads/topic"), 0);
}

static void pack_refs_is_no_change(void **state)
{
	struct fixture *f = *state;
	take_snapshot(f);
	assert_int_equal(sh(f, "git -C repo.git pack-refs --all"), 0);
	assert_int_equal(guard(f), 0);
	for (size_t i = 0; i < f->changes.ref_count; i++)
		assert_null(f->changes.refs[i].failure);
	assert_main_is(f, f->main_before);
}

/* ---- rolled back ---- */

static void dangling_new_ref_is_removed(void **state)
{
	struct fixture *f = *state;
	take_snapshot(f);
	assert_int_equal(sh(f, "echo " MISSING " >repo.git/refs/heads/dangling"), 0);
	assert_int_equal(guard(f), 0);
	const struct ref_change *dangling = change_of(f, "refs/heads/dangling");
	assert_non_null(dangling);
	assert_string_equal(dangling->failure, "points to a missing object");
	assert_int_not_equal(sh(f, "test -e repo.git/refs/heads/dangling"), 0);
	assert_fsck_clean(f);
}

static void branch_to_a_blob_is_restored(void **state)
{
	struct fixture *f = *state;
	take_snapshot(f);
	assert_int_equal(sh(f, "blob=$(git -C repo.git rev-parse main:file) && "
			       "echo $blob >repo.git/refs/heads/main"),
			 0);
	assert_int_equal(guard(f), 0);
	const struct ref_change *main = change_of(f, "refs/heads/main");
	assert_non_null(main);
	assert_string_equal(main->failure, "points to a blob, not to a commit");
	assert_main_is(f, f->main_before);
	assert_fsck_clean(f);
}

static void commit_with_a_missing_tree_is_restored(void **state)
{
	struct fixture *f = *state;
	char commit[64];
	take_snapshot(f);
	sh_out(f, commit, sizeof(commit),
	       "printf 'tree " MISSING "\\nparent %s\\nauthor a <a@b> 1 +0000\\n"
	       "committer a <a@b> 1 +0000\\n\\nevil\\n' $(git -C repo.git rev-parse main) | "
	       "git -C repo.git hash-object -t commit -w --literally --stdin");
	assert_int_equal(strlen(commit), 40);
	assert_int_equal(sh(f, "echo %s >repo.git/refs/heads/main", commit), 0);
	assert_int_equal(guard(f), 0);
	const struct ref_change *main = change_of(f, "refs/heads/main");
	assert_non_null(main);
	assert_non_null(strstr(main->failure, MISSING));
	assert_main_is(f, f->main_before);
}

static void two_refs_to_one_broken_commit_both_fail(void **state)
{
	struct fixture *f = *state;
	char commit[64];
	take_snapshot(f);
	sh_out(f, commit, sizeof(commit),
	       "printf 'tree " MISSING "\\nauthor a <a@b> 1 +0000\\n"
	       "committer a <a@b> 1 +0000\\n\\nevil\\n' | "
	       "git -C repo.git hash-object -t commit -w --literally --stdin");
	assert_int_equal(sh(f, "echo %s >repo.git/refs/heads/a && echo %s >repo.git/refs/heads/b",
			    commit, commit),
			 0);
	assert_int_equal(guard(f), 0);
	assert_non_null(change_of(f, "refs/heads/a")->failure);
	assert_non_null(change_of(f, "refs/heads/b")->failure);
	assert_int_not_equal(
	    sh(f, "test -e repo.git/refs/heads/a || test -e repo.git/refs/heads/b"), 0);
}

static void linked_object_file_is_refused(void **state)
{
	struct fixture *f = *state;
	char blob[64];
	take_snapshot(f);
	sh_out(f, blob, sizeof(blob), "echo new | git -C repo.git hash-object -w --stdin");
	assert_int_equal(strlen(blob), 40);
	assert_int_equal(sh(f,
			    "p=repo.git/objects/$(echo %s | cut -c1-2)/$(echo %s | cut -c3-) && "
			    "cp $p elsewhere && rm -f $p && ln -s $PWD/elsewhere $p && "
			    "echo %s >repo.git/refs/tags/new",
			    blob, blob, blob),
			 0);
	assert_int_equal(guard(f), 0);
	assert_string_equal(change_of(f, "refs/tags/new")->failure, "points to a missing object");
	assert_int_not_equal(sh(f, "test -e repo.git/refs/tags/new"), 0);
}

static void false_peel_in_packed_refs_is_restored(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(sh(f, "git -C repo.git tag -a -m t v1 main && "
			       "git -C repo.git pack-refs --all && cp repo.git/packed-refs before"),
			 0);
	take_snapshot(f);
	assert_int_equal(sh(f, "wrong=$(git -C repo.git rev-parse main~1) && "
			       "sed -i \"s/^\\^.*/^$wrong/\" repo.git/packed-refs"),
			 0);
	assert_int_equal(guard(f), 0);
	assert_string_equal(change_of(f, "refs/tags/v1")->failure,
			    "packed-refs gives it a false peeled value");
	assert_int_equal(sh(f, "cmp -s before repo.git/packed-refs"), 0);
}

static void symlinked_ref_is_replaced_not_followed(void **state)
{
	struct fixture *f = *state;
	take_snapshot(f);
	assert_int_equal(sh(f, "echo victim >victim && rm repo.git/refs/heads/main && "
			       "ln -s ../../../victim repo.git/refs/heads/main"),
			 0);
	assert_int_equal(guard(f), 0);
	assert_true(f->changes.tampered);
	assert_non_null(change_of(f, "refs/heads/main")->failure);
	assert_int_equal(
	    sh(f, "test -f repo.git/refs/heads/main && ! test -L repo.git/refs/heads/main"), 0);
	assert_main_is(f, f->main_before);
	assert_int_equal(sh(f, "test \"$(cat victim)\" = victim"), 0);
}

static void refs_dir_link_is_not_written_through(void **state)
{
	struct fixture *f = *state;
	take_snapshot(f);
	/* refs/heads becomes a link to a directory outside; the rollback must not write there */
	assert_int_equal(
	    sh(f, "mkdir elsewhere && echo keep >elsewhere/main && "
		  "rm -r repo.git/refs/heads && ln -s ../../elsewhere repo.git/refs/heads"),
	    0);
	assert_int_equal(guard(f), 0);
	assert_true(f->changes.tampered);
	assert_int_equal(sh(f, "test -d repo.git/refs/heads && ! test -L repo.git/refs/heads"), 0);
	assert_main_is(f, f->main_before);
	assert_int_equal(sh(f, "test \"$(cat elsewhere/main)\" = keep"), 0);
	assert_fsck_clean(f);
}

static void packed_refs_injection_is_removed(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(sh(f, "git -C repo.git pack-refs --all"), 0);
	take_snapshot(f);
	assert_int_equal(sh(f, "echo '" MISSING " refs/heads/injected' >>repo.git/packed-refs"), 0);
	assert_int_equal(guard(f), 0);
	const struct ref_change *injected = change_of(f, "refs/heads/injected");
	assert_non_null(injected);
	assert_string_equal(injected->failure, "points to a missing object");
	assert_int_not_equal(sh(f, "grep -q injected repo.git/packed-refs"), 0);
	assert_main_is(f, f->main_before);
	assert_fsck_clean(f);
}

static void malformed_packed_refs_is_restored(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(sh(f, "git -C repo.git pack-refs --all"), 0);
	take_snapshot(f);
	assert_int_equal(sh(f, "echo 'garbage line' >>repo.git/packed-refs"), 0);
	assert_int_equal(guard(f), 0);
	assert_true(f->changes.tampered);
	assert_int_not_equal(sh(f, "grep -q garbage repo.git/packed-refs"), 0);
	assert_main_is(f, f->main_before);
}

static void new_top_level_file_is_removed_with_the_push(void **state)
{
	struct fixture *f = *state;
	char pushed[64];
	take_snapshot(f);
	push_honest_commit(f, pushed, sizeof(pushed));
	assert_int_equal(sh(f, "echo ../other.git >repo.git/commondir"), 0);
	assert_int_equal(guard(f), 0);
	assert_int_equal(f->changes.problem_count, 1);
	assert_string_equal(f->changes.problems[0].path, "commondir");
	assert_null(f->changes.problems[0].failure);
	assert_int_not_equal(sh(f, "test -e repo.git/commondir"), 0);
	/* nothing a tampering write did is trusted: its push goes too */
	assert_string_equal(change_of(f, "refs/heads/main")->failure, VERIFY_TAMPERED);
	assert_main_is(f, f->main_before);
	assert_fsck_clean(f);
}

static void head_change_is_restored(void **state)
{
	struct fixture *f = *state;
	take_snapshot(f);
	assert_int_equal(sh(f, "echo 'ref: refs/heads/evil' >repo.git/HEAD"), 0);
	assert_int_equal(guard(f), 0);
	assert_int_equal(f->changes.problem_count, 1);
	assert_int_equal(f->changes.problems[0].repair, REPAIR_RESTORE_HEAD);
	assert_int_equal(sh(f, "test \"$(cat repo.git/HEAD)\" = 'ref: refs/heads/main'"), 0);
}

static void head_link_is_replaced(void **state)
{
	struct fixture *f = *state;
	take_snapshot(f);
	assert_int_equal(sh(f, "echo victim >victim && rm repo.git/HEAD && "
			       "ln -s ../victim repo.git/HEAD"),
			 0);
	assert_int_equal(guard(f), 0);
	assert_int_equal(sh(f, "! test -L repo.git/HEAD && "
			       "test \"$(cat repo.git/HEAD)\" = 'ref: refs/heads/main'"),
			 0);
	assert_int_equal(sh(f, "test \"$(cat victim)\" = victim"), 0);
}

static void config_change_is_restored(void **state)
{
	struct fixture *f = *state;
	take_snapshot(f);
	assert_int_equal(sh(f, "cp repo.git/config before && "
			       "printf '[core]\\n\\thooksPath = /tmp\\n' >>repo.git/config"),
			 0);
	assert_int_equal(guard(f), 0);
	assert_int_equal(f->changes.problem_count, 1);
	assert_int_equal(sh(f, "cmp -s before repo.git/config"), 0);
}

static void added_hook_is_removed(void **state)
{
	struct fixture *f = *state;
	take_snapshot(f);
	assert_int_equal(sh(f, "printf '#!/bin/sh\\n' >repo.git/hooks/pre-receive"), 0);
	assert_int_equal(guard(f), 0);
	assert_int_equal(f->changes.problem_count, 1);
	assert_string_equal(f->changes.problems[0].path, "hooks/pre-receive");
	assert_int_not_equal(sh(f, "test -e repo.git/hooks/pre-receive"), 0);
}

static void added_alternates_are_removed(void **state)
{
	struct fixture *f = *state;
	take_snapshot(f);
	assert_int_equal(sh(f, "echo /tmp >repo.git/objects/info/alternates"), 0);
	assert_int_equal(guard(f), 0);
	assert_int_equal(f->changes.problem_count, 1);
	assert_int_not_equal(sh(f, "test -e repo.git/objects/info/alternates"), 0);
}

static void swapped_refs_dir_is_moved_back(void **state)
{
	struct fixture *f = *state;
	take_snapshot(f);
	assert_int_equal(sh(f,
			    "old=$(git -C repo.git rev-parse main~1) && "
			    "mv repo.git/refs repo.git/refs.old && mkdir -p repo.git/refs/heads && "
			    "echo $old >repo.git/refs/heads/main"),
			 0);
	assert_int_equal(guard(f), 0);
	assert_int_equal(f->changes.problems[0].repair, REPAIR_RENAME_BACK);
	assert_int_not_equal(sh(f, "test -e repo.git/refs.old"), 0);
	assert_main_is(f, f->main_before);
}

static void symlinked_fanout_is_removed(void **state)
{
	struct fixture *f = *state;
	take_snapshot(f);
	assert_int_equal(sh(f,
			    "mkdir -p other && ln -s ../../other repo.git/objects/zz && "
			    "rm -rf repo.git/objects/ee && ln -s ../../other repo.git/objects/ee"),
			 0);
	assert_int_equal(guard(f), 0);
	assert_true(f->changes.tampered);
	assert_int_not_equal(sh(f, "test -L repo.git/objects/ee"), 0);
	assert_int_equal(sh(f, "test -d other"), 0);
}

static void symlink_under_logs_is_removed(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(sh(f, "mkdir -p repo.git/logs/refs/heads"), 0);
	take_snapshot(f);
	assert_int_equal(sh(f, "ln -s /etc/passwd repo.git/logs/refs/heads/main"), 0);
	assert_int_equal(guard(f), 0);
	assert_true(f->changes.tampered);
	assert_int_not_equal(sh(f, "test -L repo.git/logs/refs/heads/main"), 0);
}

static void packed_refs_created_by_the_write_is_removed(void **state)
{
	struct fixture *f = *state;
	take_snapshot(f);
	assert_int_equal(sh(f, "echo '" MISSING " refs/tags/evil' >repo.git/packed-refs"), 0);
	assert_int_equal(guard(f), 0);
	assert_non_null(change_of(f, "refs/tags/evil")->failure);
	assert_int_not_equal(sh(f, "test -e repo.git/packed-refs"), 0);
	assert_main_is(f, f->main_before);
}

static void removed_refs_dir_is_rebuilt(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(sh(f, "git -C repo.git branch topic main"), 0);
	take_snapshot(f);
	assert_int_equal(sh(f, "rm -rf repo.git/refs"), 0);
	assert_int_equal(guard(f), 0);
	assert_true(f->changes.tampered);
	assert_main_is(f, f->main_before);
	assert_int_equal(sh(f, "git -C repo.git rev-parse --verify -q refs/heads/topic"), 0);
	assert_fsck_clean(f);
}

/* ---- the pieces ---- */

static void snapshot_survives_a_memfd(void **state)
{
	struct fixture *f = *state;
	struct snapshot copy;
	struct error err;
	take_snapshot(f);
	int fd = snapshot_take_memfd(f->repo_fd, &err);
	assert_true(fd >= 0);
	assert_int_equal(snapshot_from_fd(fd, &copy, &err), 0);
	assert_int_equal(copy.ref_count, f->snapshot.ref_count);
	assert_int_equal(copy.top_count, f->snapshot.top_count);
	assert_memory_equal(copy.head, f->snapshot.head, f->snapshot.head_len);
	assert_non_null(snapshot_find_ref(&copy, "refs/heads/main"));
	/* sealed: nobody writes into what the guard will read */
	assert_int_equal(write(fd, "x", 1), -1);
	snapshot_free(&copy);
	close(fd);
}

static void corrupt_snapshot_is_refused(void **state)
{
	struct fixture *f = *state;
	struct snapshot copy;
	struct error err;
	char path[PATH_MAX];
	struct stat st;
	int sealed = snapshot_take_memfd(f->repo_fd, &err);
	assert_true(sealed >= 0 && fstat(sealed, &st) == 0);
	snprintf(path, sizeof(path), "%s/snap", f->dir);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	off_t offset = 0;
	assert_int_equal(sendfile(fd, sealed, &offset, (size_t)st.st_size - 1), st.st_size - 1);
	assert_int_equal(snapshot_from_fd(fd, &copy, &err), -1);
	assert_int_equal(snapshot_from_fd(f->repo_fd, &copy, &err), -1);
	close(fd);
	close(sealed);
}

static void offline_verify_reports_risky_config(void **state)
{
	struct fixture *f = *state;
	char *text = NULL;
	size_t len = 0;
	assert_int_equal(sh(f, "git -C repo.git config core.hooksPath /tmp && "
			       "git -C repo.git config filter.x.clean 'rm -rf /' && "
			       "git -C repo.git config include.path /etc/x && "
			       "git -C repo.git config core.repositoryformatversion 1 && "
			       "git -C repo.git config extensions.objectFormat sha256 && "
			       "echo " MISSING " >repo.git/refs/heads/dangling"),
			 0);
	FILE *out = open_memstream(&text, &len);
	int findings = verify_offline(f->repo, NULL, out);
	fclose(out);
	assert_int_equal(findings, 5);
	assert_non_null(strstr(text, "core.hookspath"));
	assert_non_null(strstr(text, "filter.x.clean"));
	assert_non_null(strstr(text, "include.path"));
	assert_non_null(strstr(text, "extensions.objectformat = sha256"));
	assert_non_null(strstr(text, "refs/heads/dangling points to a missing object"));
	free(text);
}

static void offline_verify_passes_a_clean_repository(void **state)
{
	struct fixture *f = *state;
	char *text = NULL;
	size_t len = 0;
	assert_int_equal(
	    sh(f, "git -C repo.git pack-refs --all && git -C repo.git tag -a -m t v1 main"), 0);
	FILE *out = open_memstream(&text, &len);
	assert_int_equal(verify_offline(f->repo, NULL, out), 0);
	fclose(out);
	assert_non_null(strstr(text, ": ok"));
	free(text);
}

int main(void)
{
	/* git behaves the same whatever the machine's and the user's configuration says */
	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	setenv("GIT_CONFIG_GLOBAL", "/dev/null", 1);
	setenv("GIT_AUTHOR_NAME", "t", 1);
	setenv("GIT_AUTHOR_EMAIL", "t@gitcage.invalid", 1);
	setenv("GIT_COMMITTER_NAME", "t", 1);
	setenv("GIT_COMMITTER_EMAIL", "t@gitcage.invalid", 1);
#define TEST(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
	    TEST(honest_push_is_accepted),
	    TEST(protected_fast_forward_is_accepted),
	    TEST(blob_over_the_limit_is_rolled_back),
	    TEST(protected_rewind_is_restored),
	    TEST(protected_deletion_is_restored),
	    TEST(unprotected_rewind_is_accepted),
	    TEST(push_of_a_pack_is_accepted),
	    TEST(nothing_changed_means_no_changes),
	    TEST(deleting_a_branch_is_accepted),
	    TEST(pack_refs_is_no_change),
	    TEST(dangling_new_ref_is_removed),
	    TEST(branch_to_a_blob_is_restored),
	    TEST(commit_with_a_missing_tree_is_restored),
	    TEST(two_refs_to_one_broken_commit_both_fail),
	    TEST(linked_object_file_is_refused),
	    TEST(false_peel_in_packed_refs_is_restored),
	    TEST(symlinked_ref_is_replaced_not_followed),
	    TEST(refs_dir_link_is_not_written_through),
	    TEST(packed_refs_injection_is_removed),
	    TEST(malformed_packed_refs_is_restored),
	    TEST(new_top_level_file_is_removed_with_the_push),
	    TEST(head_change_is_restored),
	    TEST(head_link_is_replaced),
	    TEST(config_change_is_restored),
	    TEST(added_hook_is_removed),
	    TEST(added_alternates_are_removed),
	    TEST(swapped_refs_dir_is_moved_back),
	    TEST(symlinked_fanout_is_removed),
	    TEST(symlink_under_logs_is_removed),
	    TEST(packed_refs_created_by_the_write_is_removed),
	    TEST(removed_refs_dir_is_rebuilt),
	    TEST(snapshot_survives_a_memfd),
	    TEST(corrupt_snapshot_is_refused),
	    TEST(offline_verify_reports_risky_config),
	    TEST(offline_verify_passes_a_clean_repository),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

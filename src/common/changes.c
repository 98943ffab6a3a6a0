/* SPDX-License-Identifier: ISC */
/* Phase 1 of comparing a repository with its snapshot: its layout, and its new packs. */
#include "common/changes.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Files git itself may add at the top level of a bare repository. */
static const char *const git_own_files[] = {"packed-refs", "shallow", "FETCH_HEAD",
					    "ORIG_HEAD",   "gc.pid",  "gc.log"};
/* Checked by their content, not by the generic entry comparison. */
static const char *const content_checked[] = {"HEAD", "config", "packed-refs"};
/* Names git gives to files of objects/pack (index-pack, repack, multi-pack-index). */
static const char *const pack_suffixes[] = {".pack",   ".idx",	  ".keep",    ".rev",
					    ".bitmap", ".mtimes", ".promisor"};

static int ends_with(const char *s, const char *suffix)
{
	size_t len = strlen(s), suffix_len = strlen(suffix);
	return len >= suffix_len && strcmp(s + len - suffix_len, suffix) == 0;
}

static int in_list(const char *name, const char *const *list, size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (strcmp(name, list[i]) == 0)
			return 1;
	return 0;
}

struct layout_problem *changes_add_problem(struct changes *changes, enum repair repair,
					   const char *path, const char *fmt, ...)
{
	struct layout_problem *grown =
	    realloc(changes->problems, (changes->problem_count + 1) * sizeof(*grown));
	if (!grown)
		die("out of memory");
	changes->problems = grown;
	struct layout_problem *problem = &grown[changes->problem_count++];
	memset(problem, 0, sizeof(*problem));
	problem->repair = repair;
	snprintf(problem->path, sizeof(problem->path), "%s", path ? path : "");
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(problem->what, sizeof(problem->what), fmt, ap);
	va_end(ap);
	changes->tampered = true;
	return problem;
}

/* Whether path is, or lies beneath, something a repair already removes or replaces. */
static int covered(const struct changes *changes, const char *path)
{
	for (size_t i = 0; i < changes->problem_count; i++) {
		const char *done = changes->problems[i].path;
		size_t len = strlen(done);
		if (changes->problems[i].repair != REPAIR_NONE && len &&
		    strncmp(path, done, len) == 0 && (path[len] == '\0' || path[len] == '/'))
			return 1;
	}
	return 0;
}

static const char *type_name(uint32_t mode)
{
	return S_ISLNK(mode)   ? "a symbolic link"
	       : S_ISDIR(mode) ? "a directory"
	       : S_ISREG(mode) ? "a file"
			       : "a special file";
}

static int git_own_entry(const struct snapshot_entry *entry)
{
	if (S_ISDIR(entry->stamp.mode))
		return strcmp(entry->name, "logs") == 0;
	return S_ISREG(entry->stamp.mode) &&
	       (ends_with(entry->name, ".lock") ||
		in_list(entry->name, git_own_files, ARRAY_SIZE(git_own_files)));
}

/* A directory of the snapshot that is gone or replaced: was it moved within the top level?
 * Then it can be moved back. Only directories: git replaces files by renames every day. */
static void check_replaced(struct changes *out, const struct snapshot_entry *old,
			   const struct snapshot_entry *now, const struct snapshot_entry *all,
			   size_t count, char *moved)
{
	for (size_t i = 0; S_ISDIR(old->stamp.mode) && i < count; i++) {
		if (all[i].stamp.ino == old->stamp.ino && all[i].stamp.dev == old->stamp.dev &&
		    S_ISDIR(all[i].stamp.mode) && strcmp(all[i].name, old->name) != 0) {
			struct layout_problem *p =
			    changes_add_problem(out, REPAIR_RENAME_BACK, old->name,
						"%s was moved to %s", old->name, all[i].name);
			snprintf(p->from, sizeof(p->from), "%s", all[i].name);
			moved[i] = 1;
			return;
		}
	}
	if (now)
		changes_add_problem(out, REPAIR_REMOVE, old->name, "%s was replaced by %s",
				    old->name, type_name(now->stamp.mode));
	else if (strcmp(old->name, "refs") == 0) /* without it, git sees no repository */
		changes_add_problem(out, REPAIR_MKDIR, old->name, "refs was removed");
	else if (!git_own_entry(old))
		changes_add_problem(out, REPAIR_NONE, NULL, "%s was removed", old->name);
}

static int same_entry(const struct snapshot_entry *old, const struct snapshot_entry *now)
{
	if ((old->stamp.mode & S_IFMT) != (now->stamp.mode & S_IFMT))
		return 0;
	return !S_ISDIR(old->stamp.mode) || old->stamp.ino == now->stamp.ino;
}

static void check_top_level(const struct snapshot *snapshot, struct changes *out,
			    const struct snapshot_entry *now, size_t count)
{
	char *moved = xcalloc(count ? count : 1, 1);
	for (size_t i = 0; i < snapshot->top_count; i++) {
		const struct snapshot_entry *old = &snapshot->top[i];
		if (in_list(old->name, content_checked, ARRAY_SIZE(content_checked)))
			continue;
		const struct snapshot_entry *here = snapshot_find_entry(now, count, old->name);
		if (!here || !same_entry(old, here))
			check_replaced(out, old, here, now, count, moved);
	}
	for (size_t i = 0; i < count; i++) {
		if (moved[i] || in_list(now[i].name, content_checked, ARRAY_SIZE(content_checked)))
			continue;
		if (!snapshot_find_entry(snapshot->top, snapshot->top_count, now[i].name) &&
		    !git_own_entry(&now[i]))
			changes_add_problem(out, REPAIR_REMOVE, now[i].name, "%s was added (%s)",
					    now[i].name, type_name(now[i].stamp.mode));
	}
	free(moved);
}

static void check_head_and_config(int repo_fd, const struct snapshot *snapshot, struct changes *out)
{
	char *data = NULL;
	size_t len = 0;
	if (repofs_read(repo_fd, "HEAD", 4096, &data, &len) != 0 || len != snapshot->head_len ||
	    memcmp(data, snapshot->head, len) != 0)
		changes_add_problem(out, REPAIR_RESTORE_HEAD, "HEAD", "HEAD was changed");
	free(data);
	data = NULL;
	struct repofs_stamp now;
	if (repofs_stamp(repo_fd, "config", &now) == 0 &&
	    repofs_stamp_equal(&now, &snapshot->config))
		return;
	if (!snapshot->config_data) {
		changes_add_problem(out, REPAIR_REMOVE, "config", "config was added");
	} else if (repofs_read(repo_fd, "config", 4 << 20, &data, &len) != 0 ||
		   len != snapshot->config_len || memcmp(data, snapshot->config_data, len) != 0) {
		changes_add_problem(out, REPAIR_RESTORE_CONFIG, "config", "config was changed");
	}
	free(data);
}

static void compare_protected(struct changes *out, const struct snapshot_entry *old,
			      const struct snapshot_entry *now)
{
	if (!old && !covered(out, now->name))
		changes_add_problem(out, REPAIR_REMOVE, now->name, "%s was added", now->name);
	else if (!now && !covered(out, old->name))
		changes_add_problem(out, REPAIR_NONE, NULL, "%s was removed", old->name);
	else if (old && now && (old->stamp.mode & S_IFMT) != (now->stamp.mode & S_IFMT))
		changes_add_problem(out, REPAIR_REMOVE, now->name, "%s was replaced by %s",
				    now->name, type_name(now->stamp.mode));
	else if (old && now && !S_ISDIR(now->stamp.mode) &&
		 !repofs_stamp_equal(&old->stamp, &now->stamp))
		changes_add_problem(out, REPAIR_NONE, NULL, "%s was modified", now->name);
}

/* The snapshot's entries beneath dir: a contiguous run of the sorted array. */
static const struct snapshot_entry *entries_beneath(const struct snapshot *snapshot,
						    const char *dir, size_t *count)
{
	size_t len = strlen(dir), first = 0;
	const struct snapshot_entry *all = snapshot->protected_entries;
	while (first < snapshot->protected_count &&
	       !(strncmp(all[first].name, dir, len) == 0 && all[first].name[len] == '/'))
		first++;
	*count = 0;
	while (first + *count < snapshot->protected_count &&
	       strncmp(all[first + *count].name, dir, len) == 0 &&
	       all[first + *count].name[len] == '/')
		(*count)++;
	return all + first;
}

static void compare_protected_dir(struct changes *out, const struct snapshot_entry *old,
				  size_t old_count, const struct snapshot_entry *now, size_t count)
{
	size_t i = 0, j = 0;
	while (i < old_count || j < count) {
		int cmp;
		if (i == old_count)
			cmp = 1;
		else if (j == count)
			cmp = -1;
		else
			cmp = strcmp(old[i].name, now[j].name);
		compare_protected(out, cmp <= 0 ? &old[i] : NULL, cmp >= 0 ? &now[j] : NULL);
		i += cmp <= 0;
		j += cmp >= 0;
	}
}

/* hooks/, info/ and objects/info/ (alternates): read-only in the sandbox, so any change
 * means the sandbox did not hold, or the directory was missing and git created it. */
static void check_protected(int repo_fd, const struct snapshot *snapshot, struct changes *out)
{
	for (size_t d = 0; d < ARRAY_SIZE(snapshot_protected_dirs); d++) {
		const char *dir = snapshot_protected_dirs[d];
		struct snapshot_entry *now;
		struct repofs_stamp stamp;
		size_t count, old_count;
		if (!covered(out, dir) && repofs_stamp(repo_fd, dir, &stamp) == 0 && stamp.exists &&
		    !S_ISDIR(stamp.mode)) {
			changes_add_problem(out, REPAIR_REMOVE, dir, "%s was replaced by %s", dir,
					    type_name(stamp.mode));
			continue;
		}
		/* Being repaired as a whole, or unreadable (a link: reported by its parent). */
		if (covered(out, dir) || snapshot_scan_entries(repo_fd, dir, 1, &now, &count) != 0)
			continue;
		const struct snapshot_entry *old = entries_beneath(snapshot, dir, &old_count);
		compare_protected_dir(out, old, old_count, now, count);
		snapshot_entries_free(now, count);
	}
}

static int note_log_link(const char *path, mode_t type, int parent_fd, const char *name,
			 void *payload)
{
	(void)parent_fd, (void)name;
	if (type == S_IFLNK)
		changes_add_problem(payload, REPAIR_REMOVE, path, "%s is a symbolic link", path);
	return 0;
}

/* --- objects --- */

static int is_fanout(const char *name)
{
	return strlen(name) == 2 && strspn(name, "0123456789abcdef") == 2;
}

/* A fan-out directory that is a link would make git read objects of the attacker's choosing
 * (another repository's). objects/ is read only when its own entries changed. */
static void check_fanout(int repo_fd, const struct snapshot *snapshot, struct changes *out)
{
	struct repofs_stamp now;
	struct snapshot_entry *entries;
	size_t count;
	if (repofs_stamp(repo_fd, "objects", &now) != 0 || !S_ISDIR(now.mode) ||
	    (repofs_stamp_equal(&now, &snapshot->objects) &&
	     !repofs_changed_since(&now, snapshot->start_sec, snapshot->start_nsec)))
		return; /* unchanged, or replaced: the top-level check reports that */
	if (snapshot_scan_entries(repo_fd, "objects", 0, &entries, &count) != 0)
		return;
	for (size_t i = 0; i < count; i++) {
		const char *name = entries[i].name + strlen("objects/");
		if (is_fanout(name) && !S_ISDIR(entries[i].stamp.mode))
			changes_add_problem(out, REPAIR_REMOVE, entries[i].name, "%s is %s",
					    entries[i].name, type_name(entries[i].stamp.mode));
	}
	snapshot_entries_free(entries, count);
}

static int git_pack_name(const char *name)
{
	if (strncmp(name, "tmp_", 4) == 0 || strncmp(name, "multi-pack-index", 16) == 0)
		return 1;
	if (strncmp(name, "pack-", 5) != 0)
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(pack_suffixes); i++)
		if (ends_with(name, pack_suffixes[i]))
			return 1;
	return 0;
}

static void note_pack_entry(const struct snapshot *snapshot, struct changes *out,
			    const struct snapshot_entry *entry)
{
	const struct snapshot_entry *old =
	    snapshot_find_entry(snapshot->packs, snapshot->pack_count, entry->name);
	if (old && repofs_stamp_equal(&old->stamp, &entry->stamp))
		return;
	/* git never rewrites a pack: a changed one may hold other content under old names */
	if (old && S_ISREG(entry->stamp.mode) && ends_with(entry->name, ".pack"))
		changes_add_problem(out, REPAIR_NONE, NULL, "%s was modified", entry->name);
	if (!S_ISREG(entry->stamp.mode) || !git_pack_name(entry->name + strlen("objects/pack/"))) {
		changes_add_problem(out, REPAIR_REMOVE, entry->name, "%s was added (%s)",
				    entry->name, type_name(entry->stamp.mode));
	} else if (ends_with(entry->name, ".idx")) {
		out->new_packs =
		    realloc(out->new_packs, (out->new_pack_count + 1) * sizeof(char *));
		if (!out->new_packs)
			die("out of memory");
		out->new_packs[out->new_pack_count++] = xstrdup(entry->name);
	}
}

static void scan_packs(int repo_fd, const struct snapshot *snapshot, struct changes *out)
{
	struct repofs_stamp dir;
	struct snapshot_entry *now;
	size_t count;
	if (repofs_stamp(repo_fd, "objects/pack", &dir) != 0 || !S_ISDIR(dir.mode) ||
	    (repofs_stamp_equal(&dir, &snapshot->pack_dir) &&
	     !repofs_changed_since(&dir, snapshot->start_sec, snapshot->start_nsec)))
		return;
	if (snapshot_scan_entries(repo_fd, "objects/pack", 0, &now, &count) != 0)
		return;
	for (size_t i = 0; i < count; i++)
		note_pack_entry(snapshot, out, &now[i]);
	snapshot_entries_free(now, count);
}

int changes_layout(int repo_fd, const struct snapshot *snapshot, struct changes *out,
		   struct error *err)
{
	struct snapshot_entry *top;
	size_t count;
	memset(out, 0, sizeof(*out));
	out->start_sec = snapshot->start_sec;
	out->start_nsec = snapshot->start_nsec;
	if (snapshot_scan_entries(repo_fd, ".", 0, &top, &count) != 0)
		return error_set(err, "cannot list the repository: %s", strerror(errno));
	check_top_level(snapshot, out, top, count);
	snapshot_entries_free(top, count);
	check_head_and_config(repo_fd, snapshot, out);
	check_protected(repo_fd, snapshot, out);
	if (!covered(out, "logs"))
		repofs_walk(repo_fd, "logs", note_log_link, out);
	check_fanout(repo_fd, snapshot, out);
	scan_packs(repo_fd, snapshot, out);
	return 0;
}

void changes_free(struct changes *changes)
{
	free(changes->problems);
	for (size_t i = 0; i < changes->new_pack_count; i++)
		free(changes->new_packs[i]);
	free(changes->new_packs);
	for (size_t i = 0; i < changes->ref_count; i++)
		free(changes->refs[i].name);
	free(changes->refs);
	loose_refs_free(changes->now_refs, changes->now_ref_count);
	packed_free(&changes->old_packed);
	packed_free(&changes->new_packed);
	free(changes->packed_now);
	memset(changes, 0, sizeof(*changes));
}

/* SPDX-License-Identifier: ISC */
#include "common/rollback.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Move the original back over whatever took its name. Top-level names only: one component,
 * so there is no intermediate directory to be led through. */
static int rename_back(int repo_fd, const struct layout_problem *problem)
{
	if (strchr(problem->path, '/') || strchr(problem->from, '/'))
		return errno = EINVAL, -1;
	if (repofs_remove(repo_fd, problem->path) != 0)
		return -1;
	return renameat(repo_fd, problem->from, repo_fd, problem->path);
}

static int make_empty_dir(int repo_fd, const char *path)
{
	if (repofs_remove(repo_fd, path) != 0)
		return -1;
	return mkdirat(repo_fd, path, 0755);
}

static int repair(int repo_fd, const struct snapshot *snapshot, struct layout_problem *problem)
{
	mode_t config_mode = snapshot->config.mode & 0777;
	switch (problem->repair) {
	case REPAIR_REMOVE:
		return repofs_remove(repo_fd, problem->path);
	case REPAIR_RESTORE_HEAD:
		return repofs_replace(repo_fd, "HEAD", snapshot->head, snapshot->head_len, 0644);
	case REPAIR_RESTORE_CONFIG:
		return repofs_replace(repo_fd, "config", snapshot->config_data,
				      snapshot->config_len, config_mode ? config_mode : 0644);
	case REPAIR_RENAME_BACK:
		return rename_back(repo_fd, problem);
	case REPAIR_MKDIR:
		return make_empty_dir(repo_fd, problem->path);
	default:
		return 0; /* REPAIR_NONE is only reported; REPAIR_PACKED goes with the refs */
	}
}

void rollback_layout(int repo_fd, const struct snapshot *snapshot, struct changes *changes)
{
	/* Originals first: a name an impostor took is freed by the move back. */
	static const enum repair order[] = {REPAIR_RENAME_BACK, REPAIR_REMOVE, REPAIR_MKDIR,
					    REPAIR_RESTORE_HEAD, REPAIR_RESTORE_CONFIG};
	for (size_t o = 0; o < ARRAY_SIZE(order); o++) {
		for (size_t i = 0; i < changes->problem_count; i++) {
			struct layout_problem *problem = &changes->problems[i];
			if (problem->repair == order[o] && repair(repo_fd, snapshot, problem) != 0)
				problem->failure = strerror(errno);
		}
	}
}

/* The old loose state: its content again, by rename; nothing, when it had none. A link or a
 * special file that was there before is not recreated: removed, it can no longer mislead. */
static int restore_loose(int repo_fd, const struct ref_change *change)
{
	const struct loose_ref *old = change->old_loose;
	if (!old || old->kind != LOOSE_FILE)
		return repofs_remove(repo_fd, change->name);
	if (repofs_make_parents(repo_fd, change->name) != 0)
		return -1;
	return repofs_replace(repo_fd, change->name, old->value, old->value_len, 0644);
}

static const struct ref_change *find_change(const struct changes *changes, const char *name)
{
	for (size_t lo = 0, hi = changes->ref_count; lo < hi;) {
		size_t mid = lo + (hi - lo) / 2;
		int cmp = strcmp(name, changes->refs[mid].name);
		if (cmp == 0)
			return &changes->refs[mid];
		if (cmp < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* The packed entry a name keeps: the old one when its change failed, else the new one. */
static const struct packed_ref *kept_entry(const struct changes *changes, const char *name,
					   const struct packed_ref *old,
					   const struct packed_ref *now)
{
	const struct ref_change *change = find_change(changes, name);
	if (changes->tampered || (change && change->failure))
		return old;
	return now;
}

static const struct packed_ref **merge_packed(const struct changes *changes, size_t *count)
{
	const struct packed_refs *old = &changes->old_packed, *now = &changes->new_packed;
	const struct packed_ref **kept = xcalloc(old->count + now->count + 1, sizeof(*kept));
	size_t i = 0, j = 0, n = 0;
	while (i < old->count || j < now->count) {
		int cmp = i == old->count   ? 1
			  : j == now->count ? -1
					    : strcmp(old->refs[i].name, now->refs[j].name);
		const struct packed_ref *o = cmp <= 0 ? &old->refs[i] : NULL;
		const struct packed_ref *w = cmp >= 0 ? &now->refs[j] : NULL;
		const struct packed_ref *entry = kept_entry(changes, o ? o->name : w->name, o, w);
		if (entry)
			kept[n++] = entry;
		i += cmp <= 0;
		j += cmp >= 0;
	}
	*count = n;
	return kept;
}

static int needs_packed_rewrite(const struct changes *changes)
{
	if (!changes->packed_changed)
		return 0;
	if (changes->tampered)
		return 1;
	for (size_t i = 0; i < changes->ref_count; i++)
		if (changes->refs[i].failure && changes->refs[i].packed_changed)
			return 1;
	return 0;
}

/* The snapshot's packed-refs with the accepted changes only, written by rename. */
static int rewrite_packed(int repo_fd, const struct snapshot *snapshot,
			  const struct changes *changes)
{
	size_t count, len;
	const struct packed_ref **kept = merge_packed(changes, &count);
	int rc;
	if (count == 0 && !snapshot->packed.exists) {
		rc = repofs_remove(repo_fd, "packed-refs");
	} else {
		const char *header = changes->packed_old_header ? changes->packed_old_header
								: changes->new_packed.header;
		char *data = packed_format(header, kept, count, &len);
		rc = repofs_replace(repo_fd, "packed-refs", data, len, 0644);
		free(data);
	}
	free(kept);
	return rc;
}

static size_t restore_refs(int repo_fd, struct changes *changes, int removals)
{
	size_t failed = 0;
	for (size_t i = 0; i < changes->ref_count; i++) {
		struct ref_change *change = &changes->refs[i];
		int removal = !change->old_loose || change->old_loose->kind != LOOSE_FILE;
		if (!change->failure || !change->loose_changed || removal != removals)
			continue;
		if (restore_loose(repo_fd, change) != 0) {
			change->rollback_error = strerror(errno);
			failed++;
		}
	}
	return failed;
}

size_t rollback_refs(int repo_fd, const struct snapshot *snapshot, struct changes *changes)
{
	/* Removals first: a new file may sit where an old ref needs its directory. */
	size_t failed = restore_refs(repo_fd, changes, 1);
	failed += restore_refs(repo_fd, changes, 0);
	if (needs_packed_rewrite(changes) && rewrite_packed(repo_fd, snapshot, changes) != 0) {
		const char *why = strerror(errno);
		for (size_t i = 0; i < changes->ref_count; i++) {
			if (changes->refs[i].failure && changes->refs[i].packed_changed) {
				changes->refs[i].rollback_error = why;
				failed++;
			}
		}
	}
	return failed;
}

/* SPDX-License-Identifier: ISC */
/* Phase 2 of comparing a repository with its snapshot: the refs that changed. Loose refs are
 * few and read every time; packed-refs is parsed only when its stamp moved, and otherwise a
 * ref's packed value is found by binary search in the snapshot's copy. */
#include "common/changes.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PACKED_REFS (1ULL << 31)

void changes_resolve(const struct loose_ref *loose, const struct packed_ref *packed,
		     struct ref_state *out)
{
	memset(out, 0, sizeof(*out));
	if (!loose && (!packed || !packed->name))
		return; /* STATE_ABSENT */
	if (!loose) {
		out->kind = STATE_OID;
		out->packed = true;
		memcpy(out->oid, packed->oid, sizeof(out->oid));
		memcpy(out->peeled, packed->peeled, sizeof(out->peeled));
		return;
	}
	if (loose->kind == LOOSE_LINK || loose->kind == LOOSE_OTHER) {
		out->kind = loose->kind == LOOSE_LINK ? STATE_LINK : STATE_OTHER;
		return;
	}
	size_t len = loose->value_len;
	if (len && loose->value[len - 1] == '\n')
		len--;
	if (packed_is_oid(loose->value, len)) {
		out->kind = STATE_OID;
		memcpy(out->oid, loose->value, OID_HEX_LEN);
	} else {
		out->kind = strncmp(loose->value, "ref:", 4) == 0 ? STATE_SYMREF : STATE_GARBAGE;
	}
}

static int states_equal(const struct ref_state *a, const struct ref_state *b)
{
	return a->kind == b->kind && strcmp(a->oid, b->oid) == 0 &&
	       strcmp(a->peeled, b->peeled) == 0;
}

static int packed_equal(const struct packed_ref *a, const struct packed_ref *b)
{
	if (!a->name || !b->name)
		return !a->name && !b->name;
	return strcmp(a->oid, b->oid) == 0 && strcmp(a->peeled, b->peeled) == 0;
}

struct names {
	const char **items;
	size_t count, capacity;
};

static void names_add(struct names *names, const char *name)
{
	if (names->count == names->capacity) {
		names->capacity = names->capacity ? names->capacity * 2 : 16;
		names->items = realloc(names->items, names->capacity * sizeof(*names->items));
		if (!names->items)
			die("out of memory");
	}
	names->items[names->count++] = name;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Names whose loose state differs: a merge of two sorted arrays. */
static void diff_loose(const struct snapshot *snapshot, const struct changes *out,
		       struct names *names)
{
	size_t i = 0, j = 0;
	const struct loose_ref *old = snapshot->refs, *now = out->now_refs;
	while (i < snapshot->ref_count || j < out->now_ref_count) {
		int cmp = i == snapshot->ref_count  ? 1
			  : j == out->now_ref_count ? -1
						    : strcmp(old[i].name, now[j].name);
		if (cmp < 0)
			names_add(names, old[i].name);
		else if (cmp > 0)
			names_add(names, now[j].name);
		else if (!loose_ref_equal(&old[i], &now[j]))
			names_add(names, now[j].name);
		i += cmp <= 0;
		j += cmp >= 0;
	}
}

static void diff_packed(const struct changes *out, struct names *names)
{
	size_t i = 0, j = 0;
	const struct packed_refs *old = &out->old_packed, *now = &out->new_packed;
	while (i < old->count || j < now->count) {
		int cmp = i == old->count   ? 1
			  : j == now->count ? -1
					    : strcmp(old->refs[i].name, now->refs[j].name);
		if (cmp < 0)
			names_add(names, old->refs[i].name);
		else if (cmp > 0)
			names_add(names, now->refs[j].name);
		else if (!packed_equal(&old->refs[i], &now->refs[j]))
			names_add(names, now->refs[j].name);
		i += cmp <= 0;
		j += cmp >= 0;
	}
}

/* packed-refs now, parsed with the snapshot's, when its stamp moved. */
static int read_packed(int repo_fd, struct snapshot *snapshot, struct changes *out)
{
	struct repofs_stamp now;
	if (repofs_stamp(repo_fd, "packed-refs", &now) != 0)
		return -1;
	if (repofs_stamp_equal(&now, &snapshot->packed))
		return 0;
	out->packed_changed = true;
	if (now.exists && repofs_read(repo_fd, "packed-refs", MAX_PACKED_REFS, &out->packed_now,
				      &out->packed_now_len) != 0) {
		if (errno != ELOOP && errno != EINVAL && errno != EFBIG)
			return -1;
		changes_add_problem(out, REPAIR_PACKED, "packed-refs",
				    "packed-refs is not a regular file");
	}
	if (snapshot_load_packed(snapshot) != 0)
		return -1;
	if ((snapshot->packed_data &&
	     packed_parse(snapshot->packed_data, (size_t)snapshot->packed_len, &out->old_packed) !=
		 0) ||
	    (out->packed_now &&
	     packed_parse(out->packed_now, out->packed_now_len, &out->new_packed) != 0))
		die("out of memory");
	out->packed_old_header = out->old_packed.header;
	if (out->new_packed.malformed)
		changes_add_problem(out, REPAIR_PACKED, "packed-refs",
				    "packed-refs has %zu malformed lines (the first is line %zu)",
				    out->new_packed.malformed,
				    out->new_packed.first_malformed_line);
	return 0;
}

static const struct loose_ref *find_now(const struct changes *out, const char *name)
{
	for (size_t lo = 0, hi = out->now_ref_count; lo < hi;) {
		size_t mid = lo + (hi - lo) / 2;
		int cmp = strcmp(name, out->now_refs[mid].name);
		if (cmp == 0)
			return &out->now_refs[mid];
		if (cmp < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* The packed entries of one ref, before and now. Returns -1 when the snapshot's copy of
 * packed-refs cannot be read. */
static int packed_values(struct snapshot *snapshot, const struct changes *out,
			 struct ref_change *change)
{
	const struct packed_ref *old, *now;
	if (!out->packed_changed) {
		int found = snapshot_find_packed(snapshot, change->name, &change->old_packed);
		if (found > 0)
			change->new_packed = change->old_packed;
		return found < 0 ? -1 : 0;
	}
	if ((old = packed_lookup(&out->old_packed, change->name)))
		change->old_packed = *old;
	if ((now = packed_lookup(&out->new_packed, change->name)))
		change->new_packed = *now;
	return 0;
}

static int add_change(struct snapshot *snapshot, struct changes *out, const char *name)
{
	struct ref_change change = {.name = xstrdup(name)};
	change.old_loose = snapshot_find_ref(snapshot, name);
	change.new_loose = find_now(out, name);
	if (packed_values(snapshot, out, &change) != 0) {
		free(change.name);
		return -1;
	}
	change.loose_changed =
	    (change.old_loose == NULL) != (change.new_loose == NULL) ||
	    (change.old_loose && !loose_ref_equal(change.old_loose, change.new_loose));
	change.packed_changed = !packed_equal(&change.old_packed, &change.new_packed);
	changes_resolve(change.old_loose, &change.old_packed, &change.old_state);
	changes_resolve(change.new_loose, &change.new_packed, &change.new_state);
	if (!change.packed_changed && states_equal(&change.old_state, &change.new_state)) {
		free(change.name); /* e.g. a loose ref rewritten with the same value */
		return 0;
	}
	/* A link or a special file under refs/ is no ref git writes: the whole write is suspect. */
	if (change.new_loose && change.new_loose->kind != LOOSE_FILE)
		out->tampered = true;
	out->refs = realloc(out->refs, (out->ref_count + 1) * sizeof(*out->refs));
	if (!out->refs)
		die("out of memory");
	out->refs[out->ref_count++] = change;
	return 0;
}

int changes_refs(int repo_fd, struct snapshot *snapshot, struct changes *out, struct error *err)
{
	struct names names = {0};
	if (snapshot_scan_refs(repo_fd, &out->now_refs, &out->now_ref_count) != 0)
		return error_set(err, "cannot read refs/: %s", strerror(errno));
	if (read_packed(repo_fd, snapshot, out) != 0)
		return error_set(err, "cannot read packed-refs: %s", strerror(errno));
	diff_loose(snapshot, out, &names);
	if (out->packed_changed)
		diff_packed(out, &names);
	if (names.count)
		qsort(names.items, names.count, sizeof(*names.items), compare_names);
	int rc = 0;
	for (size_t i = 0; i < names.count && rc == 0; i++)
		if (i == 0 || strcmp(names.items[i], names.items[i - 1]) != 0)
			rc = add_change(snapshot, out, names.items[i]);
	free(names.items);
	if (rc != 0)
		return error_set(err, "cannot read the snapshot's packed-refs: %s",
				 strerror(errno));
	return 0;
}

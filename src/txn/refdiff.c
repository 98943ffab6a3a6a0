/* SPDX-License-Identifier: ISC */
#include "txn/refdiff.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int compare_entries(const void *a, const void *b)
{
	return strcmp(((const struct journal_entry *)a)->ref,
		      ((const struct journal_entry *)b)->ref);
}

void refdiff_parse(const char *buf, size_t len, struct ref_listing *out)
{
	*out = (struct ref_listing){0};
	for (const char *p = buf, *end = buf + len; p < end;) {
		const char *newline = memchr(p, '\n', (size_t)(end - p));
		size_t line = newline ? (size_t)(newline - p) : (size_t)(end - p);
		if (line > RELAY_OID_HEX + 6 && line < RELAY_MAX_LINE &&
		    relay_is_oid(p, RELAY_OID_HEX) && p[RELAY_OID_HEX] == ' ' &&
		    strncmp(p + RELAY_OID_HEX + 1, "refs/", 5) == 0 &&
		    !memchr(p + RELAY_OID_HEX + 1, ' ', line - RELAY_OID_HEX - 1)) {
			grow_array(&out->items, &out->cap, out->count + 1, sizeof(*out->items));
			struct journal_entry *e = &out->items[out->count++];
			memcpy(e->new_id, p, RELAY_OID_HEX);
			e->new_id[RELAY_OID_HEX] = '\0';
			char *ref = xcalloc(line - RELAY_OID_HEX, 1);
			memcpy(ref, p + RELAY_OID_HEX + 1, line - RELAY_OID_HEX - 1);
			e->ref = ref;
		}
		p += line + 1;
	}
	if (out->count)
		qsort(out->items, out->count, sizeof(*out->items), compare_entries);
}

void refdiff_free(struct ref_listing *listing)
{
	for (size_t i = 0; i < listing->count; i++)
		free((char *)listing->items[i].ref);
	free(listing->items);
	*listing = (struct ref_listing){0};
}

static const char *value_in(const struct ref_listing *listing, const char *ref)
{
	struct journal_entry key = {.ref = ref};
	const struct journal_entry *found =
	    listing->count
		? bsearch(&key, listing->items, listing->count, sizeof(key), compare_entries)
		: NULL;
	return found ? found->new_id : relay_zero_id;
}

static void consider(const struct ref_listing *real, const struct ref_listing *view,
		     const struct journal_changes *changes, const char *ref,
		     struct relay_request *out)
{
	const char *now = value_in(real, ref), *wanted = value_in(view, ref);
	const struct journal_entry *moved = journal_find(changes, ref);
	if (strcmp(now, wanted) == 0)
		return; /* already so */
	if (moved && strcmp(moved->old_id, wanted) == 0)
		return; /* a stale view of a ref someone else moved */
	relay_add_command(out, now, wanted, ref);
}

void refdiff_commands(const struct ref_listing *real, const struct ref_listing *view,
		      const struct journal_changes *changes, struct relay_request *out)
{
	*out = (struct relay_request){0};
	for (size_t i = 0; i < view->count; i++)
		consider(real, view, changes, view->items[i].ref, out);
	/* Deleted in the view. */
	for (size_t i = 0; i < real->count; i++)
		if (strcmp(value_in(view, real->items[i].ref), relay_zero_id) == 0)
			consider(real, view, changes, real->items[i].ref, out);
}

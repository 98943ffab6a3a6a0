/* SPDX-License-Identifier: ISC */
/* git's ref files: packed-refs (parse, look up, write) and what one loose ref file holds. Pure
 * code. */
#ifndef GITCAGE_PACKED_H
#define GITCAGE_PACKED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OID_HEX_LEN 40 /* SHA-1; libgit2 1.5 knows no other object format */

struct packed_ref {
	const char *name;
	char oid[OID_HEX_LEN + 1];
	char peeled[OID_HEX_LEN + 1]; /* "" when the file gives no peeled value */
};

struct packed_refs {
	const char *header;	 /* "# pack-refs with: ..." without its newline, or NULL */
	struct packed_ref *refs; /* sorted by name (strcmp), no duplicates */
	size_t count;
	/* Lines git would not read as a ref (or a duplicate name): 0 for a file git wrote. */
	size_t malformed;
	size_t first_malformed_line; /* 1-based, when malformed */
};

/* Whether text is exactly OID_HEX_LEN lowercase hex digits followed by NUL or end. */
bool packed_is_oid(const char *text, size_t len);

/* Parse buf in place (names are NUL-terminated inside it): buf must stay alive as long as
 * out. Unsorted input is sorted. Returns 0 (it dies when out of memory, as gitcage's
 * allocations do). */
int packed_parse(char *buf, size_t len, struct packed_refs *out);

void packed_free(struct packed_refs *refs);

/* The entry named name in a sorted array, or NULL. */
const struct packed_ref *packed_lookup(const struct packed_refs *refs, const char *name);

/* Look name up in an unparsed packed-refs buffer without copying it: a binary search when
 * the header says the file is sorted, a scan otherwise. out->name is set to name. Returns
 * whether it was found. */
bool packed_find(const char *buf, size_t len, const char *name, struct packed_ref *out);

/* The same lookup in the packed-refs bytes at [offset, offset + len) of fd, read with pread a
 * few blocks at a time: in a 100,000-ref file a binary search touches some twenty places,
 * and mapping them would cost a page fault each. Returns 1 (found), 0, or -1: unreadable, or
 * a file this search does not take (unsorted, or a header longer than 255 bytes), which the
 * caller then reads whole for packed_find. */
int packed_find_in_file(int fd, uint64_t offset, uint64_t len, const char *name,
			struct packed_ref *out);

/* What a loose ref file (refs/heads/main, HEAD) holds, as git reads it: "ref:" and a symbolic
 * ref's target (*target: after the blanks, up to a newline or NUL; *target_len), or an id of
 * OID_HEX_LEN lowercase hex digits alone or before a newline (copied into oid), or neither. */
enum packed_loose {
	PACKED_LOOSE_OID,
	PACKED_LOOSE_SYMBOLIC,
	PACKED_LOOSE_INVALID,
};
enum packed_loose packed_parse_loose(const char *data, size_t len, char oid[OID_HEX_LEN + 1],
				     const char **target, size_t *target_len);

/* Format a packed-refs file: header (or the one git writes today), then the refs, which
 * must be sorted. Returns a new buffer and its length in *len. */
char *packed_format(const char *header, const struct packed_ref *const *refs, size_t count,
		    size_t *len);

#endif

/* SPDX-License-Identifier: ISC */
#include "common/packed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"

#define HEADER_PREFIX  "# pack-refs with:"
#define DEFAULT_HEADER "# pack-refs with: peeled fully-peeled sorted "

bool packed_is_oid(const char *text, size_t len)
{
	return len == OID_HEX_LEN && hex_lower(text, len);
}

enum packed_loose packed_parse_loose(const char *data, size_t len, char oid[OID_HEX_LEN + 1],
				     const char **target, size_t *target_len)
{
	oid[0] = '\0';
	*target = NULL;
	*target_len = 0;
	if (len >= 4 && memcmp(data, "ref:", 4) == 0) {
		size_t at = 4;
		while (at < len && (data[at] == ' ' || data[at] == '\t'))
			at++;
		*target = data + at;
		while (at < len && data[at] != '\n' && data[at] != '\0')
			at++;
		*target_len = (size_t)(data + at - *target);
		return PACKED_LOOSE_SYMBOLIC;
	}
	if (len < OID_HEX_LEN || !packed_is_oid(data, OID_HEX_LEN) ||
	    (len > OID_HEX_LEN && data[OID_HEX_LEN] != '\n'))
		return PACKED_LOOSE_INVALID;
	memcpy(oid, data, OID_HEX_LEN);
	oid[OID_HEX_LEN] = '\0';
	return PACKED_LOOSE_OID;
}

/* One line of the file: [start, end) without its newline. */
struct line {
	char *start;
	size_t len;
};

static void note_malformed(struct packed_refs *out, size_t line_number)
{
	if (out->malformed++ == 0)
		out->first_malformed_line = line_number;
}

static void add_ref(struct packed_refs *out, size_t *capacity, char *name, const char *oid)
{
	grow_array(&out->refs, capacity, out->count + 1, sizeof(*out->refs));
	struct packed_ref *ref = &out->refs[out->count++];
	ref->name = name;
	memcpy(ref->oid, oid, OID_HEX_LEN);
	ref->oid[OID_HEX_LEN] = '\0';
	ref->peeled[0] = '\0';
}

/* "^<oid>" peels the ref just before it; "<oid> <name>" is a ref; nothing else is valid. */
static void parse_line(struct packed_refs *out, size_t *capacity, struct line line, size_t number,
		       int *may_peel)
{
	if (line.len == OID_HEX_LEN + 1 && line.start[0] == '^' &&
	    packed_is_oid(line.start + 1, OID_HEX_LEN) && *may_peel) {
		memcpy(out->refs[out->count - 1].peeled, line.start + 1, OID_HEX_LEN);
		out->refs[out->count - 1].peeled[OID_HEX_LEN] = '\0';
		*may_peel = 0;
		return;
	}
	*may_peel = 0;
	if (line.len < OID_HEX_LEN + 2 || line.start[OID_HEX_LEN] != ' ' ||
	    !packed_is_oid(line.start, OID_HEX_LEN) || memchr(line.start, '\0', line.len)) {
		note_malformed(out, number);
		return;
	}
	line.start[line.len] = '\0';
	*may_peel = 1;
	add_ref(out, capacity, line.start + OID_HEX_LEN + 1, line.start);
}

static int compare_refs(const void *a, const void *b)
{
	return strcmp(((const struct packed_ref *)a)->name, ((const struct packed_ref *)b)->name);
}

/* git writes sorted files; a tampered one may not be, and a duplicate is ambiguous. */
static void sort_refs(struct packed_refs *out)
{
	for (size_t i = 1; i < out->count; i++) {
		if (strcmp(out->refs[i - 1].name, out->refs[i].name) >= 0) {
			qsort(out->refs, out->count, sizeof(*out->refs), compare_refs);
			break;
		}
	}
	for (size_t i = 1; i < out->count; i++)
		if (strcmp(out->refs[i - 1].name, out->refs[i].name) == 0)
			note_malformed(out, 0);
}

int packed_parse(char *buf, size_t len, struct packed_refs *out)
{
	size_t capacity = 0, number = 0;
	int may_peel = 0;
	memset(out, 0, sizeof(*out));
	for (char *p = buf, *end = buf + len; p < end;) {
		char *newline = memchr(p, '\n', (size_t)(end - p));
		number++;
		if (!newline) { /* git refuses an unterminated last line */
			note_malformed(out, number);
			break;
		}
		struct line line = {p, (size_t)(newline - p)};
		p = newline + 1;
		if (number == 1 && strncmp(line.start, HEADER_PREFIX, strlen(HEADER_PREFIX)) == 0) {
			*newline = '\0';
			out->header = line.start;
		} else {
			parse_line(out, &capacity, line, number, &may_peel);
		}
	}
	sort_refs(out);
	return 0;
}

void packed_free(struct packed_refs *refs)
{
	free(refs->refs);
	memset(refs, 0, sizeof(*refs));
}

const struct packed_ref *packed_lookup(const struct packed_refs *refs, const char *name)
{
	struct packed_ref key = {.name = name};
	if (!refs->count)
		return NULL;
	return bsearch(&key, refs->refs, refs->count, sizeof(*refs->refs), compare_refs);
}

/* As git's packed-backend: a record is a ref line and the peel line after it. */
static const char *start_of_record(const char *buf, const char *p)
{
	while (p > buf && (p[-1] != '\n' || p[0] == '^'))
		p--;
	return p;
}

static const char *end_of_record(const char *p, const char *end)
{
	while (++p < end && (p[-1] != '\n' || p[0] == '^'))
		;
	return p;
}

/* Compare name with the record's name; -2 when the record is not a ref line. */
static int compare_record(const char *record, const char *end, const char *name)
{
	if (end - record < OID_HEX_LEN + 2 || record[OID_HEX_LEN] != ' ')
		return -2;
	const unsigned char *r = (const unsigned char *)record + OID_HEX_LEN + 1;
	const unsigned char *n = (const unsigned char *)name;
	for (; (const char *)r < end && *r != '\n' && *n; r++, n++)
		if (*r != *n)
			return *n < *r ? -1 : 1;
	if ((const char *)r < end && *r != '\n')
		return -1; /* name is a prefix of the record's name */
	return *n ? 1 : 0;
}

static bool read_record(const char *record, const char *end, const char *name,
			struct packed_ref *out)
{
	if (!packed_is_oid(record, OID_HEX_LEN))
		return false;
	out->name = name;
	memcpy(out->oid, record, OID_HEX_LEN);
	out->oid[OID_HEX_LEN] = '\0';
	out->peeled[0] = '\0';
	const char *next = memchr(record, '\n', (size_t)(end - record));
	if (next && end - next > OID_HEX_LEN + 1 && next[1] == '^' &&
	    packed_is_oid(next + 2, OID_HEX_LEN)) {
		memcpy(out->peeled, next + 2, OID_HEX_LEN);
		out->peeled[OID_HEX_LEN] = '\0';
	}
	return true;
}

static const char *skip_header(const char *buf, const char *end, bool *sorted)
{
	*sorted = false;
	if ((size_t)(end - buf) < strlen(HEADER_PREFIX) ||
	    strncmp(buf, HEADER_PREFIX, strlen(HEADER_PREFIX)) != 0)
		return buf;
	const char *newline = memchr(buf, '\n', (size_t)(end - buf));
	if (!newline)
		return end;
	/* Traits are words after the prefix; git has written "sorted" since 2.16. */
	for (const char *p = buf + strlen(HEADER_PREFIX); p + 6 <= newline; p++)
		if (strncmp(p, " sorted", 7) == 0 && (p + 7 == newline || p[7] == ' '))
			*sorted = true;
	return newline + 1;
}

static bool find_sorted(const char *lo, const char *hi, const char *name, struct packed_ref *out)
{
	const char *start = lo;
	while (lo < hi) {
		const char *record = start_of_record(start, lo + (hi - lo) / 2);
		if (record < lo)
			record = lo;
		int cmp = compare_record(record, hi, name);
		if (cmp == 0)
			return read_record(record, hi, name, out);
		if (cmp == -1)
			hi = record;
		else
			lo = end_of_record(record, hi);
	}
	return false;
}

bool packed_find(const char *buf, size_t len, const char *name, struct packed_ref *out)
{
	const char *end = buf + len;
	bool sorted;
	const char *records = skip_header(buf, end, &sorted);
	if (sorted)
		return find_sorted(records, end, name, out);
	for (const char *p = records; p < end; p = end_of_record(p, end))
		if (compare_record(p, end, name) == 0)
			return read_record(p, end, name, out);
	return false;
}

/* --- the same search through pread: a few cached blocks instead of a mapping --- */

#define BLOCK_SIZE 4096
#define BLOCKS	   4

struct paged {
	int fd;
	uint64_t offset, len;
	char data[BLOCKS][BLOCK_SIZE];
	uint64_t block[BLOCKS];
	int filled[BLOCKS];
	unsigned next;
	int failed;
};

/* The byte at position at (< len): from a cached block, or from one pread into the oldest. */
static int byte_at(struct paged *p, uint64_t at)
{
	uint64_t block = at / BLOCK_SIZE;
	for (unsigned i = 0; i < BLOCKS; i++)
		if (p->filled[i] && p->block[i] == block)
			return (unsigned char)p->data[i][at % BLOCK_SIZE];
	unsigned slot = p->next++ % BLOCKS;
	uint64_t start = block * BLOCK_SIZE;
	size_t want = p->len - start < BLOCK_SIZE ? (size_t)(p->len - start) : BLOCK_SIZE;
	ssize_t got = pread(p->fd, p->data[slot], want, (off_t)(p->offset + start));
	if (got != (ssize_t)want) {
		p->failed = 1;
		p->filled[slot] = 0;
		return '\n';
	}
	p->filled[slot] = 1;
	p->block[slot] = block;
	return (unsigned char)p->data[slot][at % BLOCK_SIZE];
}

static uint64_t paged_start_of_record(struct paged *p, uint64_t lo, uint64_t at)
{
	while (at > lo && (byte_at(p, at - 1) != '\n' || byte_at(p, at) == '^'))
		at--;
	return at;
}

static uint64_t paged_end_of_record(struct paged *p, uint64_t at, uint64_t end)
{
	while (++at < end && (byte_at(p, at - 1) != '\n' || byte_at(p, at) == '^'))
		;
	return at;
}

static int paged_compare(struct paged *p, uint64_t record, uint64_t end, const char *name)
{
	if (end - record < OID_HEX_LEN + 2 || byte_at(p, record + OID_HEX_LEN) != ' ')
		return -2;
	uint64_t at = record + OID_HEX_LEN + 1;
	const unsigned char *n = (const unsigned char *)name;
	for (; at < end && byte_at(p, at) != '\n' && *n; at++, n++)
		if (byte_at(p, at) != *n)
			return *n < byte_at(p, at) ? -1 : 1;
	if (at < end && byte_at(p, at) != '\n')
		return -1;
	return *n ? 1 : 0;
}

/* Copy the record's id, and the peel line after it, into a buffer for read_record. */
static bool paged_read(struct paged *p, uint64_t record, uint64_t end, const char *name,
		       struct packed_ref *out)
{
	char copy[2 * OID_HEX_LEN + 8];
	size_t n = 0;
	uint64_t newline = record;
	while (newline < end && byte_at(p, newline) != '\n')
		newline++;
	for (uint64_t at = record; at < record + OID_HEX_LEN && at < end; at++)
		copy[n++] = (char)byte_at(p, at);
	copy[n++] = '\n';
	for (uint64_t at = newline + 1; at < newline + 2 + OID_HEX_LEN && at < end; at++)
		copy[n++] = (char)byte_at(p, at);
	return n > OID_HEX_LEN && read_record(copy, copy + n, name, out);
}

int packed_find_in_file(int fd, uint64_t offset, uint64_t len, const char *name,
			struct packed_ref *out)
{
	struct paged *p = xcalloc(1, sizeof(*p));
	*p = (struct paged){.fd = fd, .offset = offset, .len = len};
	char header[256];
	size_t header_len = 0;
	while (header_len < len && header_len < sizeof(header) - 1 &&
	       (header[header_len] = (char)byte_at(p, header_len)) != '\n')
		header_len++;
	/* A header longer than the buffer cannot be skipped here: the search would start inside
	 * it and could take its tail for a ref. Read such a file whole. */
	if (header_len == sizeof(header) - 1 && header_len < len &&
	    strncmp(header, HEADER_PREFIX, strlen(HEADER_PREFIX)) == 0) {
		free(p);
		return -1;
	}
	header[header_len] = '\n';
	bool sorted;
	uint64_t lo = (uint64_t)(skip_header(header, header + header_len + 1, &sorted) - header);
	uint64_t hi = len;
	int found = 0;
	while (sorted && lo < hi && !p->failed) {
		uint64_t record = paged_start_of_record(p, lo, lo + (hi - lo) / 2);
		int cmp = paged_compare(p, record, hi, name);
		if (cmp == 0) {
			found = paged_read(p, record, hi, name, out);
			break;
		}
		if (cmp == -1)
			hi = record;
		else
			lo = paged_end_of_record(p, record, hi);
	}
	int failed = p->failed || !sorted;
	free(p);
	if (failed) /* unsorted (git has sorted since 2.16) or unreadable: no binary search */
		return -1;
	return found;
}

char *packed_format(const char *header, const struct packed_ref *const *refs, size_t count,
		    size_t *len)
{
	const char *first = header ? header : DEFAULT_HEADER;
	size_t size = strlen(first) + 2;
	for (size_t i = 0; i < count; i++)
		size += strlen(refs[i]->name) + 2 * OID_HEX_LEN + 4;
	char *buf = xcalloc(1, size);
	size_t used = (size_t)snprintf(buf, size, "%s\n", first);
	for (size_t i = 0; i < count; i++) {
		used += (size_t)snprintf(buf + used, size - used, "%s %s\n", refs[i]->oid,
					 refs[i]->name);
		if (refs[i]->peeled[0])
			used += (size_t)snprintf(buf + used, size - used, "^%s\n", refs[i]->peeled);
	}
	*len = used;
	return buf;
}

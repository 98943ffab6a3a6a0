/* SPDX-License-Identifier: ISC */
/* libFuzzer target for the packed-refs reader (src/common/packed.c): a pushed or tampered
 * repository's packed-refs is hostile. packed_parse must keep the promises of packed.h (ids of
 * 40 lowercase hex digits, names inside the buffer without a newline, sorted, every duplicate
 * counted as malformed); what it kept must survive packed_format and a second parse unchanged;
 * and in a file git would write (nothing malformed), the lookups without a parse (packed_find
 * on the bytes, packed_find_in_file through pread) must find exactly what the parse found.
 * The same bytes as a loose ref file (packed_parse_loose) are an id only when they start with
 * 40 lowercase hex digits and end there or at a newline, and a symbolic ref's target lies
 * inside them, without a newline or a NUL. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/packed.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "invariant broken: %s\n", what);
		abort();
	}
}

static int same_ref(const struct packed_ref *a, const struct packed_ref *b)
{
	return strcmp(a->name, b->name) == 0 && strcmp(a->oid, b->oid) == 0 &&
	       strcmp(a->peeled, b->peeled) == 0;
}

static size_t count_lines(const char *buf, size_t len)
{
	size_t lines = 0;
	for (size_t i = 0; i < len; i++)
		lines += buf[i] == '\n';
	return lines + (len && buf[len - 1] != '\n');
}

/* The promises of struct packed_refs, for a parse of buf (len bytes, lines lines). */
static size_t check_parsed(const struct packed_refs *refs, const char *buf, size_t len,
			   size_t lines)
{
	size_t duplicates = 0;
	check(!refs->malformed || refs->first_malformed_line <= lines, "malformed line number");
	for (size_t i = 0; i < refs->count; i++) {
		const struct packed_ref *r = &refs->refs[i];
		check(r->name >= buf && r->name < buf + len, "a name outside the buffer");
		check(r->name[0] != '\0' && !strchr(r->name, '\n'), "an empty name or a newline");
		check(packed_is_oid(r->oid, strlen(r->oid)), "a bad id");
		check(!r->peeled[0] || packed_is_oid(r->peeled, strlen(r->peeled)), "a bad peel");
		if (i > 0) {
			int order = strcmp(refs->refs[i - 1].name, r->name);
			check(order <= 0, "not sorted");
			duplicates += order == 0;
		}
		check(packed_lookup(refs, r->name) != NULL, "packed_lookup misses a ref");
	}
	check(refs->malformed >= duplicates, "a duplicate not counted as malformed");
	/* Each line is a header, a ref, a peel or malformed; a duplicate is a ref and malformed. */
	check(refs->count + refs->malformed - duplicates <= lines, "more refs than lines");
	return duplicates;
}

/* packed_format of the refs, parsed again: the same refs, and nothing malformed but the
 * duplicates (which packed_format writes as they are). */
static void check_round_trip(const struct packed_refs *refs, size_t duplicates)
{
	const struct packed_ref **list = calloc(refs->count + 1, sizeof(*list));
	for (size_t i = 0; i < refs->count; i++)
		list[i] = &refs->refs[i];
	size_t len;
	char *text = packed_format(refs->header, list, refs->count, &len);
	struct packed_refs again;
	check(packed_parse(text, len, &again) == 0, "the formatted file is refused");
	check(again.count == refs->count, "the round trip changed the count");
	check(again.malformed == duplicates, "the formatted file is malformed");
	for (size_t i = 0; i < refs->count; i++)
		check(same_ref(&again.refs[i], &refs->refs[i]), "the round trip changed a ref");
	packed_free(&again);
	free(text);
	free(list);
}

/* One memfd for every run, holding the bytes of this one. */
static int file_with(const char *bytes, size_t len)
{
	static int fd = -1;
	if (fd < 0)
		fd = memfd_create("packed-refs", MFD_CLOEXEC);
	check(fd >= 0 && ftruncate(fd, 0) == 0 && pwrite(fd, bytes, len, 0) == (ssize_t)len,
	      "memfd");
	return fd;
}

/* The parse's order is the file's order when the names point into the buffer in sequence. */
static int file_sorted(const struct packed_refs *refs)
{
	for (size_t i = 1; i < refs->count; i++)
		if (refs->refs[i - 1].name > refs->refs[i].name)
			return 0;
	return 1;
}

/* sorted_header as header_sorted says. */
static void check_find(const char *copy, size_t len, int fd, int sorted_header,
		       const struct packed_ref *want, const char *name)
{
	struct packed_ref found;
	int got = packed_find(copy, len, name, &found);
	check(got == (want != NULL), "packed_find disagrees with the parse");
	if (got)
		check(same_ref(&found, want), "packed_find read another value");
	if (!sorted_header)
		return;
	got = packed_find_in_file(fd, 0, len, name, &found);
	if (got == -1 && sorted_header == 2)
		return; /* a header too long for its buffer: the caller reads the file whole */
	check(got == (want != NULL), "packed_find_in_file disagrees with the parse");
	if (got == 1)
		check(same_ref(&found, want), "packed_find_in_file read another value");
}

/* 1 for a header that says "sorted" as git writes it (a word of its own after the prefix),
 * 2 when it is also longer than packed_find_in_file's buffer; 0 for an unsorted file. */
static int header_sorted(const struct packed_refs *refs)
{
	const char *h = refs->header;
	if (!h)
		return 0;
	for (const char *p = strstr(h, " sorted"); p; p = strstr(p + 1, " sorted"))
		if (p[7] == '\0' || p[7] == ' ')
			return strlen(h) >= 255 ? 2 : 1;
	return 0;
}

static void check_lookups(const struct packed_refs *refs, const char *copy, size_t len)
{
	int sorted = header_sorted(refs);
	if (sorted && !file_sorted(refs))
		return; /* a lie in the header: the binary search may miss, as git's would */
	int fd = file_with(copy, len);
	/* At most eight refs, spread over the file: each lookup reads the file again. */
	size_t step = refs->count > 8 ? refs->count / 8 : 1;
	for (size_t i = 0; i < refs->count; i += step) {
		const struct packed_ref *r = &refs->refs[i];
		check_find(copy, len, fd, sorted, r, r->name);
		/* Names just beside it are absent unless the parse has them. */
		char *near = malloc(strlen(r->name) + 2);
		sprintf(near, "%s/", r->name);
		check_find(copy, len, fd, sorted, packed_lookup(refs, near), near);
		near[strlen(r->name) - 1] = '\0';
		if (near[0])
			check_find(copy, len, fd, sorted, packed_lookup(refs, near), near);
		free(near);
	}
}

/* On a file git would not write the lookups may miss, but whatever they find is an id. */
static void check_any(const char *copy, size_t len, const char *name)
{
	struct packed_ref found;
	if (packed_find(copy, len, name, &found))
		check(packed_is_oid(found.oid, strlen(found.oid)) &&
			  (!found.peeled[0] || packed_is_oid(found.peeled, strlen(found.peeled))),
		      "packed_find read a bad id");
	int fd = file_with(copy, len);
	if (packed_find_in_file(fd, 0, len, name, &found) == 1)
		check(packed_is_oid(found.oid, strlen(found.oid)) &&
			  (!found.peeled[0] || packed_is_oid(found.peeled, strlen(found.peeled))),
		      "packed_find_in_file read a bad id");
}

static void check_loose(const char *bytes, size_t len)
{
	char oid[OID_HEX_LEN + 1];
	const char *target;
	size_t target_len;
	enum packed_loose kind = packed_parse_loose(bytes, len, oid, &target, &target_len);
	int looks_oid = len >= OID_HEX_LEN && packed_is_oid(bytes, OID_HEX_LEN) &&
			(len == OID_HEX_LEN || bytes[OID_HEX_LEN] == '\n');
	int looks_symbolic = len >= 4 && memcmp(bytes, "ref:", 4) == 0;
	check(kind == (looks_symbolic ? PACKED_LOOSE_SYMBOLIC
		       : looks_oid    ? PACKED_LOOSE_OID
				      : PACKED_LOOSE_INVALID),
	      "a loose ref read as another kind");
	if (kind == PACKED_LOOSE_OID)
		check(memcmp(oid, bytes, OID_HEX_LEN) == 0 && oid[OID_HEX_LEN] == '\0',
		      "a loose ref's id is not its bytes");
	if (kind == PACKED_LOOSE_SYMBOLIC)
		check(target >= bytes + 4 && target + target_len <= bytes + len &&
			  !memchr(target, '\n', target_len) && !memchr(target, '\0', target_len) &&
			  (target_len == 0 || (target[0] != ' ' && target[0] != '\t')),
		      "a symbolic ref's target");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* packed_parse writes into its buffer; the lookups read the bytes as they were. */
	char *buf = malloc(size + 1), *copy = malloc(size + 1);
	memcpy(buf, data, size);
	memcpy(copy, data, size);
	buf[size] = copy[size] = '\0';
	check_loose(copy, size);
	struct packed_refs refs;
	check(packed_parse(buf, size, &refs) == 0, "packed_parse failed");
	size_t duplicates = check_parsed(&refs, buf, size, count_lines(copy, size));
	check_round_trip(&refs, duplicates);
	if (refs.malformed == 0 && memchr(copy, '\0', size) == NULL)
		check_lookups(&refs, copy, size);
	else if (refs.count)
		check_any(copy, size, refs.refs[0].name);
	packed_free(&refs);
	free(buf);
	free(copy);
	return 0;
}

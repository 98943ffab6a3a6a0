/* SPDX-License-Identifier: ISC */
/* Unit tests for src/common/packed.c: a pushed or tampered packed-refs is hostile. Only the lines
 * git writes are refs; everything else is counted as malformed (so the verifier reports it),
 * and the lookups without a parse find what the parse finds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/packed.h"

#define A	"1111111111111111111111111111111111111111"
#define B	"2222222222222222222222222222222222222222"
#define C	"3333333333333333333333333333333333333333"
#define HEADER	"# pack-refs with: peeled fully-peeled sorted \n"
#define UNKNOWN "# pack-refs with: peeled\n" /* no "sorted": a scan, never a binary search */

/* Parse a copy of text (packed_parse writes into its buffer); the copy is in *buf. */
static void parse(const char *text, char **buf, struct packed_refs *out)
{
	*buf = strdup(text);
	assert_non_null(*buf);
	assert_int_equal(packed_parse(*buf, strlen(text), out), 0);
}

static void test_git_file(void **state)
{
	(void)state;
	char *buf;
	struct packed_refs refs;
	parse(HEADER A " refs/heads/main\n" B " refs/tags/v1\n^" C "\n" A " refs/tags/v2\n", &buf,
	      &refs);
	assert_string_equal(refs.header, "# pack-refs with: peeled fully-peeled sorted ");
	assert_int_equal(refs.malformed, 0);
	assert_int_equal(refs.count, 3);
	assert_string_equal(refs.refs[0].name, "refs/heads/main");
	assert_string_equal(refs.refs[0].peeled, "");
	assert_string_equal(refs.refs[1].name, "refs/tags/v1");
	assert_string_equal(refs.refs[1].oid, B);
	assert_string_equal(refs.refs[1].peeled, C); /* the peel line belongs to the ref before */
	assert_string_equal(refs.refs[2].peeled, "");
	assert_ptr_equal(packed_lookup(&refs, "refs/tags/v2"), &refs.refs[2]);
	assert_null(packed_lookup(&refs, "refs/tags/v"));
	assert_null(packed_lookup(&refs, "refs/tags/v22"));
	packed_free(&refs);
	free(buf);
}

static void test_unsorted_is_sorted(void **state)
{
	(void)state;
	char *buf;
	struct packed_refs refs;
	parse(A " refs/heads/zeta\n" B " refs/heads/alpha\n^" C "\n" C " refs/heads/mid\n", &buf,
	      &refs);
	assert_null(refs.header);
	assert_int_equal(refs.malformed, 0);
	assert_int_equal(refs.count, 3);
	assert_string_equal(refs.refs[0].name, "refs/heads/alpha");
	assert_string_equal(refs.refs[0].peeled, C); /* the peel stays with its ref */
	assert_string_equal(refs.refs[1].name, "refs/heads/mid");
	assert_string_equal(refs.refs[2].name, "refs/heads/zeta");
	packed_free(&refs);
	free(buf);
}

/* Each text has malformed lines; the comment says why, and which line is the first. */
static const struct {
	const char *text;
	size_t count, malformed, first;
} hostile[] = {
    {HEADER "# a comment\n" A " refs/heads/a\n", 1, 1, 2},     /* only line 1 is a header */
    {"# a comment\n" A " refs/heads/a\n", 1, 1, 1},	       /* not git's header */
    {HEADER A " refs/heads/a", 0, 1, 2},		       /* no newline: git refuses it */
    {HEADER A " refs/heads/a\n" B " refs/heads/a\n", 2, 1, 0}, /* a duplicate is ambiguous */
    {HEADER "^" A "\n" B " refs/heads/a\n", 1, 1, 2},	       /* a peel of nothing */
    {HEADER A " refs/heads/a\n^" B "\n^" C "\n", 1, 1, 4},     /* peeled twice */
    {HEADER "1111 refs/heads/a\n", 0, 1, 2},		       /* a short id */
    {HEADER "111111111111111111111111111111111111111G refs/heads/a\n", 0, 1, 2},
    {HEADER "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA refs/heads/a\n", 0, 1, 2}, /* uppercase */
    {HEADER A "  refs/heads/a\n" A "\trefs/heads/b\n", 1, 1, 3}, /* a tab is no separator */
    {HEADER A " \n", 0, 1, 2},					 /* no name */
    {HEADER A " refs/heads/a\n^" B "x\n", 1, 1, 3},		 /* a peel with a tail */
    {HEADER A " refs/heads/a\n\n", 1, 1, 3},			 /* a blank line */
    /* CRLF: the ref keeps its \r (the verifier refuses the name); a peel line is spoilt. */
    {HEADER A " refs/heads/a\r\n^" B "\r\n", 1, 1, 3},
};

static void test_malformed(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		char *buf;
		struct packed_refs refs;
		parse(hostile[i].text, &buf, &refs);
		assert_int_equal(refs.count, hostile[i].count);
		assert_int_equal(refs.malformed, hostile[i].malformed);
		assert_int_equal(refs.first_malformed_line, hostile[i].first);
		for (size_t r = 0; r < refs.count; r++) {
			assert_true(packed_is_oid(refs.refs[r].oid, strlen(refs.refs[r].oid)));
			assert_null(strchr(refs.refs[r].name, '\n'));
		}
		packed_free(&refs);
		free(buf);
	}
}

static void test_crlf_name_keeps_its_cr(void **state)
{
	(void)state;
	char *buf;
	struct packed_refs refs;
	parse(HEADER A " refs/heads/a\r\n", &buf, &refs);
	assert_int_equal(refs.count, 1);
	assert_string_equal(refs.refs[0].name, "refs/heads/a\r");
	assert_null(packed_lookup(&refs, "refs/heads/a"));
	packed_free(&refs);
	free(buf);
}

/* A NUL inside a ref line would cut the name short: the line is malformed. */
static void test_nul_in_line(void **state)
{
	(void)state;
	static const char text[] = A " refs/heads/a\0b\n" B " refs/heads/c\n";
	char buf[sizeof(text)];
	struct packed_refs refs;
	memcpy(buf, text, sizeof(text));
	assert_int_equal(packed_parse(buf, sizeof(text) - 1, &refs), 0);
	assert_int_equal(refs.count, 1);
	assert_string_equal(refs.refs[0].name, "refs/heads/c");
	assert_int_equal(refs.malformed, 1);
	assert_int_equal(refs.first_malformed_line, 1);
	packed_free(&refs);
}

static void test_is_oid(void **state)
{
	(void)state;
	assert_true(packed_is_oid(A, 40));
	assert_true(packed_is_oid("0123456789abcdef0123456789abcdef01234567", 40));
	assert_false(packed_is_oid(A, 39));
	assert_false(packed_is_oid(A "1", 41));
	assert_false(packed_is_oid("0123456789ABCDEF0123456789abcdef01234567", 40));
	assert_false(packed_is_oid("0123456789abcdef0123456789abcdef0123456g", 40));
}

/* --- lookups without a parse --- */

static const char sorted_file[] =
    HEADER A " refs/heads/a\n" B " refs/heads/b\n^" C "\n" C " refs/heads/b/c\n" A " refs/tags/z\n";

static void expect_found(const char *buf, size_t len, const char *name, const char *oid,
			 const char *peeled)
{
	struct packed_ref found;
	assert_true(packed_find(buf, len, name, &found));
	assert_string_equal(found.name, name);
	assert_string_equal(found.oid, oid);
	assert_string_equal(found.peeled, peeled);
}

static void test_find_sorted(void **state)
{
	(void)state;
	size_t len = strlen(sorted_file);
	struct packed_ref found;
	expect_found(sorted_file, len, "refs/heads/a", A, "");
	expect_found(sorted_file, len, "refs/heads/b", B, C);
	expect_found(sorted_file, len, "refs/heads/b/c", C, "");
	expect_found(sorted_file, len, "refs/tags/z", A, "");
	assert_false(packed_find(sorted_file, len, "refs/heads/", &found));
	assert_false(packed_find(sorted_file, len, "refs/heads/b/", &found));
	assert_false(packed_find(sorted_file, len, "refs/tags/zz", &found));
	assert_false(packed_find(sorted_file, len, "", &found));
}

static void test_find_unsorted(void **state)
{
	(void)state;
	static const char text[] = UNKNOWN A " refs/tags/z\n" B " refs/heads/b\n^" C "\n";
	struct packed_ref found;
	expect_found(text, strlen(text), "refs/heads/b", B, C);
	expect_found(text, strlen(text), "refs/tags/z", A, "");
	assert_false(packed_find(text, strlen(text), "refs/heads/a", &found));
	/* No header at all is a file of an old git: a scan too. */
	expect_found(text + strlen(UNKNOWN), strlen(text) - strlen(UNKNOWN), "refs/heads/b", B, C);
}

static int memfd_with(const char *text, size_t len)
{
	int fd = memfd_create("packed-refs", MFD_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	return fd;
}

static void test_find_in_file(void **state)
{
	(void)state;
	size_t len = strlen(sorted_file);
	struct packed_ref found;
	int fd = memfd_with(sorted_file, len);
	assert_int_equal(packed_find_in_file(fd, 0, len, "refs/heads/b", &found), 1);
	assert_string_equal(found.oid, B);
	assert_string_equal(found.peeled, C);
	assert_int_equal(packed_find_in_file(fd, 0, len, "refs/tags/z", &found), 1);
	assert_string_equal(found.oid, A);
	assert_int_equal(packed_find_in_file(fd, 0, len, "refs/heads/c", &found), 0);
	/* A length past the end of the file is an error, not a ref. */
	assert_int_equal(packed_find_in_file(fd, 0, len + 5000, "refs/tags/z", &found), -1);
	close(fd);
	/* Unsorted: -1, for the caller to read it whole. */
	fd = memfd_with(UNKNOWN A " refs/heads/a\n", strlen(UNKNOWN A " refs/heads/a\n"));
	assert_int_equal(packed_find_in_file(fd, 0, strlen(UNKNOWN) + 54, "refs/heads/a", &found),
			 -1);
	close(fd);
}

/* Many refs over many blocks: every one is found through the few cached blocks. */
static void test_find_in_large_file(void **state)
{
	(void)state;
	size_t cap = 2000 * 80, len = 0;
	char *text = malloc(cap);
	len += (size_t)snprintf(text, cap, "%s", HEADER);
	for (int i = 0; i < 2000; i++)
		len += (size_t)snprintf(text + len, cap - len, "%040x refs/heads/b%05d\n", i, i);
	int fd = memfd_with(text, len);
	for (int i = 0; i < 2000; i += 7) {
		char name[32], oid[41];
		struct packed_ref found;
		snprintf(name, sizeof(name), "refs/heads/b%05d", i);
		snprintf(oid, sizeof(oid), "%040x", i);
		assert_int_equal(packed_find_in_file(fd, 0, len, name, &found), 1);
		assert_string_equal(found.oid, oid);
		expect_found(text, len, name, oid, "");
	}
	close(fd);
	free(text);
}

/* Found by the fuzz target: a header longer than the search's buffer was partly taken for a
 * record, and an existing ref was missed. Such a file is now read whole (-1). */
static void test_find_in_file_long_header(void **state)
{
	(void)state;
	char text[2048];
	int n = snprintf(text, sizeof(text), "# pack-refs with: peeled fully-peeled sorted %*s\n",
			 600, "x");
	n += snprintf(text + n, sizeof(text) - (size_t)n, A " refs/heads/a\n" B " refs/heads/b\n");
	memset(text + 256, 'y', 40);
	memcpy(text + 296, " zzz", 4); /* what the search took for a record at byte 256 */
	struct packed_ref found;
	int fd = memfd_with(text, (size_t)n);
	assert_int_equal(packed_find_in_file(fd, 0, (size_t)n, "refs/heads/a", &found), -1);
	close(fd);
	expect_found(text, (size_t)n, "refs/heads/a", A, "");
}

static void test_format_round_trip(void **state)
{
	(void)state;
	char *buf, *again_buf;
	struct packed_refs refs, again;
	parse(UNKNOWN B " refs/tags/v1\n^" C "\n" A " refs/heads/main\n", &buf, &refs);
	const struct packed_ref *list[] = {&refs.refs[0], &refs.refs[1]};
	size_t len;
	char *text = packed_format(NULL, list, 2, &len);
	assert_int_equal(len, strlen(text));
	assert_string_equal(text, HEADER A " refs/heads/main\n" B " refs/tags/v1\n^" C "\n");
	parse(text, &again_buf, &again);
	assert_int_equal(again.count, 2);
	assert_int_equal(again.malformed, 0);
	assert_string_equal(again.refs[1].peeled, C);
	free(text);
	text = packed_format(refs.header, list, 0, &len);
	assert_string_equal(text, UNKNOWN);
	free(text);
	packed_free(&refs);
	packed_free(&again);
	free(buf);
	free(again_buf);
}

static void expect_loose(const char *text, size_t len, enum packed_loose kind, const char *want)
{
	char oid[OID_HEX_LEN + 1];
	const char *target;
	size_t target_len;
	assert_int_equal(packed_parse_loose(text, len, oid, &target, &target_len), kind);
	if (kind == PACKED_LOOSE_OID)
		assert_string_equal(oid, want);
	if (kind == PACKED_LOOSE_SYMBOLIC) {
		assert_int_equal(target_len, strlen(want));
		assert_memory_equal(target, want, target_len);
	}
}

#define LOOSE(text, kind, want) expect_loose(text, sizeof(text) - 1, kind, want)

/* A loose ref file, as git reads one: the refs reader (txn/refs.c) and the offline verifier
 * (guard/verify_offline.c) both ask this. */
static void test_loose(void **state)
{
	(void)state;
	LOOSE(A "\n", PACKED_LOOSE_OID, A);
	LOOSE(A, PACKED_LOOSE_OID, A);
	LOOSE(A "\ntrailing lines are git's business", PACKED_LOOSE_OID, A);
	LOOSE("ref: refs/heads/main\n", PACKED_LOOSE_SYMBOLIC, "refs/heads/main");
	LOOSE("ref:\t refs/heads/main", PACKED_LOOSE_SYMBOLIC, "refs/heads/main");
	LOOSE("ref:refs/x\0hidden\n", PACKED_LOOSE_SYMBOLIC, "refs/x");
	LOOSE("ref:", PACKED_LOOSE_SYMBOLIC, "");
	LOOSE(A " \n", PACKED_LOOSE_INVALID, NULL);  /* a blank after the id */
	LOOSE(A "1\n", PACKED_LOOSE_INVALID, NULL);  /* 41 digits */
	LOOSE(A "\r\n", PACKED_LOOSE_INVALID, NULL); /* CRLF */
	LOOSE("111\n", PACKED_LOOSE_INVALID, NULL);
	LOOSE("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n", PACKED_LOOSE_INVALID, NULL);
	LOOSE("re", PACKED_LOOSE_INVALID, NULL);
	LOOSE("", PACKED_LOOSE_INVALID, NULL);
	LOOSE(" ref: refs/heads/main\n", PACKED_LOOSE_INVALID, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_git_file),
	    cmocka_unit_test(test_unsorted_is_sorted),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_crlf_name_keeps_its_cr),
	    cmocka_unit_test(test_nul_in_line),
	    cmocka_unit_test(test_is_oid),
	    cmocka_unit_test(test_find_sorted),
	    cmocka_unit_test(test_find_unsorted),
	    cmocka_unit_test(test_find_in_file),
	    cmocka_unit_test(test_find_in_large_file),
	    cmocka_unit_test(test_find_in_file_long_header),
	    cmocka_unit_test(test_format_round_trip),
	    cmocka_unit_test(test_loose),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: ISC */
/* libFuzzer target for audit_format (src/common/audit.c): the user, the repository, ref names
 * and reasons in an audit record come from clients. The record is one line (no control byte but
 * the final newline, so that no value can forge a second record), a JSON object of the fields
 * in their order whose strings decode to exactly the bytes given (null for none); it fits in a
 * buffer one byte longer than it, and in anything shorter it is refused without a byte written
 * past the buffer.
 *
 * The input: 8 bytes (time, verdicts, which fields are null, ref count), then the strings,
 * each ended by a NUL: user, key, client, service, repo, reason, then per ref name, old, new
 * and reason. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/audit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "invariant broken: %s\n", what);
		abort();
	}
}

#define MAX_REFS 8

/* The input cut into NUL-ended strings; past the end, every string is "". */
struct reader {
	const char *p, *end;
};

static const char *next_string(struct reader *r, int null)
{
	const char *s = r->p;
	const char *nul = memchr(r->p, '\0', (size_t)(r->end - r->p));
	if (!nul)
		return null ? NULL : "";
	r->p = nul + 1;
	return null ? NULL : s;
}

/* --- a strict reader of the JSON audit_format writes --- */

struct json {
	const char *p, *end;
};

static void expect(struct json *j, const char *text)
{
	size_t len = strlen(text);
	check((size_t)(j->end - j->p) >= len && memcmp(j->p, text, len) == 0, text);
	j->p += len;
}

static int hex(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* A string (or null) that must decode to want, byte for byte. */
static void expect_string(struct json *j, const char *want)
{
	if (!want) {
		expect(j, "null");
		return;
	}
	expect(j, "\"");
	for (const char *w = want;; w++) {
		check(j->p < j->end, "a string not closed");
		char c = *j->p++;
		if (c == '"') {
			check(*w == '\0', "a string shorter than its value");
			return;
		}
		if (c == '\\') {
			check(j->end - j->p >= 1, "an escape cut short");
			c = *j->p++;
			if (c == 'u') {
				check(j->end - j->p >= 4 && j->p[0] == '0' && j->p[1] == '0' &&
					  hex(j->p[2]) >= 0 && hex(j->p[3]) >= 0,
				      "a bad \\u escape");
				c = (char)(hex(j->p[2]) * 16 + hex(j->p[3]));
				check((unsigned char)c < 0x20 || c == 0x7f,
				      "a printable byte escaped");
				j->p += 4;
			} else {
				check(c == '"' || c == '\\', "an escape JSON does not have");
			}
		} else {
			check((unsigned char)c >= 0x20 && c != 0x7f, "a control byte in a string");
		}
		check(c == *w, "a string that decodes to other bytes");
	}
}

static void expect_field(struct json *j, const char *separator, const char *key, const char *value)
{
	expect(j, separator);
	expect(j, "\"");
	expect(j, key);
	expect(j, "\":");
	expect_string(j, value);
}

static void expect_number(struct json *j, long long want)
{
	char text[32];
	snprintf(text, sizeof(text), "%lld", want);
	expect(j, text);
}

static void check_json(const char *buf, size_t len, const struct audit_record *r)
{
	struct json j = {buf, buf + len};
	expect(&j, "{\"time\":\"");
	check(j.end - j.p > 21 && j.p[20] == '"', "a time that is not YYYY-MM-DDTHH:MM:SSZ");
	j.p += 21;
	expect_field(&j, ",", "user", r->user);
	expect_field(&j, ",", "key", r->key);
	expect_field(&j, ",", "client", r->client);
	expect_field(&j, ",", "service", r->service);
	expect_field(&j, ",", "repo", r->repo);
	expect_field(&j, ",", "verdict", audit_verdict_name(r->verdict));
	expect_field(&j, ",", "reason", r->reason);
	expect(&j, ",\"refs\":[");
	for (size_t i = 0; i < r->ref_count; i++) {
		expect(&j, i ? ",{" : "{");
		expect_field(&j, "", "ref", r->refs[i].name);
		expect_field(&j, ",", "old", r->refs[i].old_id);
		expect_field(&j, ",", "new", r->refs[i].new_id);
		expect_field(&j, ",", "verdict", audit_verdict_name(r->refs[i].verdict));
		expect_field(&j, ",", "reason", r->refs[i].reason);
		expect(&j, "}");
	}
	expect(&j, "]");
	if (r->phases) {
		expect(&j, ",\"phases\":{\"stage_us\":");
		expect_number(&j, r->phases->stage_us);
		expect(&j, ",\"verify_us\":");
		expect_number(&j, r->phases->verify_us);
		expect(&j, ",\"publish_us\":");
		expect_number(&j, r->phases->publish_us);
		expect(&j, "}");
	}
	expect(&j, ",\"duration_ms\":");
	expect_number(&j, r->duration_ms);
	expect(&j, ",\"exit\":");
	expect_number(&j, r->exit_status);
	expect(&j, "}\n");
	check(j.p == j.end, "bytes after the record");
}

/* The record fits in len + 1 bytes; in len, len - 1, one size chosen by the input and 1 it is
 * refused, and nothing is written past the buffer. */
static void check_sizes(const struct audit_record *r, long long when, int len, uint8_t choice)
{
	char *exact = malloc((size_t)len + 1);
	check(audit_format(r, when, exact, (size_t)len + 1) == len, "no fit in len + 1 bytes");
	free(exact);
	size_t sizes[] = {(size_t)len, (size_t)len - 1, 1 + (size_t)len * choice / 256, 1};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		if (sizes[i] == 0)
			continue;
		char *small = malloc(sizes[i]);
		check(audit_format(r, when, small, sizes[i]) == -1, "a record cut short is taken");
		free(small);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 8)
		return 0;
	struct reader in = {(const char *)data + 8, (const char *)data + size};
	unsigned nulls = data[4] | (unsigned)data[5] << 8;
	/* Any time from 1970 to 2106: gmtime of time(NULL). */
	long long when =
	    (long long)(data[0] | data[1] << 8 | data[2] << 16 | (uint32_t)data[3] << 24);
	struct audit_ref refs[MAX_REFS];
	struct audit_phases phases = {(int8_t)data[6] * 1000003LL, data[7], -(long long)size};
	struct audit_record record = {
	    .user = next_string(&in, nulls & 1),
	    .key = next_string(&in, nulls & 2),
	    .client = next_string(&in, nulls & 4),
	    .service = next_string(&in, nulls & 8),
	    .repo = next_string(&in, nulls & 16),
	    .verdict = (enum audit_verdict)(data[6] % 4), /* 3: not a verdict, named "failed" */
	    .reason = next_string(&in, nulls & 32),
	    .refs = refs,
	    .ref_count = data[7] % (MAX_REFS + 1),
	    .phases = nulls & 64 ? &phases : NULL,
	    .duration_ms = (long long)size * -7919,
	    .exit_status = (int8_t)data[5],
	};
	for (size_t i = 0; i < record.ref_count; i++)
		refs[i] = (struct audit_ref){
		    .name = next_string(&in, 0),
		    .old_id = next_string(&in, 0),
		    .new_id = next_string(&in, nulls & (128u << i % 4)),
		    .verdict = (enum audit_verdict)((data[6] >> (i % 4)) % 3),
		    .reason = next_string(&in, nulls & (2048u << i % 4)),
		};
	size_t cap = 6 * size + 4096; /* every byte escaped takes six */
	char *buf = malloc(cap);
	int len = audit_format(&record, when, buf, cap);
	check(len > 0 && (size_t)len < cap, "a record that did not fit its buffer");
	check(buf[len - 1] == '\n', "a record without its newline");
	for (int i = 0; i < len - 1; i++)
		check((unsigned char)buf[i] >= 0x20 && buf[i] != 0x7f,
		      "a control byte in the record");
	check_json(buf, (size_t)len, &record);
	check_sizes(&record, when, len, data[0]);
	free(buf);
	return 0;
}

/* SPDX-License-Identifier: ISC */
/* Unit tests for src/common/audit.c: the record's format, byte for byte. User names, paths, ref
 * names and reasons come from clients: every control byte is escaped, so that no value can end
 * the line and forge a second record, and every record is written whole, in one write. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/audit.h"
#include "common/util.h"

#define A "1111111111111111111111111111111111111111"
#define Z "0000000000000000000000000000000000000000"

static char line[65536];

static const char *format(const struct audit_record *record)
{
	int len = audit_format(record, 0, line, sizeof(line));
	assert_true(len > 0);
	assert_int_equal((size_t)len, strlen(line));
	return line;
}

static void test_fetch_record(void **state)
{
	(void)state;
	struct audit_record record = {
	    .user = "alice",
	    .key = "SHA256:abc",
	    .client = "192.0.2.1 5555 192.0.2.2 22",
	    .service = "git-upload-pack",
	    .repo = "team/demo.git",
	    .verdict = AUDIT_OK,
	    .duration_ms = 12,
	};
	assert_string_equal(format(&record),
			    "{\"time\":\"1970-01-01T00:00:00Z\",\"user\":\"alice\",\"key\":"
			    "\"SHA256:abc\",\"client\":\"192.0.2.1 5555 192.0.2.2 22\",\"service\":"
			    "\"git-upload-pack\",\"repo\":\"team/demo.git\",\"verdict\":\"ok\","
			    "\"reason\":null,\"refs\":[],\"duration_ms\":12,\"exit\":0}\n");
}

static void test_push_record(void **state)
{
	(void)state;
	struct audit_ref refs[] = {
	    {"refs/heads/main", A, Z, AUDIT_REFUSED, "protected"},
	    {"refs/tags/v1", Z, A, AUDIT_OK, NULL},
	};
	struct audit_phases phases = {1, 22, 333};
	struct audit_record record = {
	    .user = "bob",
	    .service = "git-receive-pack",
	    .repo = "demo.git",
	    .verdict = AUDIT_REFUSED,
	    .reason = "a ref was refused",
	    .refs = refs,
	    .ref_count = 2,
	    .phases = &phases,
	    .duration_ms = -1,
	    .exit_status = 1,
	};
	int len = audit_format(&record, 1700000000, line, sizeof(line));
	assert_string_equal(
	    line,
	    "{\"time\":\"2023-11-14T22:13:20Z\",\"user\":\"bob\",\"key\":null,\"client\":null,"
	    "\"service\":\"git-receive-pack\",\"repo\":\"demo.git\",\"verdict\":\"refused\","
	    "\"reason\":\"a ref was refused\",\"refs\":[{\"ref\":\"refs/heads/main\",\"old\":"
	    "\"" A "\",\"new\":\"" Z "\",\"verdict\":\"refused\",\"reason\":\"protected\"},"
	    "{\"ref\":\"refs/tags/v1\",\"old\":\"" Z "\",\"new\":\"" A "\",\"verdict\":\"ok\","
	    "\"reason\":null}],\"phases\":{\"stage_us\":1,\"verify_us\":22,\"publish_us\":333},"
	    "\"duration_ms\":-1,\"exit\":1}\n");
	assert_int_equal(len, strlen(line));
}

/* Every control byte and DEL as \u00XX, quote and backslash escaped; the rest as it is (bytes
 * of 0x80 and above too: a ref name need not be UTF-8). */
static void test_escaping(void **state)
{
	(void)state;
	struct audit_record record = {
	    .user = "eve\n{\"user\":\"root\"}",
	    .repo = "a\\b\"c\x01\x1f\x7f\t\r\x1b[2J\xc3\xa9\xff",
	};
	format(&record);
	assert_non_null(strstr(line, "\"user\":\"eve\\u000a{\\\"user\\\":\\\"root\\\"}\""));
	assert_non_null(strstr(line, "\"repo\":\"a\\\\b\\\"c\\u0001\\u001f\\u007f\\u0009\\u000d"
				     "\\u001b[2J\xc3\xa9\xff\""));
	/* One line: no byte below 0x20 but the final newline. */
	size_t len = strlen(line);
	for (size_t i = 0; i + 1 < len; i++)
		assert_true((unsigned char)line[i] >= 0x20 && line[i] != 0x7f);
	assert_int_equal(line[len - 1], '\n');
}

static void test_verdict_names(void **state)
{
	(void)state;
	assert_string_equal(audit_verdict_name(AUDIT_OK), "ok");
	assert_string_equal(audit_verdict_name(AUDIT_REFUSED), "refused");
	assert_string_equal(audit_verdict_name(AUDIT_FAILED), "failed");
	assert_string_equal(audit_verdict_name((enum audit_verdict)7), "failed"); /* fail closed */
}

/* A record fits in its length plus the NUL, and is refused (-1) in anything shorter, without a
 * byte written past the buffer (ASan would say). */
static void test_sizes(void **state)
{
	(void)state;
	struct audit_record record = {.user = "alice", .repo = "x\ny", .verdict = AUDIT_FAILED};
	int len = audit_format(&record, 0, line, sizeof(line));
	assert_true(len > 0);
	for (size_t size = (size_t)len + 1; size > 0; size--) {
		char *buf = malloc(size);
		assert_int_equal(audit_format(&record, 0, buf, size),
				 size > (size_t)len ? len : -1);
		if (size > (size_t)len)
			assert_memory_equal(buf, line, (size_t)len + 1);
		free(buf);
	}
}

struct dir {
	char path[64];
	char file[128];
};

static int dir_setup(void **state)
{
	struct dir *d = calloc(1, sizeof(*d));
	snprintf(d->path, sizeof(d->path), "/tmp/gitcage-audit-XXXXXX");
	if (!mkdtemp(d->path))
		return -1;
	snprintf(d->file, sizeof(d->file), "%s/audit.log", d->path);
	*state = d;
	return 0;
}

static int dir_teardown(void **state)
{
	struct dir *d = *state;
	char link[160];
	snprintf(link, sizeof(link), "%s/link.log", d->path);
	unlink(link);
	unlink(d->file);
	rmdir(d->path);
	free(d);
	return 0;
}

static char *read_all(const char *path)
{
	static char buf[1 << 16];
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void test_write_appends_lines(void **state)
{
	struct dir *d = *state;
	struct audit_record record = {.user = "alice", .service = "run", .verdict = AUDIT_OK};
	assert_int_equal(audit_check(d->file), 0);
	assert_int_equal(audit_write(d->file, &record), 0);
	record.user = "bob\nforged";
	assert_int_equal(audit_write(d->file, &record), 0);
	const char *text = read_all(d->file);
	const char *second = strchr(text, '\n') + 1;
	assert_non_null(strstr(text, "\"user\":\"alice\""));
	assert_true(strncmp(second, "{\"time\":", 8) == 0);
	assert_non_null(strstr(second, "\"user\":\"bob\\u000aforged\""));
	size_t lines = 0;
	for (const char *c = text; *c; c++)
		lines += *c == '\n';
	assert_int_equal(lines, 2); /* the newline in bob's name did not make a third */
	struct stat st;
	assert_int_equal(stat(d->file, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
}

/* A link planted at the log's path is not followed: the record is not written, and the caller
 * learns it (it refuses the call when audit-required). */
static void test_write_refuses_a_link(void **state)
{
	struct dir *d = *state;
	char link[160];
	struct audit_record record = {.user = "alice", .verdict = AUDIT_OK};
	snprintf(link, sizeof(link), "%s/link.log", d->path);
	assert_int_equal(symlink(d->file, link), 0);
	assert_int_equal(audit_check(link), -1);
	assert_int_equal(errno, ELOOP);
	assert_int_equal(audit_write(link, &record), -1);
	assert_int_equal(access(d->file, F_OK), -1); /* nothing written through it */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fetch_record),
	    cmocka_unit_test(test_push_record),
	    cmocka_unit_test(test_escaping),
	    cmocka_unit_test(test_verdict_names),
	    cmocka_unit_test(test_sizes),
	    cmocka_unit_test_setup_teardown(test_write_appends_lines, dir_setup, dir_teardown),
	    cmocka_unit_test_setup_teardown(test_write_refuses_a_link, dir_setup, dir_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: ISC */
/* Unit tests for src/gitcage/keyline.c (one line of a key file) and the key-file naming
 * rule of src/gitcage/keys.c: hostile lines are refused whole, never split or half-read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gitcage/keyline.h"
#include "gitcage/keys.h"

#define BLOB "AAAAC3NzaC1lZDI1NTE5AAAAIHd1c2VyMTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0"

static int parse(const char *line, struct key_line *key)
{
	struct error err = {""};
	return keys_parse_line(line, strlen(line), key, &err);
}

static void test_keys_taken(void **state)
{
	(void)state;
	struct key_line key;
	assert_int_equal(parse("ssh-ed25519 " BLOB " alice@laptop", &key), 1);
	assert_string_equal(key.type, "ssh-ed25519");
	assert_int_equal(key.blob_len, strlen(BLOB));
	assert_memory_equal(key.blob, BLOB, strlen(BLOB));
	assert_int_equal(parse("ssh-ed25519 " BLOB, &key), 1);
	assert_int_equal(parse("  ssh-ed25519\t" BLOB "  \r", &key), 1); /* CRLF, blanks */
	assert_int_equal(key.blob_len, strlen(BLOB));
	assert_int_equal(parse("ssh-rsa AAAA", &key), 1);
	assert_int_equal(parse("ssh-rsa AAA=", &key), 1);
	assert_int_equal(parse("ssh-rsa AA==", &key), 1);
}

static void test_lines_passed_over(void **state)
{
	(void)state;
	struct key_line key;
	assert_int_equal(parse("", &key), 0);
	assert_int_equal(parse("   \t ", &key), 0);
	assert_int_equal(parse("# a comment", &key), 0);
	assert_int_equal(parse("  # indented", &key), 0);
}

static void test_hostile_lines_refused(void **state)
{
	(void)state;
	static const char *const hostile[] = {
	    "command=\"sh\" ssh-ed25519 " BLOB, /* options: gitcage writes its own */
	    "restrict ssh-ed25519 " BLOB,
	    "ssh-dss " BLOB, /* not a type sshd takes for users */
	    "SSH-ED25519 " BLOB,
	    "ssh-ed25519", /* no key data */
	    "ssh-ed25519 ",
	    "ssh-ed25519 AAAA\"x", /* would end command="..." early */
	    "ssh-ed25519 AAA",	   /* not a multiple of four */
	    "ssh-ed25519 A===",
	    "ssh-ed25519 ====",
	    "ssh-ed25519 AA=A",
	    "ssh-ed25519 " BLOB "\x1b[2J", /* terminal escapes */
	    "ssh-ed25519 " BLOB " \x01",
	    "ssh-ed25519 " BLOB "\x7f",
	    "ssh-ed25519\x0b" BLOB,
	};
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		struct key_line key;
		struct error err = {""};
		if (keys_parse_line(hostile[i], strlen(hostile[i]), &key, &err) != -1)
			fail_msg("taken: %s", hostile[i]);
		assert_true(err.message[0] != '\0');
	}
}

/* A NUL inside, and a line that does not end where the buffer does: only len counts. */
static void test_bounded_by_len(void **state)
{
	(void)state;
	struct key_line key;
	struct error err;
	static const char with_nul[] = "ssh-ed25519 AAAA\0 ssh-rsa BBBB";
	assert_int_equal(keys_parse_line(with_nul, sizeof(with_nul) - 1, &key, &err), -1);
	static const char longer[] = "ssh-ed25519 AAAAxxxx";
	assert_int_equal(keys_parse_line(longer, strlen("ssh-ed25519 AAAA"), &key, &err), 1);
	assert_int_equal(key.blob_len, 4);
}

/* Longer than KEYS_LINE_MAX: refused whole, however valid it looks. */
static void test_long_lines(void **state)
{
	(void)state;
	struct key_line key;
	struct error err;
	size_t len = KEYS_LINE_MAX + 1;
	char *line = malloc(len + 1);
	assert_non_null(line);
	memcpy(line, "ssh-rsa ", 8);
	memset(line + 8, 'A', len - 8);
	line[len] = '\0';
	assert_int_equal(keys_parse_line(line, len, &key, &err), -1);
	assert_non_null(strstr(err.message, "refused whole"));
	/* Exactly the limit is taken (the blob's length is a multiple of four). */
	size_t fits = KEYS_LINE_MAX - ((KEYS_LINE_MAX - 8) % 4);
	assert_int_equal(keys_parse_line(line, fits, &key, &err), 1);
	assert_int_equal(key.blob_len, fits - 8);
	free(line);
}

/* gitolite's rule: "@HOST" is dropped when it holds no '.'. */
static void test_file_names(void **state)
{
	(void)state;
	char user[64];
	assert_int_equal(keys_user_of_file("alice.pub", user, sizeof(user)), 0);
	assert_string_equal(user, "alice");
	assert_int_equal(keys_user_of_file("alice@laptop.pub", user, sizeof(user)), 0);
	assert_string_equal(user, "alice");
	assert_int_equal(keys_user_of_file("user@example.com.pub", user, sizeof(user)), 0);
	assert_string_equal(user, "user@example.com");
	assert_int_equal(keys_user_of_file("user@example.com@laptop.pub", user, sizeof(user)), 0);
	assert_string_equal(user, "user@example.com");
	static const char *const refused[] = {
	    "alice",   "alice.pem", ".pub",    "@laptop.pub",	"-alice.pub", ".alice.pub",
	    "a b.pub", "a\"b.pub",  "a/b.pub", "alice.pub.bak", "+x.pub",
	};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		if (keys_user_of_file(refused[i], user, sizeof(user)) == 0)
			fail_msg("'%s' gave the user '%s'", refused[i], user);
	assert_int_equal(keys_user_of_file("a-rather-long-name.pub", user, 8), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_keys_taken),
	    cmocka_unit_test(test_lines_passed_over),
	    cmocka_unit_test(test_hostile_lines_refused),
	    cmocka_unit_test(test_bounded_by_len),
	    cmocka_unit_test(test_long_lines),
	    cmocka_unit_test(test_file_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

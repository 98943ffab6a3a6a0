/* SPDX-License-Identifier: ISC */
/* Unit tests for src/gitcage/ssh_auth.c: the fingerprint sshd logs, from SSH_USER_AUTH. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "gitcage/ssh_auth.h"

/* A key made with ssh-keygen -t ed25519; `ssh-keygen -lf` printed its fingerprint. */
#define BLOB	    "AAAAC3NzaC1lZDI1NTE5AAAAIEbTrWnc8FKZ0L3AYmNMsFaJlp8eExcRmHInHZtlhHLe"
#define FINGERPRINT "SHA256:YMc0Myj3P7T54hDy/9/K1L0/Gymk4VE6uarMo0b8ws4"

static void test_fingerprint_is_ssh_keygens(void **state)
{
	char out[128];
	(void)state;
	assert_int_equal(ssh_auth_fingerprint(BLOB, out, sizeof(out)), 0);
	assert_string_equal(out, FINGERPRINT);
}

static void test_not_base64_is_refused(void **state)
{
	char out[128];
	(void)state;
	assert_int_equal(ssh_auth_fingerprint("not base64!", out, sizeof(out)), -1);
	assert_int_equal(ssh_auth_fingerprint("", out, sizeof(out)), -1);
	assert_int_equal(ssh_auth_fingerprint(BLOB, out, 10), -1); /* does not fit */
}

static void test_oversized_blob_is_refused(void **state)
{
	char out[128];
	char *huge = malloc(20000);
	(void)state;
	assert_non_null(huge);
	memset(huge, 'A', 19999);
	huge[19999] = '\0';
	assert_int_equal(ssh_auth_fingerprint(huge, out, sizeof(out)), -1);
	free(huge);
}

/* sshd writes one line per method tried; the last publickey line is the key that succeeded. */
static void test_user_auth_file_gives_the_last_key(void **state)
{
	char path[] = "/tmp/gitcage-test-user-auth.XXXXXX";
	(void)state;
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *file = fdopen(fd, "w");
	fprintf(file, "publickey ssh-rsa AAAAB3NzaC1yc2E=\n"
		      "keyboard-interactive\n"
		      "publickey ssh-ed25519 " BLOB "\n");
	fclose(file);
	const char *key = ssh_auth_key(path);
	unlink(path);
	assert_non_null(key);
	assert_string_equal(key, FINGERPRINT);
}

static void test_no_file_no_key(void **state)
{
	(void)state;
	assert_null(ssh_auth_key(NULL));
	assert_null(ssh_auth_key("relative/path"));
	assert_null(ssh_auth_key("/nonexistent/gitcage-user-auth"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fingerprint_is_ssh_keygens),
	    cmocka_unit_test(test_not_base64_is_refused),
	    cmocka_unit_test(test_oversized_blob_is_refused),
	    cmocka_unit_test(test_user_auth_file_gives_the_last_key),
	    cmocka_unit_test(test_no_file_no_key),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

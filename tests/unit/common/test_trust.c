/* SPDX-License-Identifier: ISC */
/* trust_open's own refusals, beyond what the config_load tests show through the config. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/trust.h"

static void expect_refused(const char *path, const struct trust_rule *rule, const char *reason,
			   int errnum)
{
	struct error err = {""};
	errno = 0;
	assert_int_equal(trust_open(path, rule, O_PATH, &err), -1);
	assert_string_equal(err.message, reason);
	assert_int_equal(errno, errnum);
}

static void test_refuses_relative_and_dot_dot(void **state)
{
	(void)state;
	expect_refused("etc/passwd", &TRUST_ROOT,
		       "its path must be absolute and shorter than 4096 bytes", EINVAL);
	expect_refused("/etc/../etc/passwd", &TRUST_ROOT, "it has a '..' component", EINVAL);
	expect_refused("/", &TRUST_ROOT, "it is the root directory", EISDIR);
}

/* Root's own files pass; "." and doubled slashes change nothing. */
static void test_accepts_root_files(void **state)
{
	struct error err;
	(void)state;
	int fd = trust_open("//etc/./passwd", &TRUST_ROOT, O_RDONLY, &err);
	assert_true(fd >= 0);
	close(fd);
}

static void test_missing_is_enoent(void **state)
{
	char reason[128];
	(void)state;
	snprintf(reason, sizeof(reason), "/etc/no-such-dir-for-gitcage: %s", strerror(ENOENT));
	expect_refused("/etc/no-such-dir-for-gitcage/file", &TRUST_ROOT, reason, ENOENT);
	expect_refused("/etc/no-such-file-for-gitcage", &TRUST_ROOT, strerror(ENOENT), ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_refuses_relative_and_dot_dot),
	    cmocka_unit_test(test_accepts_root_files),
	    cmocka_unit_test(test_missing_is_enoent),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: ISC */
/* The compiled seccomp filter, installed in a child: which personas pass. The probe shows the
 * same from inside the sandbox; this test goes through many more values than the probe can. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/personality.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "sandbox/privs.h"
#include "sandbox/seccomp_load.h"

/* Exit codes of the child: which check failed. */
enum { CHILD_OK, CHILD_ALLOWED_REFUSED, CHILD_FOREIGN_PASSED, CHILD_WRONG_ERRNO };

static int try_persona(unsigned long value)
{
	long ret = syscall(SYS_personality, value);
	return ret >= 0 ? 0 : errno;
}

/* Every value with one bit set, one bit clear, and the high half set: the filter's rules are
 * a union over bit positions, so each position is tried on its own. */
static int child_checks(void)
{
	if (try_persona(PER_LINUX) != 0 || try_persona(0xffffffffUL) != 0)
		return CHILD_ALLOWED_REFUSED;
	for (unsigned bit = 0; bit < 64; bit++) {
		unsigned long values[] = {1UL << bit, ~(1UL << bit), (1UL << bit) | 0xffffffffUL,
					  (1UL << bit) | ADDR_NO_RANDOMIZE};
		for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
			int err = try_persona(values[i]);
			if (values[i] == 0xffffffffUL || values[i] == PER_LINUX)
				continue;
			if (err == 0)
				return CHILD_FOREIGN_PASSED;
			if (err != EPERM)
				return CHILD_WRONG_ERRNO;
		}
	}
	unsigned long named[] = {ADDR_NO_RANDOMIZE, READ_IMPLIES_EXEC,
				 PER_LINUX32,	    (1UL << 32) | ADDR_NO_RANDOMIZE,
				 0xfffffffeUL,	    0x7fffffffUL};
	for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++)
		if (try_persona(named[i]) != EPERM)
			return CHILD_FOREIGN_PASSED;
	return CHILD_OK;
}

static void test_only_linux_and_the_query_pass(void **state)
{
	(void)state;
	int status;
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		privs_no_new_privs();
		seccomp_install();
		_exit(child_checks());
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), CHILD_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_only_linux_and_the_query_pass),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

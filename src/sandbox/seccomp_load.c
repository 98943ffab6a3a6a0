/* SPDX-License-Identifier: ISC */
#include "sandbox/seccomp_load.h"

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/util.h"
#include "seccomp-filter.h" /* generated: seccomp_program[] */

void seccomp_install(void)
{
	struct sock_fprog program = {
	    .len = ARRAY_SIZE(seccomp_program),
	    .filter = (struct sock_filter *)seccomp_program,
	};
	/* The raw syscall, not libseccomp: the program is already compiled, and not linking
	 * libseccomp keeps it off the start-up path of every git command. */
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program) != 0)
		die_errno("sandbox: cannot install the seccomp filter");
}

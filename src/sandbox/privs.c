/* SPDX-License-Identifier: ISC */
#include "sandbox/privs.h"

#include <sys/capability.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "common/util.h"

void privs_no_new_privs(void)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		die_errno("cannot set no_new_privs");
}

/* A persona inherited from the caller (setarch -R: no address randomization) would reach the
 * sandbox, where the filter then refuses to change it back. */
void privs_reset_persona(void)
{
	if (personality(PER_LINUX) < 0)
		die_errno("cannot reset the persona to PER_LINUX");
}

void privs_drop_capabilities(void)
{
	/* The bounding set first: dropping from it needs CAP_SETPCAP, which goes next. Without
	 * this, a file with capabilities could hand them back on exec (no_new_privs also stops
	 * that; this is the second lock). */
	for (cap_value_t cap = 0; cap < (cap_value_t)cap_max_bits(); cap++)
		if (cap_drop_bound(cap) != 0)
			die_errno("sandbox: cannot drop capability %d from the bounding set", cap);
	if (cap_reset_ambient() != 0)
		die_errno("sandbox: cannot clear the ambient capabilities");
	cap_t empty = cap_init();
	if (!empty || cap_set_proc(empty) != 0)
		die_errno("sandbox: cannot drop capabilities");
	cap_free(empty);
}

static void set_limit(int resource, const char *name, unsigned long long value)
{
	struct rlimit limit = {.rlim_cur = value, .rlim_max = value};
	if (value == 0 && resource != RLIMIT_CORE)
		limit.rlim_cur = limit.rlim_max = RLIM_INFINITY;
	/* Never raise a limit the admin already set lower for the service account. */
	struct rlimit current;
	if (getrlimit(resource, &current) == 0 && current.rlim_max != RLIM_INFINITY &&
	    (limit.rlim_max == RLIM_INFINITY || limit.rlim_max > current.rlim_max))
		limit.rlim_cur = limit.rlim_max = current.rlim_max;
	if (setrlimit(resource, &limit) != 0)
		die_errno("sandbox: cannot set the %s limit", name);
}

void privs_set_limits(const struct limits *limits)
{
	set_limit(RLIMIT_CPU, "cpu", limits->cpu);
	set_limit(RLIMIT_AS, "memory", limits->memory);
	set_limit(RLIMIT_NPROC, "processes", limits->processes);
	set_limit(RLIMIT_NOFILE, "files", limits->files);
	set_limit(RLIMIT_FSIZE, "filesize", limits->filesize);
	/* A core dump of git would write repository contents outside the repository. */
	set_limit(RLIMIT_CORE, "core", 0);
}

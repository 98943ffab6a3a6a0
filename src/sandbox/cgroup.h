/* SPDX-License-Identifier: ISC */
/* [limits] cgroup: where a cgroup v2 directory is delegated to the service account (systemd
 * Delegate=yes), each sandbox runs in a leaf of its own there, so that memory and processes
 * add up over the whole session: memory.max bounds every page it uses, tmpfs pages of its
 * /tmp and HOME included (memory.swap.max = 0, so they cannot be pushed out to swap), and
 * pids.max every task. Without a cgroup, the rlimits bound each process alone. */
#ifndef GITCAGE_SANDBOX_CGROUP_H
#define GITCAGE_SANDBOX_CGROUP_H

#include "common/config.h"
#include "common/util.h"

struct cgroup_leaf {
	int fd;	       /* the leaf directory: clone3(CLONE_INTO_CGROUP) starts the sandbox in it */
	int parent_fd; /* the delegated directory */
	char name[64];
};

/* Make a leaf for one sandbox under dir with the limits, after removing the leaves earlier
 * sessions left empty. Returns 0, or -1 with err naming what is wrong with dir. */
int cgroup_leaf_create(const char *dir, const struct limits *limits, struct cgroup_leaf *leaf,
		       struct error *err);

/* Whether dir can take the sandboxes' leaves: on cgroup2, memory and pids delegated. Reads
 * only, for check-config. Returns 0, or -1 with err. */
int cgroup_check(const char *dir, struct error *err);

/* How many times the kernel killed a process of the leaf for memory (memory.events). */
unsigned long long cgroup_leaf_oom_kills(const struct cgroup_leaf *leaf);

/* Once every process of the sandbox is gone: remove the leaf, and close its fds. */
void cgroup_leaf_remove(struct cgroup_leaf *leaf);

/* The steps of cgroup_leaf_create, public for the unit tests, which run them on a directory
 * laid out like cgroupfs (these machines delegate no cgroup v2 controller). */

/* dir must list memory and pids in cgroup.controllers; they are added to its
 * cgroup.subtree_control unless it has them already. */
int cgroup_enable_controllers(int dirfd, const char *dir, struct error *err);
/* memory.max, memory.swap.max (where the kernel has swap accounting) and pids.max. */
int cgroup_set_limits(int leaf_fd, const struct limits *limits, struct error *err);
/* rmdir every "session-*" leaf under dirfd; the kernel refuses (EBUSY) those still in use.
 * Returns how many went. */
int cgroup_sweep(int dirfd);

#endif

/* SPDX-License-Identifier: ISC */
/* The sandbox's file system: a fresh root on tmpfs built from detached copies of host trees.
 * Used by sandbox.c's child only, in its own mount namespace; every function dies on error. */
#ifndef GITCAGE_SANDBOX_MOUNTS_H
#define GITCAGE_SANDBOX_MOUNTS_H

#include <stddef.h>

#include "sandbox/sandbox.h"

#define MOUNTS_MAX_TREES 64

/* A detached mount and where it goes in the new root. */
struct mounts_tree {
	int fd;
	const char *target;
	int is_file; /* a single file (under /etc): attached onto an empty placeholder */
};

struct mounts_plan {
	struct mounts_tree trees[MOUNTS_MAX_TREES];
	size_t count;
	char links[32][2][256]; /* symlinks to recreate: {path, target} */
	size_t link_count;
};

/* Step 4: detached copies of everything the new root shows, taken while the host's tree is
 * still in view: the system directories, the allowed names of /etc, the extra read-only
 * paths, and the repository (an overlay for a writable view). */
void mounts_plan(const struct sandbox_spec *spec, struct mounts_plan *plan);

/* Step 5: the new root on tmpfs at newroot, with /proc, /dev, a private /tmp and HOME, and
 * the planned trees attached. */
void mounts_build_root(const struct sandbox_spec *spec, struct mounts_plan *plan,
		       const char *newroot);

/* Step 7, after pivot_root: a writable view keeps config, hooks/, info/ and objects/info/
 * read-only, so that git never runs a hook or reads a config the pusher wrote during the
 * session. */
void mounts_protect_repository(const char *repo_path);

#endif

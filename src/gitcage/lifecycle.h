/* SPDX-License-Identifier: ISC */
/* Creating repositories: by the admin (gitcage create), by a user where a C rule allows it
 * (ssh git@host create NAME, or a first push). */
#ifndef GITCAGE_LIFECYCLE_H
#define GITCAGE_LIFECYCLE_H

#include <stdbool.h>

#include "common/config.h"
#include "common/util.h"

/* Whether name exists beneath the root as repo_resolve would look for it: NAME.git, NAME. */
bool lifecycle_exists(int root_fd, const char *name);

/* Create the bare repository name beneath root_fd (".git" is added unless name ends with it)
 * with git itself: `git init --bare --template= --initial-branch=<default-branch>`, with a
 * config of its own only (no system or global config, no templates), owned by whoever runs
 * this (the service account). creator, when not NULL, goes in its gl-creator. It appears
 * whole or not at all: git works in a hidden directory that is then renamed into place.
 * Returns 0, or -1 with the reason in err. */
int lifecycle_create(const struct config *cfg, int root_fd, const char *name, const char *creator,
		     struct error *err);

/* For serve's resolution step, when the repository a push names does not exist: if a C rule
 * lets user create it, create it with user as its creator. Returns 1 when it was created (then
 * resolve it again), 0 when the user may not create it (refuse it as any missing repository)
 * or another push created it meanwhile, -1 when creating failed (err says why; for the audit
 * log). Creations take a lock on the repositories root, one at a time. */
int lifecycle_create_on_push(const struct config *cfg, int root_fd, const char *request_path,
			     const char *user, struct error *err);

#endif

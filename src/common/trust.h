/* SPDX-License-Identifier: ISC */
/* Trust only what root controls: the files that decide what gitcage runs (the config, the
 * hooks directory, a git program outside /usr) must belong to root, and so must every
 * directory above them, with nobody else able to write any of them, as sshd checks
 * authorized_keys. Otherwise one code execution as the service account, outside the sandbox,
 * would become control of every push. */
#ifndef GITCAGE_COMMON_TRUST_H
#define GITCAGE_COMMON_TRUST_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/util.h"

struct trust_rule {
	/* An owner trusted besides root (the caller, for a file only the caller's own rights
	 * depend on), or 0 for root alone. */
	uid_t also;
	/* A sticky directory of root's or of also's (/tmp) may be above the file: nobody but its
	 * owner and an entry's own can rename or remove entries there. Never for root alone:
	 * then every directory on the path must be root's and closed to everyone else, as sshd
	 * wants. */
	bool sticky_ok;
};

/* The rule for root alone. */
#define TRUST_ROOT ((struct trust_rule){0, false})

/* Open path, which must be absolute, one component at a time from /, following no symbolic
 * link, and check each directory above it and the final entry against rule: the owner,
 * and that nobody else can write it. flags are open(2)'s for the final entry (O_NOFOLLOW and
 * O_CLOEXEC are added). Returns the fd, or -1 with err set to the reason (without the path:
 * the caller says what the file is for). errno is ENOENT when a component does not exist. */
int trust_open(const char *path, const struct trust_rule *rule, int flags, struct error *err);

#endif

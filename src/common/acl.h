/* SPDX-License-Identifier: ISC */
/* Authorization: may USER do ACCESS on a repository? Pure. */
#ifndef GITCAGE_ACL_H
#define GITCAGE_ACL_H

#include <stdbool.h>

#include "common/config.h"

enum access {
	ACCESS_READ,
	ACCESS_WRITE,
};

/* True when user is listed in the rule's read (for ACCESS_READ) or write list, directly,
 * through an @group (groups may nest; cycles are safe), or through @all. Write implies read.
 * A NULL rule allows nothing. A user name that is empty or starts with '@' allows nothing. */
bool acl_allows(const struct config *cfg, const struct repo_rule *rule, const char *user,
		enum access access);

/* What decided a check: the rule's place in the config, or nothing matched (file NULL). */
struct acl_decision {
	bool allowed;
	const char *file;
	int line;
};

/* The permissions of gitolite's rules: read, write (fast-forward), rewind (non-fast-forward),
 * create and delete a ref. */
enum acl_perm {
	ACL_READ = 'R',
	ACL_WRITE = 'W',
	ACL_REWIND = '+',
	ACL_CREATE = 'C',
	ACL_DELETE = 'D',
};

/* May user do perm on ref (a full name, "refs/heads/main") of the repository repo (relative to
 * repositories, as resolved)? creator: who created a wild repository, or NULL. why, when not
 * NULL, says what decided. Pure. */
bool acl_check_ref(const struct config *cfg, const char *repo, const char *creator,
		   const char *user, enum acl_perm perm, const char *ref, struct acl_decision *why);

/* True when user is a member of group name (nested groups resolved). */
bool acl_in_group(const struct config *cfg, const char *group, const char *user);

#endif

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

/* True when user is a member of group name (nested groups resolved). */
bool acl_in_group(const struct config *cfg, const char *group, const char *user);

#endif

/* SPDX-License-Identifier: ISC */
/* The push policy of one repository: its [repo] keys, or the [server] defaults. Pure. */
#ifndef GITCAGE_POLICY_H
#define GITCAGE_POLICY_H

#include <stdbool.h>

#include "common/config.h"

struct policy {
	const struct words *protect;	  /* ref patterns: no deletion, no force-push */
	int protect_line;		  /* where protect was set; 0 when nowhere */
	unsigned long long max_blob_size; /* bytes; 0 = no limit */
	bool repo_hooks;		  /* chain to the repository's own hooks */
	bool deny_rules;		  /* deny rules apply to the repository-level check too */
	const char *notify;		  /* command run after a verified push, or NULL */
};

/* rule may be NULL (no [repo] section): the [server] defaults then apply alone. */
void policy_for(const struct config *cfg, const struct repo_rule *rule, struct policy *out);

/* The policy of a repository (a path relative to repositories; creator as in
 * config_repo_matches): every [repo] section that matches it, in file order, each key set by
 * a later one overriding an earlier one, as gitolite's options do; the [server] defaults for
 * what none sets. */
void policy_for_repo(const struct config *cfg, const char *relpath, const char *creator,
		     struct policy *out);

/* True when ref matches one of the protect patterns. A pattern is a shell glob whose '*'
 * also matches a slash, as in the hooks: refs/tags/STAR covers refs/tags/a/b. */
bool policy_protects(const struct policy *policy, const char *ref);

#endif

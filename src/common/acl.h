/* SPDX-License-Identifier: ISC */
/* Authorization: gitolite's access rules, as gitcage.conf writes them. Pure.
 *
 * Every [repo] section that matches a repository contributes its rules, in file order. A
 * question is a user, a permission and a ref ("any" when the ref is not known yet, as before
 * git runs). The first rule that names the user (directly, through an @group, @all or
 * CREATOR) and whose ref pattern matches decides: a deny rule ("-") refuses, a rule that
 * holds the permission allows, any other rule is passed over. Nothing matching refuses.
 * Deny rules are passed over for "any" unless the repository sets deny-rules = yes. */
#ifndef GITCAGE_ACL_H
#define GITCAGE_ACL_H

#include <stdbool.h>
#include <stddef.h>

#include "common/config.h"

/* The permissions of gitolite's rules: read, write (fast-forward), rewind (non-fast-forward),
 * create and delete a ref; and create a repository (gitolite's "^C"). */
enum acl_perm {
	ACL_READ = 'R',
	ACL_WRITE = 'W',
	ACL_REWIND = '+',
	ACL_CREATE = 'C',
	ACL_DELETE = 'D',
	ACL_CREATE_REPO = '^',
};

/* What decided a check. */
struct acl_decision {
	bool allowed;
	const char *file; /* the config file; NULL when no rule matched */
	int line;	  /* of the deciding rule (or protect key); 0 when none */
	const char *rule; /* the deciding line as written ("- main = @interns"), or NULL */
	bool protect;	  /* refused by a protect key, whatever the rules say */
};

/* The repository a question is about. */
struct acl_repo {
	const char *name;    /* relative to repositories: "team/demo.git" or "team/demo" */
	const char *creator; /* who created it (a wild repository), or NULL */
	bool missing;	     /* does not exist (yet): every question needs creation first */
	bool pattern;	     /* name is a [repo] pattern itself, as `info` lists them */
};

/* The question, with gitolite's meanings: C means W unless a rule of the repository uses C
 * (RWC...), D means + unless one uses D; a protect key refuses + and D on its refs for
 * everyone. ref: a full ref name, or NULL (or "any") for any ref. A user name that is not
 * valid (config_valid_user), or "CREATOR", is refused. Answers as `gitolite access -q`. */
bool acl_check(const struct config *cfg, const struct acl_repo *repo, const char *user,
	       enum acl_perm perm, const char *ref, struct acl_decision *why);

/* May user do perm on ref (a full name, "refs/heads/main") of the repository repo (relative to
 * repositories, as resolved)? creator: who created a wild repository, or NULL. why, when not
 * NULL, says what decided. The publisher asks this for every ref a push would change; an
 * update of an existing tag is a rewind (ACL_REWIND) there, as in gitolite. Pure. */
bool acl_check_ref(const struct config *cfg, const char *repo, const char *creator,
		   const char *user, enum acl_perm perm, const char *ref, struct acl_decision *why);

/* The check before git runs: ACL_READ for a fetch, ACL_WRITE for a push (true when any write
 * rule could match), on an existing repository. */
bool acl_repo_allows(const struct config *cfg, const char *repo, const char *creator,
		     const char *user, enum acl_perm perm, struct acl_decision *why);

/* May user create the repository name (which does not exist)? A "C" rule in a matching
 * section, with CREATOR in its header standing for the user. */
bool acl_may_create(const struct config *cfg, const char *name, const char *user,
		    struct acl_decision *why);

/* "alice may not rewind refs/heads/main", for the client. Returns buf. */
char *acl_refusal_message(char *buf, size_t size, const char *user, enum acl_perm perm,
			  const char *ref);

/* What decided, for people: "FILE:LINE: RULE", or "no rule matched". Returns buf. */
char *acl_describe(char *buf, size_t size, const struct acl_decision *why);

/* True when user is a member of group name (nested groups resolved). */
bool acl_in_group(const struct config *cfg, const char *group, const char *user);

#endif

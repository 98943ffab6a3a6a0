/* SPDX-License-Identifier: ISC */
/* The checks that need libgit2: what the changed refs point to, and whether everything they
 * reach is in the repository. Linked into gitcage-guard only, never into gitcage: loading
 * libgit2 costs milliseconds the fetch path must not pay. */
#ifndef GITCAGE_VERIFY_H
#define GITCAGE_VERIFY_H

#include <stdio.h>

#include "common/changes.h"
#include "common/policy.h"

/* Initialise libgit2 once, blind to the host's and the user's git configuration. */
void verify_init(void);

/* Check every changed ref that has not failed yet, and set its failure:
 *   - the name is a valid ref name under refs/;
 *   - it is a regular file holding an object id, or a packed entry (with a true peel);
 *   - the object exists, and refs/heads/ point to commits;
 *   - every object it reaches exists, walking only through objects new since the snapshot
 *     (an object that existed before was checked when it arrived): O(new objects).
 * Returns 0, or -1 when the object store cannot be opened: every changed ref then fails. */
int verify_refs(int repo_fd, struct changes *changes, const struct policy *policy,
		struct error *err);

/* Called between the steps of verify_write, for the guard: before libgit2 is initialised
 * (when it is needed at all), and at each lap for --timing. Any member may be NULL. */
struct verify_hooks {
	void (*before_libgit2)(void *payload);
	void (*lap)(void *payload, int step); /* 0 layout, 1 refs, 2 libgit2, 3 objects, 4 done */
	void *payload;
};

#define VERIFY_TAMPERED "the same write tampered with the repository"

/* The whole check of one write: the layout, compared and repaired; the refs, compared; every
 * changed ref checked (all fail when the layout was tampered with), and, when policy is not
 * NULL, a protected ref that was deleted or rewound fails too, whoever did it; the failed
 * ones rolled back. out holds what was found and done. Returns 0, or -1 when the repository
 * could not be read (err says why). */
int verify_write(int repo_fd, struct snapshot *snapshot, const struct policy *policy,
		 struct changes *out, const struct verify_hooks *hooks, struct error *err);

/* `gitcage verify`: the layout and ref checks of one repository, offline, with all refs,
 * plus the risky keys of its own config. root: the repositories root, or NULL. Prints one
 * "DIR: problem" line per finding to out and returns their number. */
int verify_offline(const char *dir, const char *root, FILE *out);

#endif

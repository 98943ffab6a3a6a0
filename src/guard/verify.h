/* SPDX-License-Identifier: ISC */
/* The two cages of a push's objects, gitcage-index (git alone, no libgit2 linked) and
 * gitcage-guard check (libgit2), and gitcage-guard's offline audit. libgit2 is linked into
 * gitcage-guard only, so that neither the fetch path nor the index cage loads it. */
#ifndef GITCAGE_GUARD_VERIFY_H
#define GITCAGE_GUARD_VERIFY_H

#include <stdio.h>

/* Initialise libgit2 once, blind to the host's and the user's git configuration, verifying
 * the hash of every object it reads. */
void guard_libgit2_init(void);

/* `gitcage-index GIT REPO STAGE CHECKED`: read a request (contract.h) on stdin, have
 * GIT index (and fsck) every staged pack into CHECKED and fsck the loose objects, write the
 * answer on stdout. No libgit2. Runs caged, set up by gitcage. Returns the exit status. */
int guard_index(const char *git, const char *repo, const char *stage, const char *checked);

/* `gitcage-guard check REPO STAGE`: read a request on stdin, establish the facts about the
 * staged objects (the packs read through the indexes beside them in STAGE) and the ref
 * updates, write them on stdout. Runs caged, nothing writable. Returns the exit status. */
int guard_check(const char *repo, const char *stage);

/* The request on stdin (request.c): 1 and *req, 0 when there is none (a guard started ahead
 * of need and not needed), -1 when it is malformed (said on stderr). */
struct check_request;
int guard_read_request(struct check_request *req);

/* `gitcage verify`: the layout and ref checks of one repository, offline, with all refs,
 * plus the risky keys of its own config. root: the repositories root, or NULL. Prints one
 * "DIR: problem" line per finding to out and returns their number. */
int verify_offline(const char *dir, const char *root, FILE *out);

#endif

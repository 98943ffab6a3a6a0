/* SPDX-License-Identifier: ISC */
/* gitcage-guard's two jobs, both with libgit2 (linked into gitcage-guard only, so that the
 * fetch path never loads it). */
#ifndef GITCAGE_GUARD_VERIFY_H
#define GITCAGE_GUARD_VERIFY_H

#include <stdio.h>

/* Initialise libgit2 once, blind to the host's and the user's git configuration, verifying
 * the hash of every object it reads. */
void guard_libgit2_init(void);

/* `gitcage-guard check REPO STAGE CHECKED`: read a check request (contract.h) on stdin,
 * index the staged packs into CHECKED, establish the facts about the staged objects and the
 * ref updates, write them on stdout. Runs caged, set up by gitcage. Returns the exit
 * status. */
int guard_check(const char *repo, const char *stage, const char *checked);

/* `gitcage verify`: the layout and ref checks of one repository, offline, with all refs,
 * plus the risky keys of its own config. root: the repositories root, or NULL. Prints one
 * "DIR: problem" line per finding to out and returns their number. */
int verify_offline(const char *dir, const char *root, FILE *out);

#endif

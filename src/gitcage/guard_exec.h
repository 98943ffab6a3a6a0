/* SPDX-License-Identifier: ISC */
/* Handing over to gitcage-guard, the separate executable that links libgit2: after a write
 * (serve receive-pack, run --writable) and for `gitcage verify`. gitcage itself never loads
 * libgit2, so that the fetch path pays nothing for it. */
#ifndef GITCAGE_GUARD_EXEC_H
#define GITCAGE_GUARD_EXEC_H

#include <time.h>

#include "common/snapshot.h"

/* What the guard needs to verify a write and to write its audit record. */
struct guard_call {
	const char *service;		 /* "git-receive-pack", "run" */
	const char *user, *key, *client; /* key and client may be NULL */
	const char *repo;		 /* as the audit record names it */
	const char *config_path;	 /* for the audit destination; NULL: syslog */
	int git_status;			 /* gitcage's exit status so far */
	struct timespec start;		 /* CLOCK_MONOTONIC, when the call began */
	int repo_fd;
	int snapshot_fd; /* the sealed memfd of snapshot_take_memfd() */
};

/* Replace this process with gitcage-guard: the repository fd becomes its fd 3, the snapshot's
 * memfd its fd 4, every other fd but stdio is closed. Returns only on failure, with errno
 * set: the caller must then fail closed. */
int guard_exec_write(const struct guard_call *call);

/* Where gitcage-guard is: next to this executable (a build tree), else the installed one. */
void guard_path(char *out, size_t size);

#endif

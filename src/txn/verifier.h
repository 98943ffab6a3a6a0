/* SPDX-License-Identifier: ISC */
/* Running gitcage-guard, caged: a sandbox of its own with the repository and the stage
 * read-only, no network, a minimal /etc, and nothing else. It parses what the push brought,
 * and a bug in that parsing must not give write access to anything. */
#ifndef GITCAGE_TXN_VERIFIER_H
#define GITCAGE_TXN_VERIFIER_H

#include "common/config.h"
#include "common/contract.h"

struct verifier_spec {
	const char *repo_path;
	int repo_fd;
	const char *stage_path;
	const struct limits *limits;
};

/* Where gitcage-guard is: next to this executable (a build tree), else the installed one. */
void verifier_guard_path(char *out, size_t size);

/* Ask the guard for the facts of req. Returns 0, or -1 with err (the guard failed, or was
 * stopped: *stop_signal then says by which signal). */
int verifier_run(const struct verifier_spec *spec, struct check_request *req, int *stop_signal,
		 struct error *err);

#endif

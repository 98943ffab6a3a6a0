/* SPDX-License-Identifier: ISC */
/* Running gitcage-guard, caged, twice for a push that brings objects (contract.h): index,
 * where git indexes and fsck's the staged packs into the session's checked/, the one
 * directory it may write; then check, where libgit2 reads them through those indexes and
 * nothing is writable. Each cage is a sandbox of its own with the repository and the stage
 * read-only, no network and a minimal /etc. They parse what the push brought, and a bug in
 * that parsing must not give write access to anything else. */
#ifndef GITCAGE_TXN_VERIFIER_H
#define GITCAGE_TXN_VERIFIER_H

#include "common/config.h"
#include "common/contract.h"
#include "sandbox/sandbox.h"

struct verifier_spec {
	const char *repo_path;
	int repo_fd;
	const char *stage_path;
	const char *checked_path; /* index: the one directory it may write */
	const struct limits *limits;
	const char *git; /* index: the git that indexes; NULL for check */
};

/* Where gitcage-guard is: next to this executable (a build tree), else the installed one. */
void verifier_guard_path(char *out, size_t size);

/* A verifier started ahead of need, waiting for its request on a pipe: its sandbox, its exec
 * and libgit2's start happen while git still receives the push. */
struct verifier {
	struct sandbox_child child;
	int request_fd; /* the write end of its stdin */
	int out_fd;	/* memfds: no pipe to fill up, whatever the answer's size */
	int err_fd;
	bool running;
};

void verifier_start(const struct verifier_spec *spec, struct verifier *v);

/* Ask a started verifier for the facts of req; it answers once, and is gone after. Returns 0,
 * or -1 with err (the guard failed, or was stopped: *stop_signal then says by which signal). */
int verifier_ask(struct verifier *v, struct check_request *req, int *stop_signal,
		 struct error *err);

/* Let a verifier that was never asked go (an empty request: it exits at once). */
void verifier_stop(struct verifier *v);

#endif

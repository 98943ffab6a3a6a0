/* SPDX-License-Identifier: ISC */
/* Ref updates in the real repository with git's own ref locking: `git update-ref --stdin`,
 * outside every sandbox, a transaction per ref (or one for an atomic push). git locks each
 * ref and compares it with the value the decision was made on: another git writing the
 * repository (an admin's, which does not take gitcage's lock) is respected, never forced. */
#ifndef GITCAGE_TXN_PUBLISH_H
#define GITCAGE_TXN_PUBLISH_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "txn/decide.h"

struct publish_spec {
	const char *git;
	const char *repo_path;
};

/* A git update-ref started ahead of need: it waits for its first line, and its exec and start
 * happen while git still receives the push. */
struct updater {
	struct publish_spec spec;
	pid_t pid;
	FILE *in;
	int out, err;
	char buf[4096];
	size_t len;
};

void publish_start(const struct publish_spec *spec, struct updater *u);

/* Update every ref of refs that is not refused; a ref git refuses gets REFUSAL_FAILED with
 * git's reason. Deletions go first (a deleted a/b makes room for a new a). atomic: one
 * transaction for all, so that all land or none. Returns the number published. */
size_t publish_refs(struct updater *u, struct txn_ref *refs, size_t count, bool atomic);

/* The end of its input: git exits, aborting a transaction not committed. */
void publish_stop(struct updater *u);

#endif

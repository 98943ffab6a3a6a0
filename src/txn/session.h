/* SPDX-License-Identifier: ISC */
/* One write session's private directory, sessions/KEY.ID/ in the state directory:
 *   upper/ work/   the overlay's layers: everything git writes lands in upper/
 *   stage/         private copies of the new objects, verified and then published from here
 *   checked/       the verifier's output: the pack indexes it made from the staged packs
 * The directory is held with flock for the session's life, so that a session killed at any
 * moment leaves a directory any later call can recognise as stale and remove. */
#ifndef GITCAGE_TXN_SESSION_H
#define GITCAGE_TXN_SESSION_H

#include <limits.h>

#include "txn/state.h"

struct session {
	struct state *state;
	char name[128]; /* KEY.ID */
	int fd;		/* the session directory, flocked */
	int upper_fd, work_fd, stage_fd, checked_fd;
	char upper_path[PATH_MAX], work_path[PATH_MAX], stage_path[PATH_MAX];
	char checked_path[PATH_MAX];
};

/* Create and lock a new session for the repository key. Returns 0, or -1 with err. */
int session_begin(struct state *state, const char *key, struct session *out, struct error *err);

/* Remove the session's directory and release it. */
void session_end(struct session *session);

/* Remove every session directory that no live session holds. Best effort, and quick when
 * another call is sweeping. */
void session_sweep(struct state *state);

#endif

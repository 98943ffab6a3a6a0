/* SPDX-License-Identifier: ISC */
/* One write session as a transaction. git runs against a private layer (the overlay of
 * session.h); when it asks, through gitcage's hook, to change refs, the publisher
 *   1. sorts what git wrote so far (upper.c) and copies the new objects out of reach (stage.c),
 *   2. has the caged verifier establish the facts about them (verifier.c),
 *   3. under the repository's publish lock, decides each ref (decide.c) against what the
 *      session saw (journal.c) and what the repository holds now (refs.c),
 *   4. moves the verified objects in and updates the refs with git's own locking
 *      (stage.c, publish.c), and records them in the journal,
 *   5. answers, so that git tells the client each ref's true fate.
 * The real repository is never writable in any sandbox: only step 4 writes it. */
#ifndef GITCAGE_TXN_TXN_H
#define GITCAGE_TXN_TXN_H

#include <stdbool.h>

#include "common/audit.h"
#include "common/policy.h"
#include "common/relay.h"
#include "txn/decide.h"
#include "txn/journal.h"
#include "txn/publish.h"
#include "txn/session.h"
#include "txn/verifier.h"

struct txn_options {
	const struct config *cfg;
	const struct policy *policy;
	struct decide_context decide;
	const char *repo_path; /* absolute, canonical */
	int repo_fd;
	/* serve refuses a push when git wrote anything outside it; run discards what is
	 * neither an object nor a ref. */
	bool strict;
	const struct words *fsck_ignore; /* fsck message ids the repository's history needs */
	/* Start the verifier and git update-ref with the session, so that their start costs
	 * nothing when the push asks (serve); a run asks only once its command is done. */
	bool ahead;
};

struct txn {
	struct txn_options opt;
	struct state state;
	struct session session;
	char key[64];
	struct journal_mark mark;
	struct strvec pending; /* staged, not yet published */
	struct strvec handled; /* every object path staged so far */
	struct txn_ref *refs;  /* every ref update asked for, with its fate */
	size_t ref_count, ref_cap;
	size_t published;
	unsigned requests;	 /* relay requests so far */
	long long deadline_ms;	 /* the session's end by its timeout, or 0 */
	int stop_signal;	 /* a nested wait saw SIGTERM, SIGHUP or SIGINT */
	char refusal[1024];	 /* why the whole session was refused, or "" */
	struct strvec discarded; /* what git wrote that was not published, for the audit */
	bool deletes;		 /* git deleted existing objects (gc, repack, prune) */
	struct audit_phases phases;
	struct verifier indexer;  /* the cages: git indexes (started when needed), then */
	struct verifier verifier; /* libgit2 checks (started ahead of need when ahead) */
	struct updater updater;	  /* like the verifier; pid 0 when not running */
};

/* Open the state directory, sweep stale sessions, make this session, take the mark. */
int txn_begin(struct txn *t, const struct txn_options *opt, const char *state_path,
	      struct error *err);

/* sandbox_wait's event handler for the relay's control socket. */
int txn_on_relay(void *payload, int control_fd);

/* After a writable `run`, once its sandbox is gone: the refs the command changed (refdiff.h),
 * decided and published as the refs of a push are. */
int txn_publish_run(struct txn *t, struct error *err);

/* Once the sandbox is gone: what was left unpublished, for the audit; the session removed. */
void txn_finish(struct txn *t);
void txn_free(struct txn *t);

#endif

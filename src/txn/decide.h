/* SPDX-License-Identifier: ISC */
/* The publisher's decision for each ref a session asks to change. Pure: every fact comes in
 * as an argument, so every rule has a unit test. */
#ifndef GITCAGE_TXN_DECIDE_H
#define GITCAGE_TXN_DECIDE_H

#include <stdbool.h>

#include "common/acl.h"
#include "common/audit.h"
#include "common/config.h"
#include "common/contract.h"
#include "txn/journal.h"
#include "txn/refs.h"

/* Why a ref was not published. */
enum ref_refusal {
	REFUSAL_NONE,
	REFUSAL_NAME,	  /* not a valid ref name under refs/ */
	REFUSAL_RULE,	  /* the access rules say no */
	REFUSAL_SESSION,  /* git wrote outside the push: the whole session is refused */
	REFUSAL_OBJECTS,  /* the new objects failed verification */
	REFUSAL_MISSING,  /* the new value is not an object of the repository or the push */
	REFUSAL_TYPE,	  /* a branch to something that is not a commit */
	REFUSAL_MOVED,	  /* it changed while the session ran */
	REFUSAL_SYMBOLIC, /* a symbolic ref in the repository */
	REFUSAL_ATOMIC,	  /* another ref of an atomic push was refused */
	REFUSAL_FAILED,	  /* verification or publication failed */
};

/* One ref update a session asked for, and what became of it. */
struct txn_ref {
	char old_id[RELAY_OID_HEX + 1];
	char new_id[RELAY_OID_HEX + 1];
	char *ref;
	enum acl_perm perm; /* what the update needs: C, D, W or + */
	bool ask_ff;	    /* whether W or + depends on the ancestry */
	/* Nothing to publish: a command whose old and new value are the same, and the ref's. */
	bool unchanged;
	enum ref_refusal refusal;
	char reason[256]; /* for git's status line and the audit record */
};

/* Who asks, and under which rules. rules false: `gitcage run`, whose caller owns the
 * repository, applies no access rules. */
struct decide_context {
	const struct config *cfg;
	const char *repo; /* relative to repositories, for the rules */
	const char *creator;
	const char *user;
	bool rules;
};

void decide_refuse(struct txn_ref *ref, enum ref_refusal refusal, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Before verification: names and the rules that do not depend on the objects. Sets perm and
 * ask_ff (the fast-forward question matters when the user may write but not rewind). */
void decide_before(const struct decide_context *ctx, struct txn_ref *refs, size_t count);

/* After verification, under the publish lock. facts: the verifier's answer, one command per
 * ref still undecided before it (NULL when nothing needed verifying); changes: the journal
 * since the session's mark; current: each ref's value now, and its kind. */
void decide_after(const struct decide_context *ctx, struct txn_ref *refs, size_t count,
		  const struct check_request *facts, const size_t *fact_index,
		  const struct journal_changes *changes, char (*current)[RELAY_OID_HEX + 1],
		  const enum ref_kind *current_kind);

/* An atomic request: one refusal refuses them all. */
void decide_atomic(struct txn_ref *refs, size_t count);

/* The audit record's verdict of a ref. */
enum audit_verdict decide_verdict(const struct txn_ref *ref);

#endif

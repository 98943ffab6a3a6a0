/* SPDX-License-Identifier: ISC */
/* Per repository, in the state directory: the publish lock and the journal of published ref
 * updates ("OLD NEW REF" lines, appended under the lock).
 *
 * A session records where the journal stood when it began (its mark). Every ref that appears
 * after the mark moved while the session ran: the overlay's view of it is stale, so the
 * session may not change it, whatever value it claims to have seen. That is what keeps a
 * session from undoing or laundering another's push. */
#ifndef GITCAGE_TXN_JOURNAL_H
#define GITCAGE_TXN_JOURNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "common/relay.h"
#include "txn/state.h"

/* A journal longer than this is rotated to KEY.journal.1 at the next publish (a push may add
 * up to about 10 MiB: RELAY_MAX_COMMANDS lines). */
#define JOURNAL_ROTATE_BYTES (16u << 20)
/* The threshold in use: JOURNAL_ROTATE_BYTES (the unit tests lower it). */
extern unsigned long long journal_rotate_bytes;

/* A journal file starts with "# gitcage journal GENERATION\n", a random name of its own:
 * inode numbers are reused, so they cannot tell one journal file from the next. */
#define JOURNAL_GENERATION_HEX 16

struct journal_mark {
	char generation[JOURNAL_GENERATION_HEX + 1];
	uint64_t offset;
};

struct journal_entry {
	char old_id[RELAY_OID_HEX + 1];
	char new_id[RELAY_OID_HEX + 1];
	const char *ref;
};

/* The refs published since a mark, each with the value it had at the mark (the first old
 * value after it). lost: the journal was rotated twice since, so anything may have moved. */
struct journal_changes {
	struct journal_entry *items;
	size_t count, cap;
	bool lost;
};

/* Take the repository's publish lock, waiting up to wait_ms. Returns the fd that holds it, or
 * -1 with err. operation: LOCK_EX to publish, LOCK_SH to take a mark. */
int journal_lock(struct state *state, const char *key, int operation, long long wait_ms,
		 struct error *err);

/* Where the journal stands now. */
int journal_mark(struct state *state, const char *key, struct journal_mark *out, struct error *err);

/* What was published since mark, under the publish lock. */
int journal_since(struct state *state, const char *key, const struct journal_mark *mark,
		  struct journal_changes *out, struct error *err);
/* The change of ref in changes, or NULL. */
const struct journal_entry *journal_find(const struct journal_changes *changes, const char *ref);
void journal_changes_free(struct journal_changes *changes);

/* Append entries with one write, under the publish lock (rotating a long journal first). */
int journal_append(struct state *state, const char *key, const struct journal_entry *entries,
		   size_t count, struct error *err);

/* The journal's lines, parsed (pure; for journal_since and its tests). Lines that are not
 * "OLD NEW REF" are skipped: only gitcage writes the journal. */
void journal_parse(const char *buf, size_t len, struct journal_changes *out);

#endif

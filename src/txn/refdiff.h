/* SPDX-License-Identifier: ISC */
/* `gitcage run --writable`: which refs the command changed. No hook sees every git a command
 * may run (and git 2.39 reports packing a ref as deleting it), so once the command is gone the
 * refs are listed twice, by git itself: in the session's view (the private layer over the
 * repository, read-only, in a sandbox: its content is hostile) and in the repository. What
 * differs, and was not moved by someone else meanwhile, is what the session asks to publish. */
#ifndef GITCAGE_TXN_REFDIFF_H
#define GITCAGE_TXN_REFDIFF_H

#include "common/relay.h"
#include "txn/journal.h"

struct ref_listing {
	struct journal_entry *items; /* new_id and ref; sorted by ref */
	size_t count, cap;
};

/* Parse `git for-each-ref --format='%(objectname) %(refname)'` output. Lines that are not
 * "OID REF" (40 hex digits, a ref under refs/) are skipped. Pure. */
void refdiff_parse(const char *buf, size_t len, struct ref_listing *out);
void refdiff_free(struct ref_listing *listing);

/* The updates from real to view. A ref the journal shows moved since the session's mark, and
 * whose view still shows the value it had then, was not changed by the session: the view is
 * stale, and the ref is left alone. Pure. */
void refdiff_commands(const struct ref_listing *real, const struct ref_listing *view,
		      const struct journal_changes *changes, struct relay_request *out);

/* The repository's refs, listed by git outside any sandbox (it reads trusted data only). */
int refdiff_list_real(const char *git, const char *repo_path, struct ref_listing *out,
		      struct error *err);

/* The session's view of the refs, listed by git in a sandbox over the read-only view. */
struct session;
struct limits;
int refdiff_list_view(const char *git, const char *repo_path, int repo_fd,
		      const struct session *session, const struct limits *limits,
		      struct ref_listing *out, struct error *err);

#endif

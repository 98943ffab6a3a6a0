/* SPDX-License-Identifier: ISC */
/* Undo what a write must not have done. Every step works through *at() calls relative to the
 * repository fd, never follows a link, and replaces entries by rename instead of writing
 * into them: a planted link cannot turn a repair into a write somewhere else. No libgit2. */
#ifndef GITCAGE_ROLLBACK_H
#define GITCAGE_ROLLBACK_H

#include "common/changes.h"

/* Repair the layout problems of changes_layout(): originals moved back, added entries
 * removed, HEAD and config restored. A repair that fails sets its problem's failure. */
void rollback_layout(int repo_fd, const struct snapshot *snapshot, struct changes *changes);

/* Put every failed ref back: its loose file to its old content (or removed, when it had
 * none), and packed-refs rewritten as the snapshot's with only the accepted changes. A ref
 * that cannot be put back gets rollback_error. Returns the number of such refs. */
size_t rollback_refs(int repo_fd, const struct snapshot *snapshot, struct changes *changes);

#endif

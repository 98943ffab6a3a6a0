/* SPDX-License-Identifier: ISC */
/* Private copies of what a push brought. While the sandbox lives, a compromised git could
 * still write any file it made; so the objects to verify and publish are copied out of the
 * upper layer into the session's stage, which no sandbox can reach. What the verifier reads
 * is then exactly what is published. */
#ifndef GITCAGE_TXN_STAGE_H
#define GITCAGE_TXN_STAGE_H

#include "common/util.h"
#include "txn/upper.h"

/* Copy the new objects of scan (packs, without the index and reverse index git wrote: never
 * read, never published; and loose objects) from upper_fd into stage_fd, each at most
 * max_size bytes (0: no limit), skipping those named in done. Appends what it copied to
 * copied. A file that is not a regular one or a hard link, or one over the limit fails the
 * whole step. */
int stage_copy(int upper_fd, int stage_fd, const struct upper_scan *scan,
	       unsigned long long max_size, const struct strvec *done, struct strvec *copied,
	       struct error *err);

/* Copy from_dir/name, an index git made in the indexer's cage, into the stage beside pack as
 * pack's index (objects/pack/pack-X.idx), 0444. Only a regular file, not a link, is taken,
 * and only an index that names pack by its checksum, which is its name, with its own
 * checksum right. */
int stage_import(int from_dir, const char *name, int stage_fd, const char *pack, struct error *err);

/* Move the staged files named in staged into the repository: packs before their index (git
 * finds a pack by its .idx), then loose objects. A file the repository already has is left as
 * it is (same name, same content). Files are made 0444 and synced first. Returns 0, or -1
 * with err: what was moved stays, unreferenced and valid. */
int stage_publish(int stage_fd, int repo_fd, const struct strvec *staged, struct error *err);

#endif

/* SPDX-License-Identifier: ISC */
/* What a repository looked like before a write: taken by gitcage before the sandbox starts,
 * handed to gitcage-guard in a sealed memfd, and compared with the repository after git
 * exits. It holds what verification and rollback need and nothing that grows with history:
 * the packed-refs content is kept, but is parsed again only if the file changed. No libgit2. */
#ifndef GITCAGE_SNAPSHOT_H
#define GITCAGE_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "common/packed.h"
#include "common/repofs.h"
#include "common/util.h"

/* A file or directory and its stamp: top-level entries, and everything beneath the
 * protected directories (hooks/, info/, objects/info/) and objects/pack/. */
struct snapshot_entry {
	const char *name;
	struct repofs_stamp stamp;
};

enum loose_kind {
	LOOSE_FILE = 1, /* a regular file: value is its content */
	LOOSE_LINK,	/* a symlink: value is its target, never followed */
	LOOSE_OTHER,	/* a FIFO, a socket, a device, or a file too large to be a ref */
};

/* A loose ref: an entry under refs/ other than a directory or a regular *.lock file. */
struct loose_ref {
	const char *name; /* "refs/heads/main" */
	const char *value;
	size_t value_len;
	unsigned kind; /* enum loose_kind */
};

struct snapshot {
	int64_t start_sec, start_nsec; /* coarse wall clock, read before anything else */
	struct snapshot_entry *top;    /* top-level entries, sorted by name */
	size_t top_count;
	struct snapshot_entry *protected_entries; /* "hooks/x", "objects/info/alternates"... */
	size_t protected_count;
	struct snapshot_entry *packs; /* "pack-<hash>.idx" in objects/pack, sorted */
	size_t pack_count;
	struct loose_ref *refs; /* sorted by name */
	size_t ref_count;
	/* objects/: its entries (the fan-out directories) change only when its stamp does. New
	 * loose objects are not listed: the verifier stats each object it reaches instead, which
	 * costs O(new objects), not 256 directory stats before and after every push. */
	struct repofs_stamp config, packed, objects, pack_dir;
	const char *head; /* HEAD's content */
	size_t head_len;
	const char *config_data; /* NULL when there is no config */
	size_t config_len;
	/* packed-refs stays in the snapshot's file, read by pread when a ref is looked up, and
	 * loaded whole (snapshot_load_packed) only when the write changed packed-refs */
	int has_packed;
	uint64_t packed_len, packed_offset;
	char *packed_data; /* NULL until loaded; writable (it is parsed in place) */
	int fd;
	/* the metadata every pointer above points into */
	char *storage;
	size_t storage_len;
};

/* The protected directories: whatever git may not change. */
extern const char *const snapshot_protected_dirs[3];

/* Take a snapshot of the bare repository at repo_fd (O_PATH is enough) into a new sealed
 * memfd, which is returned: what gitcage hands to the guard. It is never mapped here, and
 * packed-refs goes into it by sendfile: a 100,000-ref file costs no page faults of ours.
 * Fails (-1) when the repository lacks HEAD, objects/ or refs/, or when anything cannot be
 * read. */
int snapshot_take_memfd(int repo_fd, struct error *err);

/* Load a serialized snapshot from an fd (the memfd, or a file): its metadata is read, and
 * the fd kept (a duplicate) for packed-refs. */
int snapshot_from_fd(int fd, struct snapshot *out, struct error *err);

/* Both at once, for tests. */
int snapshot_take(int repo_fd, struct snapshot *out, struct error *err);

/* The snapshot's packed-refs entry for name (found: 1, with out filled), by binary search
 * in the file. 0 when absent, -1 on a read error. */
int snapshot_find_packed(struct snapshot *snapshot, const char *name, struct packed_ref *out);

/* Read the snapshot's whole packed-refs into packed_data. 0, or -1 with errno. */
int snapshot_load_packed(struct snapshot *snapshot);

void snapshot_free(struct snapshot *snapshot);

/* Lookups by name in the sorted arrays; NULL when absent. */
const struct snapshot_entry *snapshot_find_entry(const struct snapshot_entry *entries, size_t count,
						 const char *name);
const struct loose_ref *snapshot_find_ref(const struct snapshot *snapshot, const char *name);

/* Read the loose refs under refs/ of the repository now, sorted by name, into a new array
 * whose strings are owned by it (loose_refs_free). */
int snapshot_scan_refs(int repo_fd, struct loose_ref **refs, size_t *count);
void loose_refs_free(struct loose_ref *refs, size_t count);

/* Whether two loose states are the same (kind and value). */
int loose_ref_equal(const struct loose_ref *a, const struct loose_ref *b);

/* The entries of path beneath repo_fd ("." for the top level: names without a prefix),
 * recursively or not, with their stamps, sorted by name; owned by the array. */
int snapshot_scan_entries(int repo_fd, const char *path, int recursive, struct snapshot_entry **out,
			  size_t *count);
void snapshot_entries_free(struct snapshot_entry *entries, size_t count);

#endif

/* SPDX-License-Identifier: ISC */
/* What a write changed: the repository now, compared with its snapshot. Two phases, because
 * the refs can only be compared once the layout is back in place (refs/ itself may have been
 * swapped): changes_layout(), its repairs (rollback_layout), then changes_refs(). The cost is
 * O(top-level and protected entries + loose refs + changed object directories); packed-refs
 * is parsed only when it changed. No libgit2. */
#ifndef GITCAGE_CHANGES_H
#define GITCAGE_CHANGES_H

#include <limits.h>
#include <stdbool.h>

#include "common/packed.h"
#include "common/snapshot.h"

enum repair {
	REPAIR_NONE,	       /* nothing can be done; reported */
	REPAIR_REMOVE,	       /* remove path (recursively, links unfollowed) */
	REPAIR_RESTORE_HEAD,   /* write the snapshot's HEAD */
	REPAIR_RESTORE_CONFIG, /* write the snapshot's config */
	REPAIR_RENAME_BACK,    /* the original was moved to `from`: put it back at path */
	REPAIR_PACKED,	       /* packed-refs is rewritten with the refs (rollback_refs) */
	REPAIR_MKDIR,	       /* refs/ was removed: an empty one again, refilled with the refs */
};

struct layout_problem {
	char what[PATH_MAX + 64]; /* for people: "commondir was added" */
	enum repair repair;
	char path[PATH_MAX];
	char from[PATH_MAX];
	const char *failure; /* set by the repair when it failed */
};

/* The state a ref resolves to. */
enum ref_state_kind {
	STATE_ABSENT,
	STATE_OID,     /* an object id: the only state a write may create */
	STATE_SYMREF,  /* "ref: ..." in a loose file */
	STATE_LINK,    /* a symlink under refs/ */
	STATE_OTHER,   /* not a regular file */
	STATE_GARBAGE, /* a regular file that holds no object id */
};

struct ref_state {
	enum ref_state_kind kind;
	bool packed; /* the value comes from packed-refs */
	char oid[OID_HEX_LEN + 1];
	char peeled[OID_HEX_LEN + 1];
};

struct ref_change {
	char *name;
	const struct loose_ref *old_loose, *new_loose; /* NULL when absent */
	struct packed_ref old_packed, new_packed;      /* name NULL when absent */
	bool loose_changed, packed_changed;
	struct ref_state old_state, new_state; /* what the ref resolves to, before and now */
	const char *failure;		       /* NULL: accepted; else why it is rolled back */
	char failure_buf[128];		       /* where a formatted failure is kept */
	const char *rollback_error;	       /* set when the rollback itself failed */
};

struct changes {
	struct layout_problem *problems;
	size_t problem_count;
	bool tampered; /* any layout problem: nothing this write did can be trusted */
	/* new objects: new pack indexes ("objects/pack/pack-x.idx"), and loose objects whose
	 * ctime is at or after the snapshot's start (the verifier stats those it reaches) */
	int64_t start_sec, start_nsec;
	char **new_packs;
	size_t new_pack_count;
	/* the refs */
	struct ref_change *refs;
	size_t ref_count;
	struct loose_ref *now_refs;
	size_t now_ref_count;
	bool packed_changed;
	struct packed_refs old_packed, new_packed; /* parsed only when packed_changed */
	char *packed_now;
	size_t packed_now_len;
	const char *packed_old_header;
};

/* Phase 1: top-level entries, HEAD, config, the protected directories, symlinks under logs/
 * and objects/, and the list of new packs. Returns 0, or -1 when the repository could not
 * be read (err says why): the caller must then treat the write as tampered. */
int changes_layout(int repo_fd, const struct snapshot *snapshot, struct changes *out,
		   struct error *err);

/* Phase 2, after the layout repairs: every ref whose loose or packed state changed. */
int changes_refs(int repo_fd, struct snapshot *snapshot, struct changes *out, struct error *err);

void changes_free(struct changes *changes);

/* Add a problem (printf-style description). */
struct layout_problem *changes_add_problem(struct changes *changes, enum repair repair,
					   const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* What a loose file or a packed entry resolves to. */
void changes_resolve(const struct loose_ref *loose, const struct packed_ref *packed,
		     struct ref_state *out);

#endif

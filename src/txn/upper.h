/* SPDX-License-Identifier: ISC */
/* What git wrote: the session's upper layer, entry by entry. Nothing in it is read here, only
 * named and stat'ed; what is published is copied out of it (stage.c) and verified, and refs
 * never come from it at all (they come through the relay). */
#ifndef GITCAGE_TXN_UPPER_H
#define GITCAGE_TXN_UPPER_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/util.h"

enum upper_kind {
	UPPER_DIR,	/* a directory git makes: objects/, objects/pack/, fan-out, refs/... */
	UPPER_PACK,	/* a new objects/pack/pack-X.{pack,idx,rev} */
	UPPER_LOOSE,	/* a new objects/XX/YYYY... */
	UPPER_COPY_UP,	/* an object file the repository has already: a copy-up, never read */
	UPPER_GIT_REFS, /* git's own record of a ref transaction the relay already decided */
	UPPER_NOISE,	/* receive-pack's .keep of the pack it is about to report */
	UPPER_DELETES,	/* a whiteout or opaque directory in objects/: gc, repack or prune */
	UPPER_REFUSED,	/* anything else: config, HEAD, hooks, shallow, links, FIFOs, modes... */
};

/* What the walk knows of an entry. */
struct upper_facts {
	mode_t mode; /* type and permission bits */
	nlink_t nlink;
	bool whiteout; /* a 0/0 character device: overlayfs's deletion mark */
	bool opaque;   /* a directory that hides the lower one (user.overlay.opaque) */
	bool in_lower; /* the repository has an entry of this name */
};

/* Classify one entry by its path relative to the upper layer ("objects/pack/pack-X.idx").
 * why gets a few words for UPPER_REFUSED and UPPER_DELETES. Pure. */
enum upper_kind upper_classify(const char *path, const struct upper_facts *facts, const char **why);

struct upper_scan {
	struct strvec packs;	/* objects/pack/pack-X.{pack,idx,rev}, new */
	struct strvec loose;	/* objects/XX/YYYY..., new */
	struct strvec refused;	/* "PATH: why", for the client and the audit */
	struct strvec deletes;	/* "PATH", in objects/ */
	struct strvec refs;	/* "PATH", entries of UPPER_GIT_REFS */
	struct strvec copy_ups; /* "PATH", object files the repository has already */
};

/* Walk the upper layer (never following a link) and sort what is there. repo_fd is the
 * repository, to tell copy-ups from new objects. Returns 0, or -1 with err. */
int upper_scan(int upper_fd, int repo_fd, struct upper_scan *out, struct error *err);
void upper_scan_free(struct upper_scan *scan);

#endif

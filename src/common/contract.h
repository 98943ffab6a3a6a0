/* SPDX-License-Identifier: ISC */
/* The contract between gitcage and gitcage-guard, the one program that links libgit2.
 *
 * gitcage runs the guard twice per push that brings objects, each time in a sandbox of its
 * own with the repository and the session's staged objects read-only and no network:
 *     gitcage-index GIT REPO STAGE CHECKED < request > facts
 *         git itself indexes every staged pack (GIT index-pack, with fsck: every object hashed,
 *         every delta resolved, every object fsck'ed; the index git wrote inside the sandbox
 *         is never read) into CHECKED, the one place this cage may write. Loose objects (a
 *         run's) are packed there and fsck'ed the same way. libgit2 is never used here.
 *     gitcage-guard check REPO STAGE < request > facts
 *         once gitcage has copied those indexes beside their packs in STAGE: libgit2 reads
 *         every object of every staged pack through them, which verifies its hash (the
 *         objects the repository already has too: an index must not name an id for other
 *         content), checks every new object's links and types, and answers with facts.
 * A bug that one parser's input exploits in one cage cannot forge what the other checks: the
 * index is written where libgit2 never runs, and read where nothing can be written. Neither
 * decides: gitcage's publisher decides from the facts. Both directions are lines of text:
 *     gitcage-check 1                    gitcage-check 1
 *     max-blob-size N                    objects ok | objects bad REASON
 *     fsck strict | fsck objects         command VALID EXISTS TYPE FF   (one per command)
 *     fsck-ignore MSG-ID                 end
 *     pack PATH-OF-PACK
 *     loose PATH
 *     command OLD NEW REF ASK-FF
 *     end
 * "fsck strict" (a push: one pack) is index-pack --strict, which also finds every link among
 * the pack's and the repository's objects, with the fsck-ignore ids; "fsck objects" (a run:
 * packs and loose objects that may link to each other) fsck's each object alone, and leaves
 * the links to check. VALID and EXISTS are 0 or 1; TYPE is commit, tree, blob, tag or -; FF is
 * 1 (the new value descends from the old), 0, or - when not asked. index answers no command
 * lines. */
#ifndef GITCAGE_COMMON_CONTRACT_H
#define GITCAGE_COMMON_CONTRACT_H

#include <stdbool.h>
#include <stddef.h>

#include "common/relay.h"
#include "common/util.h"

/* gitcage-guard's exit statuses, besides 0. */
enum guard_exit {
	GUARD_EXIT_FINDINGS = 1, /* verify: something is wrong with a repository */
	GUARD_EXIT_USAGE = 2,
	GUARD_EXIT_FAILED = 3, /* check: the facts could not be established */
};

enum check_ff {
	CHECK_FF_UNASKED,
	CHECK_FF_YES,
	CHECK_FF_NO,
};

struct check_command {
	char old_id[RELAY_OID_HEX + 1];
	char new_id[RELAY_OID_HEX + 1];
	char *ref;
	bool ask_ff;
	/* The facts, filled by the guard. */
	bool name_valid;
	bool exists; /* the new object; true for a deletion */
	char type[8];
	enum check_ff ff;
};

enum check_fsck {
	CHECK_FSCK_STRICT,  /* index-pack --strict: every object, and every link present */
	CHECK_FSCK_OBJECTS, /* index-pack --fsck-objects: every object alone */
};

struct check_request {
	unsigned long long max_blob_size; /* 0: no limit */
	enum check_fsck fsck;
	struct strvec fsck_ignore; /* fsck message ids git index-pack --strict ignores */
	struct strvec packs;	   /* objects/pack/pack-X.pack, relative to the stage */
	struct strvec loose;	   /* objects/ab/cdef..., relative to the stage */
	struct check_command *commands;
	size_t count, cap;
	/* The facts about the new objects as a whole. */
	bool objects_ok;
	char objects_reason[512];
};

void check_add_command(struct check_request *req, const char *old_id, const char *new_id,
		       const char *ref, bool ask_ff);
void check_request_free(struct check_request *req);

void check_format_request(const struct check_request *req, struct strbuf *out);
/* The guard's side: the request gitcage wrote. Returns 0, or -1 with err. */
int check_parse_request(const char *buf, size_t len, struct check_request *out, struct error *err);

void check_format_facts(const struct check_request *req, struct strbuf *out);
/* gitcage's side: fills the facts of req from the guard's answer. The guard parsed hostile
 * objects, so its answer is read as strictly as anything from a sandbox. */
int check_parse_facts(const char *buf, size_t len, struct check_request *req, struct error *err);

#endif

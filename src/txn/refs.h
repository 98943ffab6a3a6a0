/* SPDX-License-Identifier: ISC */
/* The current value of a ref in the real repository, read without libgit2: a loose ref file,
 * else its packed-refs entry (a binary search over a few blocks). The real repository holds
 * nothing unverified, so this reads trusted data; it still never follows a symlink. */
#ifndef GITCAGE_TXN_REFS_H
#define GITCAGE_TXN_REFS_H

#include "common/relay.h"

enum ref_kind {
	REF_ABSENT,
	REF_OID,
	REF_SYMBOLIC, /* "ref: OTHER": updating it would update OTHER */
	REF_UNREADABLE,
};

/* ref is a full name ("refs/heads/main"). oid gets the value when REF_OID, else zeros. */
enum ref_kind refs_current(int repo_fd, const char *ref, char oid[RELAY_OID_HEX + 1]);

#endif

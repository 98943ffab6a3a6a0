/* SPDX-License-Identifier: ISC */
/* The keys directory: USER.pub files, checked as sshd checks authorized_keys. */
#ifndef GITCAGE_KEYS_H
#define GITCAGE_KEYS_H

#include <stddef.h>

#include "common/config.h"

struct key_entry {
	char *user;
	const char *type;
	char *blob;
	char *file; /* relative to the keys directory */
};

/* What a scan found: the keys to authorize, and one line per file or key left out. */
struct keys_scan {
	struct key_entry *keys;
	size_t count;
	char **problems; /* "alice.pub: group- or world-writable: refused" */
	size_t problem_count;
};

/* The user a key file belongs to, by gitolite's rule: the name without ".pub" and without an
 * "@HOST" that holds no '.': alice@laptop.pub is alice's, user@example.com.pub is
 * user@example.com's. Returns 0, or -1 when the file is not a key file or the name not a user. */
int keys_user_of_file(const char *name, char *user, size_t size);

/* Read every *.pub file beneath dir, in subdirectories too (as gitolite's keydir), refusing
 * what others than its owner (root or us) could have written: the directory, its parents, a
 * subdirectory or a file writable by group or others, or owned by anyone else. A key that
 * appears under two users is refused for both. Returns 0, or -1 when dir itself is refused
 * (the reason is the first problem). */
int keys_scan_dir(const char *dir, struct keys_scan *out);
void keys_scan_free(struct keys_scan *scan);

#endif

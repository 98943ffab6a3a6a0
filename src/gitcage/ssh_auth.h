/* SPDX-License-Identifier: ISC */
/* What sshd tells gitcage about a login: the key it accepted, as sshd logs it. In src/gitcage,
 * so that only gitcage links nettle: the guard and the hook get the fingerprint from gitcage. */
#ifndef GITCAGE_GITCAGE_SSH_AUTH_H
#define GITCAGE_GITCAGE_SSH_AUTH_H

#include <stddef.h>

/* "SHA256:" and the unpadded base64 of SHA-256 over the decoded key blob, as sshd's log and
 * ssh-keygen -l print it. Returns 0, or -1 when blob is not base64. Pure. */
int ssh_auth_fingerprint(const char *blob_base64, char *out, size_t size);

/* The fingerprint of the key sshd accepted, from the SSH_USER_AUTH file (ExposeAuthInfo yes),
 * whose lines are "publickey TYPE BLOB"; the last one is the key that succeeded. Returns a
 * static string, or NULL when there is no such file or key. */
const char *ssh_auth_key(const char *user_auth_path);

#endif

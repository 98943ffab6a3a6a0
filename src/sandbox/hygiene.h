/* SPDX-License-Identifier: ISC */
/* Step 1 of every verb: sane fds, a rebuilt environment, no root. */
#ifndef GITCAGE_HYGIENE_H
#define GITCAGE_HYGIENE_H

#include <stddef.h>

/* Make sure fds 0, 1 and 2 are open (on /dev/null if they were closed), and close every
 * other fd: nothing inherited from sshd or the caller may reach git. */
void hygiene_fds(void);

/* Refuse to run as root: the sandbox maps only the caller's uid, and a root git server is
 * what gitcage exists to avoid. */
void hygiene_refuse_root(void);

/* Keep copies of the few variables gitcage reads, then empty the environment, so that no
 * library (and nothing we start) sees anything of the caller's by accident. */
void hygiene_environment(void);

/* A variable kept by hygiene_environment(), or NULL. */
const char *hygiene_getenv(const char *name);

/* The environment of the sandboxed command: PATH, HOME and, where they are well formed, the
 * caller's locale and TERM (include_locale) and GIT_PROTOCOL (include_git_protocol).
 * Returns a NULL-terminated array in static storage. */
char **hygiene_sandbox_env(int include_locale, int include_git_protocol);

/* Nonzero when a client's GIT_PROTOCOL value is well formed: colon-separated
 * "key" or "key=value" items of [A-Za-z0-9._-], e.g. "version=2". */
int hygiene_protocol_valid(const char *value);

#define SANDBOX_HOME "/home"
#define SANDBOX_PATH "/usr/local/bin:/usr/bin:/bin"

#endif

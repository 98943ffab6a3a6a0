/* SPDX-License-Identifier: ISC */
/* gitcage's state directory: the sessions' private layers, and per repository a lock and a
 * journal of published ref updates. It lives where clients and listings never look (default
 * <repositories>/.gitcage: the request parser refuses every component that starts with '.'),
 * on the repositories' file system, so that publishing an object is a rename. */
#ifndef GITCAGE_TXN_STATE_H
#define GITCAGE_TXN_STATE_H

#include <limits.h>
#include <stddef.h>

#include "common/util.h"

struct state {
	char path[PATH_MAX];
	int fd;		 /* the state directory */
	int sessions_fd; /* sessions/: one directory per write session */
	int repos_fd;	 /* repos/: KEY.lock, KEY.journal, KEY.journal.1 */
};

/* The state directory for a config: [server] state, else <repositories>/.gitcage. NULL when
 * neither is set. */
const char *state_default_path(const char *state, const char *repositories, char *buf, size_t size);

/* Open the state directory, creating it (mode 0700) and its subdirectories if needed. It must
 * be a real directory owned by us that nobody else may write: everything in it decides what
 * is published. Returns 0, or -1 with the reason in err. */
int state_open(const char *path, struct state *out, struct error *err);
void state_close(struct state *state);

/* The repository's key in repos/: its device and inode, which name it whatever path reaches
 * it. */
void state_repo_key(int repo_fd, char *out, size_t size);

#endif

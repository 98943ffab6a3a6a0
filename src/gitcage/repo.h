/* SPDX-License-Identifier: ISC */
/* Safe resolution of a requested path beneath the repositories root, and layout checks. */
#ifndef GITCAGE_REPO_H
#define GITCAGE_REPO_H

#include <limits.h>
#include <sys/types.h>

#include "common/util.h"

struct repo {
	int fd;			/* O_PATH | O_DIRECTORY on the repository */
	char relpath[PATH_MAX]; /* as found beneath the root: "team/demo.git" */
	char path[PATH_MAX];	/* absolute: root + "/" + relpath */
};

/* Open the root of all repositories (O_PATH | O_DIRECTORY). Returns the fd or -1. */
int repo_open_root(const char *root_path, struct error *err);

/* Find request_path beneath root_fd: "NAME.git" first when NAME lacks the suffix, then
 * "NAME". Resolution never leaves the root and never follows a symlink, in any component.
 * Then the layout must be a safe bare repository owned by owner (repo_check_layout). Returns
 * 0, or -1 with the reason in err: for the audit log, never for the client. */
int repo_resolve(int root_fd, const char *root_path, const char *request_path, uid_t owner,
		 struct repo *out, struct error *err);

/* A bare repository whose control files cannot redirect git elsewhere: HEAD, objects/ and
 * refs/ present and not symlinks; no gitfile or .git (a work tree); no commondir; config and
 * hooks/ not symlinks; alternates, if any, only beneath root_path; owned by owner. */
int repo_check_layout(int repo_fd, const char *root_path, uid_t owner, struct error *err);

void repo_close(struct repo *repo);

/* Who created a wild repository, as gitcage recorded it in the repository's gl-creator (the
 * name gitolite uses, so that migrated repositories keep their creators). Only a regular file
 * owned by owner, holding one valid user name, counts. Returns 1 with the name in out, 0 when
 * there is none (or it is not to be trusted). */
#define REPO_CREATOR_FILE "gl-creator"
int repo_read_creator(int repo_fd, uid_t owner, char *out, size_t size);

/* Every repository beneath the root, at most depth directories down: a directory with HEAD,
 * objects/ and refs/ is one (its insides are not searched); names starting with '.' are
 * skipped (gitcage's state, hidden files), and so are symlinks. fn gets each one's path
 * relative to the root and an O_PATH fd on it; a non-zero return stops the walk. */
#define REPO_WALK_DEPTH 16
int repo_walk(int root_fd, int (*fn)(void *ctx, const char *relpath, int repo_fd), void *ctx);

#endif

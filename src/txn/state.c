/* SPDX-License-Identifier: ISC */
#include "txn/state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *state_default_path(const char *state, const char *repositories, char *buf, size_t size)
{
	if (state)
		return state;
	if (!repositories)
		return NULL;
	xsnprintf(buf, size, "%s/.gitcage", repositories);
	return buf;
}

/* A directory of ours that nobody else can write, opened without following a link. */
static int open_private_dir(int dirfd, const char *path, const char *shown, struct error *err)
{
	struct stat st;
	if (mkdirat(dirfd, path, 0700) != 0 && errno != EEXIST)
		return error_set(err, "cannot create %s: %s", shown, strerror(errno));
	int fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return error_set(err, "cannot open %s: %s", shown,
				 errno == ELOOP || errno == ENOTDIR ? "not a directory"
								    : strerror(errno));
	if (fstat(fd, &st) != 0 || st.st_uid != geteuid() || (st.st_mode & 022)) {
		close(fd);
		return error_set(err,
				 "refusing %s: it must belong to uid %u and be writable by "
				 "nobody else",
				 shown, (unsigned)geteuid());
	}
	return fd;
}

int state_open(const char *path, struct state *out, struct error *err)
{
	*out = (struct state){.fd = -1, .sessions_fd = -1, .repos_fd = -1};
	if (snprintf(out->path, sizeof(out->path), "%s", path) >= (int)sizeof(out->path))
		return error_set(err, "the state directory's path is too long");
	if ((out->fd = open_private_dir(AT_FDCWD, path, path, err)) < 0 ||
	    (out->sessions_fd = open_private_dir(out->fd, "sessions", path, err)) < 0 ||
	    (out->repos_fd = open_private_dir(out->fd, "repos", path, err)) < 0) {
		state_close(out);
		return -1;
	}
	return 0;
}

void state_close(struct state *state)
{
	int *fds[] = {&state->fd, &state->sessions_fd, &state->repos_fd};
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

void state_repo_key(int repo_fd, char *out, size_t size)
{
	struct stat st;
	if (fstat(repo_fd, &st) != 0)
		die_errno("cannot stat the repository");
	xsnprintf(out, size, "%llx-%llx", (unsigned long long)st.st_dev,
		  (unsigned long long)st.st_ino);
}

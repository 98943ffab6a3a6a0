/* SPDX-License-Identifier: ISC */
#include "gitcage/repo.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/config.h"
#include "common/repofs.h"

/* No symlinks anywhere (a link in the path could point at another user's repository or at
 * the service account's home), no escaping the root, no /proc magic links. */
static int open_beneath(int dirfd, const char *path, int flags)
{
	return repofs_open_beneath(dirfd, path, flags, 0);
}

int repo_open_root(const char *root_path, struct error *err)
{
	int fd = open(root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return error_set(err, "cannot open the repositories root %s: %s", root_path,
				 strerror(errno));
	return fd;
}

/* Kind of an entry of the repository, without following a symlink: S_IFREG, S_IFDIR,
 * S_IFLNK..., or 0 when it does not exist. */
static mode_t entry_type(int repo_fd, const char *name)
{
	struct stat st;
	if (fstatat(repo_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return 0;
	return st.st_mode & S_IFMT;
}

/* Every line of objects/info/alternates must name a directory beneath the root: an
 * alternate elsewhere would serve another repository's objects to this one's readers. */
static int check_alternates(int repo_fd, const char *root_path, struct error *err)
{
	int fd = open_beneath(repo_fd, "objects/info/alternates", O_RDONLY);
	if (fd < 0)
		return errno == ENOENT ? 0 : error_set(err, "unreadable alternates");
	FILE *file = fdopen(fd, "r");
	if (!file) {
		close(fd);
		return error_set(err, "unreadable alternates");
	}
	char line[PATH_MAX + 2];
	size_t root_len = strlen(root_path);
	int rc = 0;
	while (rc == 0 && fgets(line, sizeof(line), file)) {
		line[strcspn(line, "\n")] = '\0';
		char real[PATH_MAX];
		if (!*line || *line == '#')
			continue;
		if (*line != '/' || !realpath(line, real) ||
		    strncmp(real, root_path, root_len) != 0 || real[root_len] != '/')
			rc = error_set(err, "alternates point outside the repositories root");
	}
	fclose(file);
	return rc;
}

int repo_check_layout(int repo_fd, const char *root_path, uid_t owner, struct error *err)
{
	struct stat st;
	if (fstat(repo_fd, &st) != 0 || !S_ISDIR(st.st_mode))
		return error_set(err, "not a directory");
	if (st.st_uid != owner)
		return error_set(err, "owned by uid %u, not by the service account (uid %u)",
				 st.st_uid, owner);
	if (entry_type(repo_fd, ".git"))
		return error_set(err, "not a bare repository (it has a .git)");
	if (entry_type(repo_fd, "commondir"))
		return error_set(err, "has a commondir file (it would borrow another repository)");
	if (entry_type(repo_fd, "HEAD") != S_IFREG)
		return error_set(err, "HEAD is missing or not a regular file");
	if (entry_type(repo_fd, "objects") != S_IFDIR || entry_type(repo_fd, "refs") != S_IFDIR)
		return error_set(err, "objects/ or refs/ is missing or a symlink");
	mode_t hooks = entry_type(repo_fd, "hooks"), config = entry_type(repo_fd, "config");
	if ((hooks && hooks != S_IFDIR) || (config && config != S_IFREG))
		return error_set(err, "hooks/ or config is a symlink or of the wrong type");
	return check_alternates(repo_fd, root_path, err);
}

static int try_open(int root_fd, const char *relpath, struct repo *out)
{
	out->fd = open_beneath(root_fd, relpath, O_PATH | O_DIRECTORY);
	if (out->fd < 0)
		return -1;
	snprintf(out->relpath, sizeof(out->relpath), "%s", relpath);
	return 0;
}

int repo_resolve(int root_fd, const char *root_path, const char *request_path, uid_t owner,
		 struct repo *out, struct error *err)
{
	char with_suffix[PATH_MAX];
	size_t len = strlen(request_path);
	int has_suffix = len >= 4 && strcmp(request_path + len - 4, ".git") == 0;
	out->fd = -1;
	if (snprintf(with_suffix, sizeof(with_suffix), "%s.git", request_path) >=
	    (int)sizeof(with_suffix))
		return error_set(err, "path too long");
	if ((has_suffix || try_open(root_fd, with_suffix, out) != 0) &&
	    try_open(root_fd, request_path, out) != 0)
		return error_set(err, "cannot open '%s' beneath %s: %s", request_path, root_path,
				 strerror(errno));
	if (snprintf(out->path, sizeof(out->path), "%s/%s", root_path, out->relpath) >=
	    (int)sizeof(out->path)) {
		repo_close(out);
		return error_set(err, "path too long");
	}
	if (repo_check_layout(out->fd, root_path, owner, err) != 0) {
		repo_close(out);
		return -1;
	}
	return 0;
}

void repo_close(struct repo *repo)
{
	if (repo->fd >= 0)
		close(repo->fd);
	repo->fd = -1;
}

int repo_read_creator(int repo_fd, uid_t owner, char *out, size_t size)
{
	char buf[256];
	struct stat st;
	/* O_NONBLOCK: a FIFO in its place must not hang us before fstat refuses it. */
	cleanup_fd int fd =
	    openat(repo_fd, REPO_CREATOR_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != owner ||
	    (st.st_mode & 022))
		return 0; /* a creator anyone else could have written is no creator */
	ssize_t len = read(fd, buf, sizeof(buf) - 1);
	if (len <= 0)
		return 0;
	buf[len] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	if (!config_valid_user(buf) || strlen(buf) >= size)
		return 0;
	memcpy(out, buf, strlen(buf) + 1);
	return 1;
}

struct walk {
	int (*fn)(void *ctx, const char *relpath, int repo_fd);
	void *ctx;
	char path[PATH_MAX];
};

static bool looks_like_repository(int fd)
{
	return entry_type(fd, "HEAD") == S_IFREG && entry_type(fd, "objects") == S_IFDIR &&
	       entry_type(fd, "refs") == S_IFDIR;
}

static int walk_dir(struct walk *walk, int dir_fd, size_t len, int depth);

/* One entry of a directory: a repository is handed over, another directory searched. */
static int walk_entry(struct walk *walk, int dir_fd, const char *name, size_t len, int depth)
{
	int rc = 0;
	cleanup_fd int fd = open_beneath(dir_fd, name, O_PATH | O_DIRECTORY);
	size_t grown = len + (len ? 1 : 0) + strlen(name);
	if (fd < 0 || grown >= sizeof(walk->path))
		return 0; /* not a directory, a symlink, or too deep a name */
	snprintf(walk->path + len, sizeof(walk->path) - len, "%s%s", len ? "/" : "", name);
	if (looks_like_repository(fd))
		rc = walk->fn(walk->ctx, walk->path, fd);
	else if (depth > 1)
		rc = walk_dir(walk, fd, grown, depth - 1);
	walk->path[len] = '\0';
	return rc;
}

static int walk_dir(struct walk *walk, int dir_fd, size_t len, int depth)
{
	int fd = open_beneath(dir_fd, ".", O_RDONLY | O_DIRECTORY);
	DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
	if (!dir) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	int rc = 0;
	for (struct dirent *entry; rc == 0 && (entry = readdir(dir));)
		if (entry->d_name[0] != '.')
			rc = walk_entry(walk, dirfd(dir), entry->d_name, len, depth);
	closedir(dir);
	return rc;
}

int repo_walk(int root_fd, int (*fn)(void *ctx, const char *relpath, int repo_fd), void *ctx)
{
	struct walk walk = {.fn = fn, .ctx = ctx};
	return walk_dir(&walk, root_fd, 0, REPO_WALK_DEPTH);
}

/* SPDX-License-Identifier: ISC */
#include "common/repofs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/util.h"

/* Deeper than any tree git makes: refs/ nests by name components, nothing else nests. */
#define MAX_DEPTH 128

/* RESOLVE_NO_SYMLINKS refuses a link in any component, not only the last; with O_PATH |
 * O_NOFOLLOW a trailing link is opened itself, so that it can be examined. */
int repofs_open_beneath(int dirfd, const char *path, int flags, unsigned long long resolve)
{
	struct open_how how = {
	    .flags = (unsigned long long)(flags | O_CLOEXEC | O_NOFOLLOW),
	    .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | resolve,
	};
	return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

static int open_beneath(int dirfd, const char *path, int flags)
{
	return repofs_open_beneath(dirfd, path, flags, 0);
}

int repofs_open_dir(int dirfd, const char *path, int extra_flags)
{
	return open_beneath(dirfd, path, O_DIRECTORY | extra_flags);
}

int repofs_open_file(int dirfd, const char *path)
{
	return open_beneath(dirfd, path, O_RDONLY | O_NONBLOCK);
}

void repofs_fill_stamp(const struct stat *st, struct repofs_stamp *out)
{
	*out = (struct repofs_stamp){
	    .exists = 1,
	    .mode = st->st_mode,
	    .dev = st->st_dev,
	    .ino = st->st_ino,
	    .size = (uint64_t)st->st_size,
	    .mtime_sec = st->st_mtim.tv_sec,
	    .mtime_nsec = st->st_mtim.tv_nsec,
	    .ctime_sec = st->st_ctim.tv_sec,
	    .ctime_nsec = st->st_ctim.tv_nsec,
	};
}

int repofs_stamp(int dirfd, const char *path, struct repofs_stamp *out)
{
	struct stat st;
	int rc;
	memset(out, 0, sizeof(*out));
	if (!strchr(path, '/')) {
		/* One component: fstatat alone cannot be led elsewhere, and costs one call. */
		rc = fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW);
	} else {
		int fd = open_beneath(dirfd, path, O_PATH);
		if (fd < 0)
			return errno == ENOENT ? 0 : -1;
		rc = fstat(fd, &st);
		close(fd);
	}
	if (rc != 0)
		return errno == ENOENT ? 0 : -1;
	repofs_fill_stamp(&st, out);
	return 0;
}

bool repofs_stamp_equal(const struct repofs_stamp *a, const struct repofs_stamp *b)
{
	return a->exists == b->exists && a->mode == b->mode && a->dev == b->dev &&
	       a->ino == b->ino && a->size == b->size && a->mtime_sec == b->mtime_sec &&
	       a->mtime_nsec == b->mtime_nsec && a->ctime_sec == b->ctime_sec &&
	       a->ctime_nsec == b->ctime_nsec;
}

bool repofs_changed_since(const struct repofs_stamp *stamp, int64_t sec, int64_t nsec)
{
	return stamp->ctime_sec > sec || (stamp->ctime_sec == sec && stamp->ctime_nsec >= nsec);
}

int repofs_read(int dirfd, const char *path, size_t max, char **data, size_t *len)
{
	/* O_NONBLOCK: opening a planted FIFO must not hang; a regular file ignores it. */
	int fd = repofs_open_file(dirfd, path);
	if (fd < 0)
		return -1;
	int rc = read_whole_file(fd, max, data, len);
	int saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

/* Split "a/b/c" into an fd on "a/b" (O_PATH, opened safely) and the name "c". */
static int open_parent(int dirfd, const char *path, const char **name)
{
	const char *slash = strrchr(path, '/');
	if (!slash) {
		*name = path;
		return fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
	}
	char parent[PATH_MAX];
	if ((size_t)(slash - path) >= sizeof(parent))
		return errno = ENAMETOOLONG, -1;
	memcpy(parent, path, (size_t)(slash - path));
	parent[slash - path] = '\0';
	*name = slash + 1;
	return open_beneath(dirfd, parent, O_PATH | O_DIRECTORY);
}

/* A tree deeper than MAX_DEPTH is taken apart in pieces: its deep part is moved up to the top
 * of the removal under a name of its own, and removed from there, so that neither the stack
 * nor the number of open fds grows with the depth a hostile writer chose. */
#define DEEP_PREFIX ".gitcage-deep-"

struct removal {
	int top_fd;
	struct strvec moved; /* names under top_fd, still to remove */
};

static int remove_tree(struct removal *r, int parent_fd, const char *name, int depth);

/* Remove every entry of an open directory. Several passes: readdir may skip entries while
 * the directory changes under it. */
static int empty_directory(struct removal *r, int fd, int depth)
{
	DIR *dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return -1;
	}
	int rc = 0, removed = 1;
	for (int pass = 0; pass < 4 && removed && rc == 0; pass++) {
		struct dirent *entry;
		removed = 0;
		rewinddir(dir);
		while (rc == 0 && (entry = readdir(dir))) {
			if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
				continue;
			if (unlinkat(dirfd(dir), entry->d_name, 0) == 0) {
				removed = 1;
			} else if (errno == EISDIR) {
				rc = remove_tree(r, dirfd(dir), entry->d_name, depth + 1);
				removed = 1;
			} else if (errno != ENOENT) {
				rc = -1;
			}
		}
	}
	closedir(dir);
	return rc;
}

static int move_up(struct removal *r, int parent_fd, const char *name)
{
	static unsigned counter;
	char moved[64];
	snprintf(moved, sizeof(moved), DEEP_PREFIX "%d-%u", (int)getpid(), counter++);
	if (renameat(parent_fd, name, r->top_fd, moved) != 0)
		return -1;
	strvec_push(&r->moved, moved);
	return 0;
}

static int remove_tree(struct removal *r, int parent_fd, const char *name, int depth)
{
	if (depth > MAX_DEPTH)
		return move_up(r, parent_fd, name);
	int fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == EACCES && fchmodat(parent_fd, name, 0700, AT_SYMLINK_NOFOLLOW) == 0)
		fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	/* A directory made read-only on purpose would keep its entries. */
	(void)fchmod(fd, 0700);
	if (empty_directory(r, fd, depth) != 0)
		return -1;
	if (unlinkat(parent_fd, name, AT_REMOVEDIR) != 0 && errno != ENOENT)
		return -1;
	return 0;
}

/* Remove name under parent, and every deep part moved up meanwhile. */
static int remove_all(int top_fd, int parent_fd, const char *name)
{
	struct removal r = {.top_fd = top_fd};
	int rc = remove_tree(&r, parent_fd, name, 0);
	while (rc == 0 && r.moved.count) {
		char *next = r.moved.items[--r.moved.count];
		rc = remove_tree(&r, top_fd, next, 0);
		free(next);
	}
	strvec_free(&r.moved);
	return rc;
}

int repofs_remove(int dirfd, const char *path)
{
	const char *name;
	int parent cleanup_fd = open_parent(dirfd, path, &name);
	if (parent < 0)
		return errno == ENOENT ? 0 : -1;
	if (unlinkat(parent, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR)
		return -1;
	return remove_all(parent, parent, name);
}

bool repofs_is_leftover(const char *name)
{
	return strncmp(name, DEEP_PREFIX, strlen(DEEP_PREFIX)) == 0;
}

static int write_temporary(int parent, const char *tmp, const void *data, size_t len, mode_t mode)
{
	int fd = openat(parent, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return -1;
	int rc = write_all(fd, data, len);
	int saved = errno;
	if (close(fd) != 0 && rc == 0)
		return -1;
	errno = saved;
	return rc;
}

int repofs_replace(int dirfd, const char *path, const void *data, size_t len, mode_t mode)
{
	static unsigned counter;
	const char *name;
	char tmp[NAME_MAX + 1];
	int parent cleanup_fd = open_parent(dirfd, path, &name);
	if (parent < 0)
		return -1;
	/* ".lock": git never reads such a name as a ref, should we die before the rename. */
	if (snprintf(tmp, sizeof(tmp), ".%.180s.gitcage-%d-%u.lock", name, (int)getpid(),
		     counter++) >= (int)sizeof(tmp))
		return errno = ENAMETOOLONG, -1;
	if (write_temporary(parent, tmp, data, len, mode) != 0) {
		unlinkat(parent, tmp, 0);
		return -1;
	}
	int rc = renameat(parent, tmp, parent, name);
	if (rc != 0 && (errno == EISDIR || errno == ENOTEMPTY || errno == EEXIST) &&
	    remove_all(parent, parent, name) == 0)
		rc = renameat(parent, tmp, parent, name);
	if (rc != 0) {
		int saved = errno;
		unlinkat(parent, tmp, 0);
		errno = saved;
	}
	return rc;
}

/* Open or create one directory component, refusing anything that is not a real directory. */
static int step_into(int fd, const char *component)
{
	int next = openat(fd, component, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (next < 0 && errno == ENOENT) {
		if (mkdirat(fd, component, 0755) != 0 && errno != EEXIST)
			return -1;
		next = openat(fd, component, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (next < 0)
		return errno == ELOOP ? (errno = ENOTDIR, -1) : -1;
	struct stat st;
	if (fstat(next, &st) != 0 || !S_ISDIR(st.st_mode)) {
		close(next);
		return errno = ENOTDIR, -1;
	}
	return next;
}

int repofs_make_parents(int dirfd, const char *path)
{
	char copy[PATH_MAX];
	if (snprintf(copy, sizeof(copy), "%s", path) >= (int)sizeof(copy))
		return errno = ENAMETOOLONG, -1;
	int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
	char *component = copy;
	for (char *slash; fd >= 0 && (slash = strchr(component, '/')); component = slash + 1) {
		*slash = '\0';
		int next = *component ? step_into(fd, component) : fcntl(fd, F_DUPFD_CLOEXEC, 0);
		int saved = errno;
		close(fd);
		errno = saved;
		fd = next;
	}
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

struct walk {
	repofs_walk_fn fn;
	void *payload;
	char path[PATH_MAX];
};

static mode_t entry_type(int fd, const struct dirent *entry)
{
	static const mode_t by_dtype[] = {
	    [DT_REG] = S_IFREG,	  [DT_DIR] = S_IFDIR, [DT_LNK] = S_IFLNK, [DT_FIFO] = S_IFIFO,
	    [DT_SOCK] = S_IFSOCK, [DT_CHR] = S_IFCHR, [DT_BLK] = S_IFBLK,
	};
	struct stat st;
	if (entry->d_type < ARRAY_SIZE(by_dtype) && by_dtype[entry->d_type])
		return by_dtype[entry->d_type];
	if (fstatat(fd, entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return 0;
	return st.st_mode & S_IFMT;
}

static int walk_dir(struct walk *walk, int fd, size_t path_len, int depth);

static int walk_entry(struct walk *walk, int fd, const struct dirent *entry, size_t path_len,
		      int depth)
{
	mode_t type = entry_type(fd, entry);
	size_t name_len = strlen(entry->d_name);
	if (path_len + 1 + name_len >= sizeof(walk->path))
		return errno = ENAMETOOLONG, -1;
	walk->path[path_len] = '/';
	memcpy(walk->path + path_len + 1, entry->d_name, name_len + 1);
	int rc = walk->fn(walk->path, type, fd, entry->d_name, walk->payload);
	if (rc == REPOFS_WALK_SKIP)
		return 0;
	if (rc != 0 || type != S_IFDIR)
		return rc;
	int child = openat(fd, entry->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (child < 0)
		return errno == ENOENT ? 0 : -1;
	return walk_dir(walk, child, path_len + 1 + name_len, depth + 1);
}

/* Takes ownership of fd. */
static int walk_dir(struct walk *walk, int fd, size_t path_len, int depth)
{
	if (depth > MAX_DEPTH) {
		close(fd);
		return errno = ELOOP, -1;
	}
	DIR *dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return -1;
	}
	struct dirent *entry;
	int rc = 0;
	while (rc == 0 && (entry = readdir(dir))) {
		if (strcmp(entry->d_name, ".") != 0 && strcmp(entry->d_name, "..") != 0)
			rc = walk_entry(walk, dirfd(dir), entry, path_len, depth);
	}
	closedir(dir);
	return rc;
}

int repofs_walk(int dirfd, const char *path, repofs_walk_fn fn, void *payload)
{
	struct walk *walk = xcalloc(1, sizeof(*walk));
	walk->fn = fn;
	walk->payload = payload;
	int rc;
	int fd = repofs_open_dir(dirfd, path, O_RDONLY);
	if (fd < 0) {
		rc = errno == ENOENT ? 0 : -1;
	} else if (snprintf(walk->path, sizeof(walk->path), "%s", path) >=
		   (int)sizeof(walk->path)) {
		close(fd);
		rc = (errno = ENAMETOOLONG, -1);
	} else {
		rc = walk_dir(walk, fd, strlen(walk->path), 0);
	}
	int saved = errno;
	free(walk);
	errno = saved;
	return rc;
}

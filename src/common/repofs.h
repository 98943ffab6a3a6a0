/* SPDX-License-Identifier: ISC */
/* Reads and writes inside a repository that never follow a symlink. Everything is relative to
 * an fd on the repository: after a write, its content is hostile, and a planted link must not
 * turn a check into a read elsewhere or a repair into a write elsewhere. */
#ifndef GITCAGE_REPOFS_H
#define GITCAGE_REPOFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

/* What identifies a version of a file or directory: a change of content or of the entries
 * of a directory changes at least one of these (ctime cannot be set by its owner). */
struct repofs_stamp {
	uint32_t exists;
	uint32_t mode; /* type and permissions, as st_mode */
	uint64_t dev, ino, size;
	int64_t mtime_sec, mtime_nsec, ctime_sec, ctime_nsec;
};

/* openat2 of path beneath dirfd with flags | O_CLOEXEC | O_NOFOLLOW, refusing a symlink in any
 * component, a /proc magic link and the escape from dirfd, and whatever resolve adds
 * (RESOLVE_NO_XDEV). The one place gitcage opens beneath a root. Returns the fd or -1. */
int repofs_open_beneath(int dirfd, const char *path, int flags, unsigned long long resolve);

/* Open a directory beneath dirfd (O_DIRECTORY | O_CLOEXEC plus extra_flags), refusing any
 * symlink on the way and the escape from dirfd. Returns the fd or -1 with errno. */
int repofs_open_dir(int dirfd, const char *path, int extra_flags);

/* Open a file beneath dirfd for reading (O_RDONLY | O_NONBLOCK: a FIFO must not block),
 * refusing any symlink on the way. The caller checks its type. Returns the fd or -1. */
int repofs_open_file(int dirfd, const char *path);

/* The stamp of what st describes. */
void repofs_fill_stamp(const struct stat *st, struct repofs_stamp *out);

/* Stamp of path beneath dirfd without following any link (a link gets its own stamp, with
 * S_IFLNK in mode). A missing entry gives exists = 0 and returns 0; -1 on other errors. */
int repofs_stamp(int dirfd, const char *path, struct repofs_stamp *out);

/* Whether two stamps describe the same version (ctime, mtime, size and inode alike). */
bool repofs_stamp_equal(const struct repofs_stamp *a, const struct repofs_stamp *b);

/* Whether a stamp's ctime is at or after a time: written since then. */
bool repofs_changed_since(const struct repofs_stamp *stamp, int64_t sec, int64_t nsec);

/* Read a regular file beneath dirfd, at most max bytes, into a new NUL-terminated buffer.
 * Returns 0, or -1 with errno: ELOOP for a link anywhere, EINVAL for a non-regular file,
 * EFBIG when larger than max, ENOENT when absent. */
int repofs_read(int dirfd, const char *path, size_t max, char **data, size_t *len);

/* Write data as path beneath dirfd: a new temporary file, then renameat over path, so that
 * the old entry (a file, a link: never followed) is replaced, not written through. An old
 * directory at path is removed first. The parent must exist and be a real directory. */
int repofs_replace(int dirfd, const char *path, const void *data, size_t len, mode_t mode);

/* Remove path beneath dirfd, recursively when it is a directory, however deep; links are
 * removed, never followed. A missing entry is not an error. Returns 0 or -1 with errno. The
 * deep parts of a deep tree are moved up beside it meanwhile (into the directory that holds
 * path), under names that repofs_is_leftover recognizes, should the removal be cut short. */
int repofs_remove(int dirfd, const char *path);
bool repofs_is_leftover(const char *name);

/* Create the missing parent directories of path beneath dirfd (mode 0755). A component that
 * exists and is not a directory (a file, a link) is an error (ENOTDIR). */
int repofs_make_parents(int dirfd, const char *path);

/* Called for each entry found by repofs_walk: its path relative to the walk's dirfd, its type
 * (S_IFREG, S_IFDIR, S_IFLNK...), and the fd of the directory that holds it. Return non-zero
 * to stop the walk with that value. Directories are reported, then descended, unless the
 * callback returns REPOFS_WALK_SKIP for one. */
#define REPOFS_WALK_SKIP (-2)
typedef int (*repofs_walk_fn)(const char *path, mode_t type, int parent_fd, const char *name,
			      void *payload);

/* Walk the tree at path beneath dirfd, depth first, never entering a link. Entries of each
 * directory come in readdir order. A missing root is an empty tree. Returns 0, the
 * callback's stop value, or -1 with errno (ELOOP when nested too deep). */
int repofs_walk(int dirfd, const char *path, repofs_walk_fn fn, void *payload);

#endif

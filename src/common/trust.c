/* SPDX-License-Identifier: ISC */
/* The walk of trust_open: from /, one component at a time, each opened relative to the one
 * above it with O_NOFOLLOW and checked with fstat on the open fd. Nothing is looked up twice
 * by name, so no rename between a check and an open can slip another file in. */
#include "common/trust.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool owner_trusted(const struct stat *st, const struct trust_rule *rule)
{
	return st->st_uid == 0 || (rule->also != 0 && st->st_uid == rule->also);
}

/* A sticky directory of a trusted owner (/tmp, or the caller's own /tmp in a sandbox): others
 * may add entries, but only that owner and an entry's own can rename or remove ours. */
static bool sticky_exception(const struct stat *st, const struct trust_rule *rule)
{
	return rule->sticky_ok && S_ISDIR(st->st_mode) && (st->st_mode & S_ISVTX) &&
	       owner_trusted(st, rule);
}

/* shown: "it", or "the directory /x above it". Returns 0, or -1 with err set. */
static int check_entry(const struct stat *st, const struct trust_rule *rule, bool above,
		       const char *shown, struct error *err)
{
	unsigned mode = st->st_mode & 07777;
	char owners[48] = "root";
	if (rule->also)
		snprintf(owners, sizeof(owners), "root or uid %u", (unsigned)rule->also);
	errno = EPERM; /* for a refusal below; a caller tells it from ENOENT */
	if (!owner_trusted(st, rule))
		return error_set(err, "%s belongs to uid %u, not %s", shown, (unsigned)st->st_uid,
				 owners);
	if (above && sticky_exception(st, rule))
		return 0;
	if (mode & S_IWOTH)
		return error_set(err, "others can write %s (mode %04o)", shown, mode);
	if (mode & S_IWGRP)
		return error_set(err, "group %u can write %s (mode %04o)", (unsigned)st->st_gid,
				 shown, mode);
	return 0;
}

/* Why openat(dirfd, name) failed, in words; errno is kept for the caller. */
static int open_failure(int dirfd, const char *name, const char *prefix, bool last,
			struct error *err)
{
	int saved = errno;
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
		if (last)
			error_set(err, "it is a symbolic link");
		else
			error_set(err, "a symbolic link is on its path: %s", prefix);
		saved = ELOOP;
	} else if (last) {
		error_set(err, "%s", strerror(saved));
	} else {
		error_set(err, "%s: %s", prefix, strerror(saved));
	}
	errno = saved;
	return -1;
}

/* Cut path (a copy) into its components, dropping empty ones and ".". Returns the count, or
 * -1 when there are too many. */
static int split(char *path, char **parts, int max)
{
	int count = 0;
	char *save = NULL;
	for (char *part = strtok_r(path, "/", &save); part; part = strtok_r(NULL, "/", &save)) {
		if (strcmp(part, ".") == 0)
			continue;
		if (count == max)
			return -1;
		parts[count++] = part;
	}
	return count;
}

/* What the final entry is, once open: a symbolic link opened with O_PATH | O_NOFOLLOW is the
 * link itself. */
static int check_final(int fd, const struct trust_rule *rule, struct error *err)
{
	struct stat st;
	if (fstat(fd, &st) != 0)
		return error_set(err, "%s", strerror(errno));
	if (S_ISLNK(st.st_mode)) {
		errno = ELOOP;
		return error_set(err, "it is a symbolic link");
	}
	return check_entry(&st, rule, false, "it", err);
}

static int check_directory(int fd, const struct trust_rule *rule, const char *prefix,
			   struct error *err)
{
	struct stat st;
	char shown[PATH_MAX + 48];
	if (fstat(fd, &st) != 0)
		return error_set(err, "%s: %s", prefix, strerror(errno));
	snprintf(shown, sizeof(shown), "the directory %s above it", prefix);
	return check_entry(&st, rule, true, shown, err);
}

/* The directories above parts[index], joined: for messages. */
static void join(char *const *parts, int count, char *out, size_t size)
{
	size_t len = 0;
	out[0] = '\0';
	for (int i = 0; i < count; i++)
		len += (size_t)snprintf(out + len, len < size ? size - len : 0, "/%s", parts[i]);
	if (count == 0)
		snprintf(out, size, "/");
}

/* One step down from dirfd (closed here) to parts[index]. Returns the new fd, or -1 with err
 * and errno. */
static int step(int dirfd, char *const *parts, int index, int count, const struct trust_rule *rule,
		int flags, struct error *err)
{
	char prefix[PATH_MAX];
	bool last = index == count - 1;
	int fd = -1;
	join(parts, index + 1, prefix, sizeof(prefix));
	if (strcmp(parts[index], "..") == 0) {
		errno = EINVAL;
		error_set(err, "it has a '..' component");
	} else {
		int how = last ? flags | O_NOFOLLOW : O_PATH | O_DIRECTORY | O_NOFOLLOW;
		fd = openat(dirfd, parts[index], how | O_CLOEXEC);
		if (fd < 0)
			open_failure(dirfd, parts[index], prefix, last, err);
	}
	close(dirfd);
	int rc = fd < 0 ? -1
		 : last ? check_final(fd, rule, err)
			: check_directory(fd, rule, prefix, err);
	if (rc != 0 && fd >= 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		fd = -1;
	}
	return fd;
}

int trust_open(const char *path, const struct trust_rule *rule, int flags, struct error *err)
{
	char copy[PATH_MAX];
	char *parts[PATH_MAX / 2];
	if (path[0] != '/' || strlen(path) >= sizeof(copy)) {
		errno = EINVAL;
		return error_set(err, "its path must be absolute and shorter than %d bytes",
				 PATH_MAX);
	}
	snprintf(copy, sizeof(copy), "%s", path);
	int count = split(copy, parts, (int)ARRAY_SIZE(parts));
	if (count <= 0) {
		errno = EISDIR;
		return error_set(err, "it is the root directory");
	}
	int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return error_set(err, "/: %s", strerror(errno));
	if (check_directory(fd, rule, "/", err) != 0) {
		close(fd);
		return -1;
	}
	for (int i = 0; i < count && fd >= 0; i++)
		fd = step(fd, parts, i, count, rule, flags, err);
	return fd;
}

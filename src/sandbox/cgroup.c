/* SPDX-License-Identifier: ISC */
/* cgroup v2 leaves under a delegated directory. Everything goes through fds opened beneath
 * that directory, with O_NOFOLLOW: the directory is the service account's, and so is
 * everything in it. */
#include "sandbox/cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#define LEAF_PREFIX "session-"

/* The first line of dirfd/name, without its newline; "" for an empty file. */
static int read_line(int dirfd, const char *name, char *buf, size_t size)
{
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, size - 1);
	int saved = errno;
	close(fd);
	if (n < 0) {
		errno = saved;
		return -1;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* cgroupfs takes one value per write(2); no O_CREAT: the kernel makes the files. O_TRUNC is
 * what a shell's "echo 0 > memory.swap.max" does, and cgroupfs ignores it. */
static int write_value(int dirfd, const char *name, const char *value)
{
	int fd = openat(dirfd, name, O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = write_all(fd, value, strlen(value));
	int saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

/* Is word one of the blank-separated words of list? */
static bool has_word(const char *list, const char *word)
{
	size_t len = strlen(word);
	for (const char *p = list; (p = strstr(p, word)); p += len) {
		bool starts = p == list || p[-1] == ' ';
		bool ends = p[len] == '\0' || p[len] == ' ';
		if (starts && ends)
			return true;
	}
	return false;
}

static int check_available(int dirfd, const char *dir, struct error *err)
{
	char available[512];
	if (read_line(dirfd, "cgroup.controllers", available, sizeof(available)) != 0)
		return error_set(err, "%s/cgroup.controllers: %s", dir, strerror(errno));
	if (!has_word(available, "memory") || !has_word(available, "pids"))
		return error_set(err,
				 "%s: the memory and pids controllers are not delegated here "
				 "(cgroup.controllers: %s)",
				 dir, *available ? available : "none");
	return 0;
}

int cgroup_enable_controllers(int dirfd, const char *dir, struct error *err)
{
	char enabled[512];
	if (check_available(dirfd, dir, err) != 0)
		return -1;
	if (read_line(dirfd, "cgroup.subtree_control", enabled, sizeof(enabled)) != 0)
		return error_set(err, "%s/cgroup.subtree_control: %s", dir, strerror(errno));
	if (has_word(enabled, "memory") && has_word(enabled, "pids"))
		return 0;
	/* EBUSY here means processes live in dir itself: cgroup v2 gives controllers only to
	 * the children of a cgroup without processes of its own. */
	if (write_value(dirfd, "cgroup.subtree_control", "+memory +pids") != 0)
		return error_set(err, "%s: cannot enable memory and pids for its children: %s%s",
				 dir, strerror(errno),
				 errno == EBUSY ? " (processes live in it: move them to a leaf)"
						: "");
	return 0;
}

int cgroup_set_limits(int leaf_fd, const struct limits *limits, struct error *err)
{
	char value[32];
	snprintf(value, sizeof(value), "%llu", limits->memory);
	if (write_value(leaf_fd, "memory.max", value) != 0)
		return error_set(err, "cannot set memory.max: %s", strerror(errno));
	/* Absent without swap accounting; there, nothing can be swapped out past the limit. */
	if (write_value(leaf_fd, "memory.swap.max", "0") != 0 && errno != ENOENT)
		return error_set(err, "cannot set memory.swap.max: %s", strerror(errno));
	snprintf(value, sizeof(value), "%llu", limits->processes);
	if (write_value(leaf_fd, "pids.max", value) != 0)
		return error_set(err, "cannot set pids.max: %s", strerror(errno));
	return 0;
}

int cgroup_sweep(int dirfd)
{
	int removed = 0, fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
	if (!dir) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	for (struct dirent *entry; (entry = readdir(dir));) {
		if (entry->d_type != DT_DIR ||
		    strncmp(entry->d_name, LEAF_PREFIX, strlen(LEAF_PREFIX)) != 0)
			continue;
		if (unlinkat(dirfd, entry->d_name, AT_REMOVEDIR) == 0)
			removed++;
	}
	closedir(dir);
	return removed;
}

/* A name no other session uses: the pid, and the clock for a pid used again. */
static int make_leaf(int parent_fd, struct cgroup_leaf *leaf, struct error *err)
{
	snprintf(leaf->name, sizeof(leaf->name), LEAF_PREFIX "%d-%lld", (int)getpid(), clock_ns());
	if (mkdirat(parent_fd, leaf->name, 0755) != 0)
		return error_set(err, "cannot create the cgroup %s: %s", leaf->name,
				 strerror(errno));
	leaf->fd = openat(parent_fd, leaf->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (leaf->fd < 0) {
		error_set(err, "cannot open the cgroup %s: %s", leaf->name, strerror(errno));
		unlinkat(parent_fd, leaf->name, AT_REMOVEDIR);
		return -1;
	}
	return 0;
}

static int open_delegated(const char *dir, struct error *err)
{
	struct statfs fs;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return error_set(err, "[limits] cgroup %s: %s", dir, strerror(errno));
	if (fstatfs(fd, &fs) != 0 || fs.f_type != CGROUP2_SUPER_MAGIC) {
		close(fd);
		return error_set(err, "[limits] cgroup %s is not a cgroup v2 directory", dir);
	}
	return fd;
}

int cgroup_check(const char *dir, struct error *err)
{
	int fd = open_delegated(dir, err);
	if (fd < 0)
		return -1;
	struct error why;
	int rc = check_available(fd, dir, &why);
	close(fd);
	return rc == 0 ? 0 : error_set(err, "[limits] cgroup %s", why.message);
}

int cgroup_leaf_create(const char *dir, const struct limits *limits, struct cgroup_leaf *leaf,
		       struct error *err)
{
	struct error why;
	*leaf = (struct cgroup_leaf){.fd = -1, .parent_fd = -1};
	leaf->parent_fd = open_delegated(dir, err);
	if (leaf->parent_fd < 0)
		return -1;
	if (cgroup_enable_controllers(leaf->parent_fd, dir, &why) != 0) {
		error_set(err, "[limits] cgroup %s", why.message);
		goto fail;
	}
	cgroup_sweep(leaf->parent_fd);
	if (make_leaf(leaf->parent_fd, leaf, &why) != 0 ||
	    cgroup_set_limits(leaf->fd, limits, &why) != 0) {
		error_set(err, "[limits] cgroup %s: %s", dir, why.message);
		goto fail;
	}
	return 0;
fail:
	cgroup_leaf_remove(leaf);
	return -1;
}

unsigned long long cgroup_leaf_oom_kills(const struct cgroup_leaf *leaf)
{
	char buf[512];
	unsigned long long count = 0;
	int fd = leaf->fd >= 0 ? openat(leaf->fd, "memory.events", O_RDONLY | O_CLOEXEC) : -1;
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	const char *line = strstr(buf, "oom_kill ");
	if (line && (line == buf || line[-1] == '\n'))
		sscanf(line, "oom_kill %llu", &count);
	return count;
}

void cgroup_leaf_remove(struct cgroup_leaf *leaf)
{
	if (leaf->fd >= 0)
		close(leaf->fd);
	/* The last process of the sandbox may still be leaving the cgroup as its parent reaps
	 * it: a few tries, then the next session's sweep takes it. */
	for (int i = 0; leaf->parent_fd >= 0 && leaf->name[0] && i < 20; i++) {
		if (unlinkat(leaf->parent_fd, leaf->name, AT_REMOVEDIR) == 0 || errno != EBUSY)
			break;
		struct timespec pause = {0, 1000000L};
		nanosleep(&pause, NULL);
	}
	if (leaf->parent_fd >= 0)
		close(leaf->parent_fd);
	*leaf = (struct cgroup_leaf){.fd = -1, .parent_fd = -1};
}

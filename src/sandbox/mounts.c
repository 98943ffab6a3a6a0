/* SPDX-License-Identifier: ISC */
/* The sandbox's file system. Every tree is a detached copy (open_tree, mount_setattr,
 * move_mount) taken before the new root covers anything, so the host's mount table is never
 * read; the repository and the session's directories are re-opened here and must be the very
 * inodes the parent checked, so a path swapped in between cannot redirect a mount. */
#include "sandbox/mounts.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/repofs.h"
#include "common/util.h"
#include "sandbox/hygiene.h"

#define READONLY_ATTRS (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV)

/* The system, read-only. /bin, /lib... are recreated as symlinks where the host has merged
 * /usr. /etc is not among them: only the allowed names of it are shown. */
static const char *const system_dirs[] = {"/usr",   "/bin",   "/sbin",	"/lib",
					  "/lib32", "/lib64", "/libx32"};
static const char *const device_nodes[] = {"null", "zero", "full", "random", "urandom", "tty"};

const char *const sandbox_etc_default[] = {
    "passwd",	    "group",	 "nsswitch.conf", "ld.so.cache", "ld.so.conf",
    "ld.so.conf.d", "localtime", "gitconfig",	  NULL,
};

/* A detached, recursive copy of a tree, with attrs (MOUNT_ATTR_*) set on every mount in it. */
static int copy_tree(int dirfd, const char *path, unsigned long long attrs)
{
	unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE;
	int fd = open_tree(dirfd, path, flags | (*path ? 0 : AT_EMPTY_PATH));
	if (fd < 0)
		die_errno("sandbox: cannot copy the mount of %s", *path ? path : "the repository");
	struct mount_attr attr = {.attr_set = attrs};
	if (mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) != 0)
		die_errno("sandbox: cannot restrict the mount of %s",
			  *path ? path : "the repository");
	return fd;
}

/* Re-open path in this mount namespace and make sure it is the very directory the parent
 * checked: a component swapped for a symlink in between would show another inode. */
static int reopen_checked(const char *path, int checked_fd)
{
	struct stat checked, here;
	int fd = open(path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		die_errno("sandbox: cannot open %s", path);
	if (fstat(checked_fd, &checked) != 0 || fstat(fd, &here) != 0)
		die_errno("sandbox: cannot stat %s", path);
	if (checked.st_dev != here.st_dev || checked.st_ino != here.st_ino)
		die("sandbox: %s changed while it was being opened; refusing", path);
	return fd;
}

static void add_tree(struct mounts_plan *plan, int fd, const char *target, int is_file)
{
	if (plan->count >= MOUNTS_MAX_TREES)
		die("sandbox: too many mounts");
	plan->trees[plan->count++] = (struct mounts_tree){fd, target, is_file};
}

static void set_layer(int fs, const char *key, int fd)
{
	char path[64];
	/* The fd, not the path: mountinfo then shows "/proc/self/fd/N", not where scratch is. */
	xsnprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, key, path, 0) != 0)
		die_errno("sandbox: cannot set the overlay's %s", key);
}

/* The writable view: an overlay whose lower layer is the repository. userxattr is what lets
 * an unprivileged user namespace mount it; it also rules out redirect_dir and metacopy, so
 * the upper layer never holds a redirect or a metadata-only copy. */
static int make_overlay(int repo, const struct sandbox_overlay *overlay)
{
	char lower[128];
	int upper = reopen_checked(overlay->upper_path, overlay->upper_fd);
	int work = overlay->work_path ? reopen_checked(overlay->work_path, overlay->work_fd) : -1;
	int fs = (int)syscall(SYS_fsopen, "overlay", FSOPEN_CLOEXEC);
	if (fs < 0)
		die_errno("sandbox: cannot create an overlay (is overlayfs available?)");
	if (work >= 0) {
		set_layer(fs, "lowerdir", repo);
		set_layer(fs, "upperdir", upper);
		set_layer(fs, "workdir", work);
	} else {
		/* Read-only: the session's layer as the top lower layer, whiteouts and all. */
		xsnprintf(lower, sizeof(lower), "/proc/self/fd/%d:/proc/self/fd/%d", upper, repo);
		if (syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "lowerdir", lower, 0) != 0)
			die_errno("sandbox: cannot set the overlay's lowerdir");
	}
	if (syscall(SYS_fsconfig, fs, FSCONFIG_SET_FLAG, "userxattr", NULL, 0) != 0 ||
	    syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) != 0)
		die_errno("sandbox: cannot mount the overlay of the repository");
	int mnt = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC,
			       MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
				   (work >= 0 ? 0 : MOUNT_ATTR_RDONLY));
	if (mnt < 0)
		die_errno("sandbox: cannot mount the overlay of the repository");
	close(fs);
	close(upper);
	if (work >= 0)
		close(work);
	return mnt;
}

static void plan_repository(const struct sandbox_spec *spec, struct mounts_plan *plan)
{
	int repo = reopen_checked(spec->repo_path, spec->repo_fd);
	int tree =
	    spec->overlay ? make_overlay(repo, spec->overlay) : copy_tree(repo, "", READONLY_ATTRS);
	add_tree(plan, tree, spec->repo_path, 0);
	close(repo);
}

static void add_link(struct mounts_plan *plan, const char *path, const char *target)
{
	if (plan->link_count >= ARRAY_SIZE(plan->links))
		die("sandbox: too many links");
	xsnprintf(plan->links[plan->link_count][0], sizeof(plan->links[0][0]), "%s", path);
	xsnprintf(plan->links[plan->link_count][1], sizeof(plan->links[0][1]), "%s", target);
	plan->link_count++;
}

/* One host path shown as it is: a directory or file copied read-only, a link recreated (its
 * target must then be visible on its own, /usr/share/zoneinfo for /etc/localtime). */
static void plan_path(struct mounts_plan *plan, const char *path)
{
	struct stat st;
	char target[256];
	if (lstat(path, &st) != 0)
		return; /* absent here */
	if (S_ISLNK(st.st_mode)) {
		ssize_t len = readlink(path, target, sizeof(target) - 1);
		if (len < 0 || (size_t)len >= sizeof(target) - 1)
			die("sandbox: cannot read the link %s", path);
		target[len] = '\0';
		add_link(plan, path, target);
	} else if (S_ISDIR(st.st_mode) || S_ISREG(st.st_mode)) {
		add_tree(plan, copy_tree(AT_FDCWD, path, READONLY_ATTRS), path,
			 S_ISREG(st.st_mode));
	}
}

void mounts_plan(const struct sandbox_spec *spec, struct mounts_plan *plan)
{
	static char etc_paths[MOUNTS_MAX_TREES][PATH_MAX];
	const char *const *etc = spec->etc ? spec->etc : sandbox_etc_default;
	memset(plan, 0, sizeof(*plan));
	for (size_t i = 0; i < ARRAY_SIZE(system_dirs); i++)
		plan_path(plan, system_dirs[i]);
	for (size_t i = 0; etc[i] && i < ARRAY_SIZE(etc_paths); i++) {
		if (strchr(etc[i], '/') || etc[i][0] == '.')
			die("sandbox: /etc/%s is not a name under /etc", etc[i]);
		xsnprintf(etc_paths[i], sizeof(etc_paths[i]), "/etc/%s", etc[i]);
		plan_path(plan, etc_paths[i]);
	}
	for (size_t i = 0; spec->extra_readonly && spec->extra_readonly[i]; i++)
		add_tree(plan, copy_tree(AT_FDCWD, spec->extra_readonly[i], READONLY_ATTRS),
			 spec->extra_readonly[i], 0);
	if (spec->writable_dir)
		add_tree(
		    plan,
		    copy_tree(AT_FDCWD, spec->writable_dir, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV),
		    spec->writable_dir, 0);
	if (spec->repo_path)
		plan_repository(spec, plan);
}

static void mount_tmpfs(const char *target, const char *options)
{
	if (mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, options) != 0)
		die_errno("sandbox: cannot mount a tmpfs on %s", target);
}

/* mkdir -p inside the new root. The path is ours (canonical, from the caller's config or
 * command line), and every directory it walks through was created by us on tmpfs. */
static void make_directories(const char *path)
{
	char buf[PATH_MAX];
	xsnprintf(buf, sizeof(buf), "%s", path);
	for (char *slash = strchr(buf + 1, '/');; slash = strchr(slash + 1, '/')) {
		if (slash)
			*slash = '\0';
		if (mkdir(buf, 0755) != 0 && errno != EEXIST)
			die_errno("sandbox: cannot create %s", buf);
		if (!slash)
			return;
		*slash = '/';
	}
}

/* An empty file to attach a single-file mount onto (its parents created). */
static void make_placeholder(char *path)
{
	char *slash = strrchr(path, '/');
	*slash = '\0';
	make_directories(path);
	*slash = '/';
	int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		die_errno("sandbox: cannot create %s", path);
	close(fd);
}

static void attach_tree(const struct mounts_tree *tree, const char *newroot)
{
	char target[PATH_MAX];
	xsnprintf(target, sizeof(target), "%s%s", newroot, tree->target);
	if (tree->is_file)
		make_placeholder(target);
	else
		make_directories(target);
	if (move_mount(tree->fd, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) != 0)
		die_errno("sandbox: cannot mount %s", tree->target);
	close(tree->fd);
}

static void make_links(const struct mounts_plan *plan, const char *newroot)
{
	for (size_t i = 0; i < plan->link_count; i++) {
		char link[PATH_MAX];
		xsnprintf(link, sizeof(link), "%s%s", newroot, plan->links[i][0]);
		char *slash = strrchr(link, '/');
		*slash = '\0';
		make_directories(link);
		*slash = '/';
		if (symlink(plan->links[i][1], link) != 0)
			die_errno("sandbox: cannot create %s", plan->links[i][0]);
	}
}

/* A fresh /proc for the new pid namespace. The sysctls and the sysrq trigger stay read-only:
 * the namespaces already confine most of them, this closes what they do not. */
static void mount_proc(const char *newroot)
{
	static const char *const readonly[] = {"/proc/sys", "/proc/sysrq-trigger"};
	char path[PATH_MAX];
	xsnprintf(path, sizeof(path), "%s/proc", newroot);
	make_directories(path);
	if (mount("proc", path, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0)
		die_errno("sandbox: cannot mount /proc");
	for (size_t i = 0; i < ARRAY_SIZE(readonly); i++) {
		xsnprintf(path, sizeof(path), "%s%s", newroot, readonly[i]);
		if (access(path, F_OK) != 0)
			continue; /* a kernel without magic sysrq has no trigger */
		int fd = copy_tree(AT_FDCWD, path, READONLY_ATTRS | MOUNT_ATTR_NOEXEC);
		if (move_mount(fd, "", AT_FDCWD, path, MOVE_MOUNT_F_EMPTY_PATH) != 0)
			die_errno("sandbox: cannot make %s read-only", readonly[i]);
		close(fd);
	}
}

/* A minimal /dev: the harmless nodes, bound from the host (an unprivileged user namespace
 * cannot create device nodes), and the usual links into /proc. */
static void populate_dev(const char *newroot)
{
	static const char *const links[][2] = {{"/proc/self/fd", "fd"},
					       {"/proc/self/fd/0", "stdin"},
					       {"/proc/self/fd/1", "stdout"},
					       {"/proc/self/fd/2", "stderr"}};
	char path[PATH_MAX];
	for (size_t i = 0; i < ARRAY_SIZE(device_nodes); i++) {
		char host[64];
		xsnprintf(host, sizeof(host), "/dev/%s", device_nodes[i]);
		xsnprintf(path, sizeof(path), "%s/dev/%s", newroot, device_nodes[i]);
		make_placeholder(path);
		/* One plain bind: a device node has no tree below it to copy or restrict. */
		if (mount(host, path, NULL, MS_BIND, NULL) != 0)
			die_errno("sandbox: cannot bind %s", host);
	}
	for (size_t i = 0; i < ARRAY_SIZE(links); i++) {
		xsnprintf(path, sizeof(path), "%s/dev/%s", newroot, links[i][1]);
		if (symlink(links[i][0], path) != 0)
			die_errno("sandbox: cannot create %s", path);
	}
}

static void mount_private_tmpfs(const char *newroot, const char *dir, const char *mode,
				unsigned long long size)
{
	char path[PATH_MAX], options[96];
	xsnprintf(path, sizeof(path), "%s%s", newroot, dir);
	xsnprintf(options, sizeof(options), "mode=%s,size=%llu", mode, size);
	make_directories(path);
	mount_tmpfs(path, options);
}

void mounts_build_root(const struct sandbox_spec *spec, struct mounts_plan *plan,
		       const char *newroot)
{
	char etc[PATH_MAX];
	mount_tmpfs(newroot, "mode=0755,size=1m,nr_inodes=4096");
	xsnprintf(etc, sizeof(etc), "%s/etc", newroot);
	make_directories(etc);
	make_links(plan, newroot);
	mount_proc(newroot);
	populate_dev(newroot);
	mount_private_tmpfs(newroot, "/tmp", "1777", spec->limits->tmp);
	mount_private_tmpfs(newroot, SANDBOX_HOME, "0700", spec->limits->tmp);
	for (size_t i = 0; i < plan->count; i++)
		attach_tree(&plan->trees[i], newroot);
}

/* Bind dirfd/name over itself with attrs, opened without following symlinks or leaving the
 * mount: the repository's content is hostile. Returns the fd of the new mount's root (the
 * caller closes it), or -1 when name does not exist. */
static int bind_over(int dirfd, const char *repo_path, const char *name, unsigned long long attrs)
{
	struct stat st;
	int entry = repofs_open_beneath(dirfd, name, O_PATH, RESOLVE_NO_XDEV);
	if (entry < 0 && errno == ENOENT)
		return -1; /* nothing to protect; a new one lands in the upper layer, unpublished */
	if (entry < 0 || fstat(entry, &st) != 0 || S_ISLNK(st.st_mode))
		die_errno("sandbox: unsafe repository entry %s/%s", repo_path, name);
	int tree = copy_tree(entry, "", attrs | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
	if (move_mount(tree, "", entry, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH))
		die_errno("sandbox: cannot protect %s/%s", repo_path, name);
	close(entry);
	return tree;
}

void mounts_protect_repository(const char *repo_path)
{
	static const char *const readonly[] = {"config", "hooks", "info", "objects/info"};
	int repo = open(repo_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (repo < 0)
		die_errno("sandbox: cannot open %s", repo_path);
	for (size_t i = 0; i < ARRAY_SIZE(readonly); i++) {
		int fd = bind_over(repo, repo_path, readonly[i], MOUNT_ATTR_RDONLY);
		if (fd >= 0)
			close(fd);
	}
	close(repo);
}

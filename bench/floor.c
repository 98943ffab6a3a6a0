/* SPDX-License-Identifier: ISC */
/*
 * floor REPO: the kernel's floor for a sandboxed fetch, for make bench. The same namespaces
 * and the same mounts as gitcage's sandbox, an exec of git upload-pack REPO, and nothing
 * else: no config, no checks, no capabilities dropped, no rlimits, no Landlock, no seccomp,
 * no waiting parent loop. gitcage's overhead above this is gitcage's own work.
 *
 * It links only libc, as a program this small would. Errors are fatal: a floor that set up
 * less than gitcage would not be a floor.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define NEWROOT "/tmp"
#define FLAGS                                                                                      \
	(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | \
	 CLONE_NEWCGROUP)
#define RO (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV)

/* What gitcage's sandbox shows (src/sandbox/mounts.c): keep the two lists alike. */
static const char *const system_dirs[] = {"/usr",   "/bin",   "/sbin",	"/lib",
					  "/lib32", "/lib64", "/libx32"};
static const char *const etc_names[] = {"passwd",      "group",	     "nsswitch.conf",
					"ld.so.cache", "ld.so.conf", "ld.so.conf.d",
					"localtime",   "gitconfig"};
static const char *const devices[] = {"null", "zero", "full", "random", "urandom", "tty"};

static void fail(const char *what)
{
	fprintf(stderr, "floor: %s: %s\n", what, strerror(errno));
	_exit(125);
}

static void put(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);
	if (fd < 0 || write(fd, text, strlen(text)) < 0)
		fail(path);
	close(fd);
}

static int copy(const char *path, unsigned long long attrs)
{
	int fd = (int)syscall(SYS_open_tree, AT_FDCWD, path,
			      OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
	struct mount_attr attr = {.attr_set = attrs};
	if (fd < 0 || syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr,
			      sizeof(attr)) != 0)
		fail(path);
	return fd;
}

static void attach(int fd, const char *target, int is_file)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), NEWROOT "%s", target);
	for (char *slash = strchr(path + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mkdir(path, 0755);
		*slash = '/';
	}
	if (is_file)
		close(open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
	else
		mkdir(path, 0755);
	if (syscall(SYS_move_mount, fd, "", AT_FDCWD, path, MOVE_MOUNT_F_EMPTY_PATH) != 0)
		fail(target);
	close(fd);
}

struct planned {
	int fd;
	char target[PATH_MAX];
	int is_file;
};

/* Every copy is taken before the new root covers NEWROOT, as in gitcage. */
static int plan(const char *repo, struct planned *out)
{
	int count = 0;
	struct stat st;
	for (size_t i = 0; i < sizeof(system_dirs) / sizeof(*system_dirs); i++)
		if (lstat(system_dirs[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			out[count] = (struct planned){copy(system_dirs[i], RO), "", 0};
			snprintf(out[count++].target, PATH_MAX, "%s", system_dirs[i]);
		}
	for (size_t i = 0; i < sizeof(etc_names) / sizeof(*etc_names); i++) {
		char path[PATH_MAX];
		snprintf(path, sizeof(path), "/etc/%s", etc_names[i]);
		if (lstat(path, &st) != 0 || S_ISLNK(st.st_mode))
			continue;
		out[count] = (struct planned){copy(path, RO), "", !S_ISDIR(st.st_mode)};
		snprintf(out[count++].target, PATH_MAX, "%s", path);
	}
	out[count] = (struct planned){copy(repo, RO | MOUNT_ATTR_RDONLY), "", 0};
	snprintf(out[count++].target, PATH_MAX, "%s", repo);
	return count;
}

/* A host path that is a symbolic link is recreated as one, as gitcage does (the merged-/usr
 * links, /etc/localtime). */
static void link_like(const char *path)
{
	char target[PATH_MAX], link[PATH_MAX];
	ssize_t len = readlink(path, target, sizeof(target) - 1);
	if (len < 0)
		return;
	target[len] = '\0';
	snprintf(link, sizeof(link), NEWROOT "%s", path);
	if (symlink(target, link) != 0)
		fail(link);
}

/* A fresh /proc, with /proc/sys and the sysrq trigger read-only. */
static void mount_proc(void)
{
	static const char *const readonly[] = {NEWROOT "/proc/sys", NEWROOT "/proc/sysrq-trigger"};
	mkdir(NEWROOT "/proc", 0755);
	if (mount("proc", NEWROOT "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0)
		fail("proc");
	for (size_t i = 0; i < sizeof(readonly) / sizeof(*readonly); i++) {
		if (access(readonly[i], F_OK) != 0)
			continue; /* no magic sysrq */
		int fd = copy(readonly[i], RO | MOUNT_ATTR_NOEXEC);
		if (syscall(SYS_move_mount, fd, "", AT_FDCWD, readonly[i],
			    MOVE_MOUNT_F_EMPTY_PATH) != 0)
			fail(readonly[i]);
		close(fd);
	}
}

/* The device nodes, bound from the host, and the links into /proc. */
static void populate_dev(void)
{
	static const char *const links[][2] = {{"/proc/self/fd", NEWROOT "/dev/fd"},
					       {"/proc/self/fd/0", NEWROOT "/dev/stdin"},
					       {"/proc/self/fd/1", NEWROOT "/dev/stdout"},
					       {"/proc/self/fd/2", NEWROOT "/dev/stderr"}};
	mkdir(NEWROOT "/dev", 0755);
	for (size_t i = 0; i < sizeof(devices) / sizeof(*devices); i++) {
		char host[64], inside[64];
		snprintf(host, sizeof(host), "/dev/%s", devices[i]);
		snprintf(inside, sizeof(inside), NEWROOT "/dev/%s", devices[i]);
		close(open(inside, O_CREAT | O_WRONLY | O_CLOEXEC, 0666));
		if (mount(host, inside, NULL, MS_BIND, NULL) != 0)
			fail(host);
	}
	for (size_t i = 0; i < sizeof(links) / sizeof(*links); i++)
		if (symlink(links[i][0], links[i][1]) != 0)
			fail(links[i][1]);
}

static void build(const char *repo)
{
	struct planned trees[32];
	int count = plan(repo, trees);
	if (mount("tmpfs", NEWROOT, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m") != 0)
		fail("tmpfs");
	mkdir(NEWROOT "/etc", 0755);
	for (size_t i = 0; i < sizeof(system_dirs) / sizeof(*system_dirs); i++)
		link_like(system_dirs[i]);
	for (size_t i = 0; i < sizeof(etc_names) / sizeof(*etc_names); i++) {
		char path[PATH_MAX];
		snprintf(path, sizeof(path), "/etc/%s", etc_names[i]);
		link_like(path);
	}
	mount_proc();
	populate_dev();
	mkdir(NEWROOT "/tmp", 0755);
	mkdir(NEWROOT "/home", 0755);
	if (mount("tmpfs", NEWROOT "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") != 0 ||
	    mount("tmpfs", NEWROOT "/home", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700") != 0)
		fail("tmp");
	for (int i = 0; i < count; i++)
		attach(trees[i].fd, trees[i].target, trees[i].is_file);
}

static void child(const char *repo, uid_t uid, gid_t gid)
{
	char map[64];
	put("/proc/self/setgroups", "deny");
	snprintf(map, sizeof(map), "%u %u 1\n", uid, uid);
	put("/proc/self/uid_map", map);
	snprintf(map, sizeof(map), "%u %u 1\n", gid, gid);
	put("/proc/self/gid_map", map);
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
		fail("private");
	build(repo);
	if (chdir(NEWROOT) != 0 || syscall(SYS_pivot_root, ".", ".") != 0 ||
	    umount2(".", MNT_DETACH) != 0 || chdir(repo) != 0)
		fail("pivot_root");
	struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY};
	if (syscall(SYS_mount_setattr, AT_FDCWD, "/", 0, &attr, sizeof(attr)) != 0)
		fail("read-only root");
	char *argv[] = {"git", "upload-pack", (char *)repo, NULL};
	execv("/usr/bin/git", argv);
	fail("exec git");
}

int main(int argc, char **argv)
{
	int status;
	if (argc != 2 || argv[1][0] != '/') {
		fprintf(stderr, "usage: floor /ABSOLUTE/REPO\n");
		return 2;
	}
	uid_t uid = getuid();
	gid_t gid = getgid();
	pid_t pid = (pid_t)syscall(SYS_clone, FLAGS | SIGCHLD, NULL, NULL, NULL, NULL);
	if (pid < 0)
		fail("clone");
	if (pid == 0)
		child(argv[1], uid, gid);
	if (waitpid(pid, &status, 0) != pid)
		fail("waitpid");
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* SPDX-License-Identifier: ISC */
/*
 * The sandbox. One clone() creates every namespace at once; the child builds a fresh root on
 * tmpfs, pivots into it, drops every privilege and execs the command as pid 1 of its own pid
 * namespace, so that everything it starts dies with it.
 *
 * Privilege order (each step depends on the ones before it):
 *   1. parent: fds closed, no_new_privs, config and checks (the verb did these)
 *   2. clone with all namespace flags; the child dies with the parent (PDEATHSIG)
 *   3. child: map only the caller's uid and gid, each to itself
 *   4. child: take detached copies of every source tree (repository, /usr, /etc...)
 *   5. child: mount the new root on tmpfs and attach the copies, read-only where required
 *   6. child: pivot_root into it and detach the host's root
 *   7. child: make the root and the repository's control files read-only
 *   8. child: new session, drop every capability, set rlimits
 *   9. child: seccomp filter, last, then exec
 */
#include "sandbox/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <sched.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sandbox/hygiene.h"
#include "sandbox/privs.h"
#include "sandbox/seccomp_load.h"
#include "common/util.h"

/* The host directory the new root is mounted over, in the child's private mount namespace.
 * Every source tree has been copied before it is covered, so its content does not matter. */
#define NEWROOT "/tmp"

#define SANDBOX_CLONE_FLAGS                                                                        \
	(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | \
	 CLONE_NEWCGROUP)

#define MAX_TREES 32

/* A detached copy of a host tree and where it goes in the new root. */
struct tree {
	int fd;
	const char *target;
};

/* The system, read-only. /bin, /lib... are created as symlinks where the host has merged /usr. */
static const char *const system_dirs[] = {"/usr", "/etc",   "/bin",   "/sbin",
					  "/lib", "/lib32", "/lib64", "/libx32"};
static const char *const device_nodes[] = {"null", "zero", "full", "random", "urandom", "tty"};

static int setup_status_fd = -1;

static void report_setup_failure(int status)
{
	unsigned char code = (unsigned char)status;
	if (setup_status_fd >= 0)
		(void)write_all(setup_status_fd, &code, 1);
}

static int read_sysctl(const char *path)
{
	char buf[32] = "";
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 ? atoi(buf) : -1;
}

/* One line that names why unprivileged user namespaces do not work here: the clone itself
 * fails when a sysctl forbids them; under Ubuntu's AppArmor restriction it succeeds, and the
 * first privileged step inside (writing the uid map, mounting) fails instead. */
static _Noreturn void die_without_userns(int errnum, const char *what)
{
	if (read_sysctl("/proc/sys/kernel/unprivileged_userns_clone") == 0)
		die("unprivileged user namespaces are disabled: set the sysctl "
		    "kernel.unprivileged_userns_clone=1");
	if (read_sysctl("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") == 1)
		die("unprivileged user namespaces are restricted by AppArmor: set the sysctl "
		    "kernel.apparmor_restrict_unprivileged_userns=0 or install gitcage's AppArmor "
		    "profile (packaging/apparmor)");
	if (read_sysctl("/proc/sys/user/max_user_namespaces") == 0)
		die("user namespaces are disabled: the sysctl user.max_user_namespaces is 0");
	errno = errnum;
	die_errno("%s", what);
}

static void write_file(const char *path, const char *content)
{
	char what[128];
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	xsnprintf(what, sizeof(what), "sandbox: cannot write %s", path);
	if (fd < 0 || write_all(fd, content, strlen(content)) != 0)
		die_without_userns(errno, what);
	close(fd);
}

/* Step 3. The kernel lets an unprivileged process map exactly its own ids; setgroups must be
 * denied first, or a process could drop a group that a file's ACL uses to deny it access. */
static void map_ids(uid_t uid, gid_t gid)
{
	char map[64];
	write_file("/proc/self/setgroups", "deny");
	xsnprintf(map, sizeof(map), "%u %u 1\n", uid, uid);
	write_file("/proc/self/uid_map", map);
	xsnprintf(map, sizeof(map), "%u %u 1\n", gid, gid);
	write_file("/proc/self/gid_map", map);
}

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

/* Re-open the repository in this mount namespace and make sure it is the very directory the
 * parent checked: a component swapped for a symlink in between would show another inode. */
static int reopen_repository(const struct sandbox_spec *spec)
{
	struct stat checked, here;
	int fd = open(spec->repo_path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		die_errno("sandbox: cannot open %s", spec->repo_path);
	if (fstat(spec->repo_fd, &checked) != 0 || fstat(fd, &here) != 0)
		die_errno("sandbox: cannot stat %s", spec->repo_path);
	if (checked.st_dev != here.st_dev || checked.st_ino != here.st_ino)
		die("sandbox: %s changed while it was being opened; refusing", spec->repo_path);
	return fd;
}

/* Step 4: copies of everything the new root shows, taken before NEWROOT is covered. */
static size_t copy_sources(const struct sandbox_spec *spec, struct tree *trees)
{
	const unsigned long long readonly =
	    MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
	size_t count = 0;
	for (size_t i = 0; i < ARRAY_SIZE(system_dirs); i++) {
		struct stat st;
		if (lstat(system_dirs[i], &st) != 0 || !S_ISDIR(st.st_mode))
			continue; /* absent, or a merged-/usr symlink recreated later */
		trees[count++] =
		    (struct tree){copy_tree(AT_FDCWD, system_dirs[i], readonly), system_dirs[i]};
	}
	for (size_t i = 0; spec->extra_readonly && spec->extra_readonly[i]; i++) {
		if (count >= MAX_TREES - 1)
			die("sandbox: too many read-only paths");
		trees[count++] =
		    (struct tree){copy_tree(AT_FDCWD, spec->extra_readonly[i], readonly),
				  spec->extra_readonly[i]};
	}
	if (spec->repo_path) {
		int repo = reopen_repository(spec);
		unsigned long long attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
		trees[count++] = (struct tree){
		    copy_tree(repo, "", attrs | (spec->writable ? 0 : MOUNT_ATTR_RDONLY)),
		    spec->repo_path};
		close(repo);
	}
	return count;
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

static void attach_tree(const struct tree *tree)
{
	char target[PATH_MAX];
	xsnprintf(target, sizeof(target), NEWROOT "%s", tree->target);
	make_directories(target);
	if (move_mount(tree->fd, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) != 0)
		die_errno("sandbox: cannot mount %s", tree->target);
	close(tree->fd);
}

/* Where the host has merged /usr, /bin and friends are symlinks; recreate them as they are. */
static void link_merged_usr(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(system_dirs); i++) {
		char target[PATH_MAX], link[PATH_MAX];
		ssize_t len = readlink(system_dirs[i], target, sizeof(target) - 1);
		if (len < 0)
			continue;
		target[len] = '\0';
		xsnprintf(link, sizeof(link), NEWROOT "%s", system_dirs[i]);
		if (symlink(target, link) != 0)
			die_errno("sandbox: cannot create %s", system_dirs[i]);
	}
}

/* A fresh /proc for the new pid namespace. The sysctls and the sysrq trigger stay read-only:
 * the namespaces already confine most of them, this closes what they do not. */
static void mount_proc(void)
{
	static const char *const readonly[] = {NEWROOT "/proc/sys", NEWROOT "/proc/sysrq-trigger"};
	make_directories(NEWROOT "/proc");
	if (mount("proc", NEWROOT "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0)
		die_errno("sandbox: cannot mount /proc");
	for (size_t i = 0; i < ARRAY_SIZE(readonly); i++) {
		if (access(readonly[i], F_OK) != 0)
			continue; /* a kernel without magic sysrq has no trigger */
		int fd = copy_tree(AT_FDCWD, readonly[i],
				   MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
				       MOUNT_ATTR_NOEXEC);
		if (move_mount(fd, "", AT_FDCWD, readonly[i], MOVE_MOUNT_F_EMPTY_PATH) != 0)
			die_errno("sandbox: cannot make %s read-only", readonly[i]);
		close(fd);
	}
}

/* A minimal /dev: the harmless nodes, bound from the host (an unprivileged user namespace
 * cannot create device nodes), and the usual links into /proc. */
static void populate_dev(void)
{
	static const char *const links[][2] = {{"/proc/self/fd", "fd"},
					       {"/proc/self/fd/0", "stdin"},
					       {"/proc/self/fd/1", "stdout"},
					       {"/proc/self/fd/2", "stderr"}};
	make_directories(NEWROOT "/dev");
	for (size_t i = 0; i < ARRAY_SIZE(device_nodes); i++) {
		char host[64], inside[64];
		xsnprintf(host, sizeof(host), "/dev/%s", device_nodes[i]);
		xsnprintf(inside, sizeof(inside), NEWROOT "/dev/%s", device_nodes[i]);
		int placeholder = open(inside, O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
		if (placeholder < 0)
			die_errno("sandbox: cannot create %s", inside);
		close(placeholder);
		/* One plain bind: a device node has no tree below it to copy or restrict. */
		if (mount(host, inside, NULL, MS_BIND, NULL) != 0)
			die_errno("sandbox: cannot bind %s", host);
	}
	for (size_t i = 0; i < ARRAY_SIZE(links); i++) {
		char path[64];
		xsnprintf(path, sizeof(path), NEWROOT "/dev/%s", links[i][1]);
		if (symlink(links[i][0], path) != 0)
			die_errno("sandbox: cannot create %s", path);
	}
}

/* Step 5. */
static void build_root(const struct sandbox_spec *spec, struct tree *trees, size_t count)
{
	char options[96];
	mount_tmpfs(NEWROOT, "mode=0755,size=1m,nr_inodes=4096");
	link_merged_usr();
	mount_proc();
	populate_dev();
	xsnprintf(options, sizeof(options), "mode=1777,size=%llu", spec->limits->tmp);
	make_directories(NEWROOT "/tmp");
	mount_tmpfs(NEWROOT "/tmp", options);
	xsnprintf(options, sizeof(options), "mode=0700,size=%llu", spec->limits->tmp);
	make_directories(NEWROOT SANDBOX_HOME);
	mount_tmpfs(NEWROOT SANDBOX_HOME, options);
	for (size_t i = 0; i < count; i++)
		attach_tree(&trees[i]);
}

/* Step 6: the host's root is detached, not just hidden, so nothing can walk back to it. */
static void enter_root(void)
{
	if (chdir(NEWROOT) != 0)
		die_errno("sandbox: cannot enter the new root");
	if (syscall(SYS_pivot_root, ".", ".") != 0)
		die_errno("sandbox: pivot_root failed");
	if (umount2(".", MNT_DETACH) != 0)
		die_errno("sandbox: cannot detach the host's root");
	if (chdir("/") != 0)
		die_errno("sandbox: cannot enter the new root");
	struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY};
	if (mount_setattr(AT_FDCWD, "/", 0, &attr, sizeof(attr)) != 0)
		die_errno("sandbox: cannot make the new root read-only");
}

/* Bind dirfd/name over itself with attrs, opened without following symlinks or leaving the
 * mount: the repository's content is hostile. Returns the fd of the new mount's root (the
 * caller closes it), or -1 when name does not exist. */
static int bind_over(int dirfd, const char *repo_path, const char *name, unsigned long long attrs)
{
	struct open_how how = {.flags = O_PATH | O_CLOEXEC | O_NOFOLLOW,
			       .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
					  RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV};
	struct stat st;
	int entry = (int)syscall(SYS_openat2, dirfd, name, &how, sizeof(how));
	if (entry < 0 && errno == ENOENT)
		return -1; /* nothing to protect; verification catches a newly created one */
	if (entry < 0 || fstat(entry, &st) != 0 || S_ISLNK(st.st_mode))
		die_errno("sandbox: unsafe repository entry %s/%s", repo_path, name);
	int tree = copy_tree(entry, "", attrs | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
	if (move_mount(tree, "", entry, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH))
		die_errno("sandbox: cannot protect %s/%s", repo_path, name);
	close(entry);
	return tree;
}

/* Step 7: the control entries of a writable repository stay read-only. objects/ itself is
 * bound over itself, writable, only to make it a mount point: a mount point cannot be renamed,
 * so git cannot move objects/ aside and write a new objects/info/alternates. */
static void protect_repository(const char *repo_path)
{
	static const char *const readonly[] = {"config", "hooks", "info"};
	int repo = open(repo_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (repo < 0)
		die_errno("sandbox: cannot open %s", repo_path);
	for (size_t i = 0; i < ARRAY_SIZE(readonly); i++) {
		int fd = bind_over(repo, repo_path, readonly[i], MOUNT_ATTR_RDONLY);
		if (fd >= 0)
			close(fd);
	}
	int objects = bind_over(repo, repo_path, "objects", 0);
	if (objects >= 0) {
		int info = bind_over(objects, repo_path, "info", MOUNT_ATTR_RDONLY);
		if (info >= 0)
			close(info);
		close(objects);
	}
	close(repo);
}

static void reset_signals(const sigset_t *mask)
{
	/* sshd or the caller may have ignored SIGPIPE; git expects the default. */
	signal(SIGPIPE, SIG_DFL);
	if (sigprocmask(SIG_SETMASK, mask, NULL) != 0)
		die_errno("sandbox: cannot restore the signal mask");
}

static _Noreturn void exec_command(const struct sandbox_spec *spec)
{
	extern char **environ;
	environ = (char **)spec->envp; /* execvp() searches the PATH of environ */
	execvp(spec->argv[0], spec->argv);
	int status = errno == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_EXEC;
	warn_line("cannot run %s: %s", spec->argv[0], strerror(errno));
	report_setup_failure(status);
	_exit(status);
}

static _Noreturn void child_main(const struct sandbox_spec *spec, uid_t uid, gid_t gid,
				 const sigset_t *mask)
{
	struct tree trees[MAX_TREES];
	/* If gitcage dies (the client went away, sshd killed it), pid 1 of the sandbox goes too,
	 * and with it every process inside. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
		die_errno("sandbox: cannot tie the sandbox to gitcage");
	map_ids(uid, gid);
	/* Nothing we mount may propagate back to the host. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
		die_without_userns(errno, "sandbox: cannot make the mounts private");
	if (sethostname("gitcage", 7) != 0)
		die_errno("sandbox: cannot set the host name");
	size_t count = copy_sources(spec, trees);
	build_root(spec, trees, count);
	enter_root();
	if (spec->repo_path && spec->writable)
		protect_repository(spec->repo_path);
	if (chdir(spec->repo_path ? spec->repo_path : SANDBOX_HOME) != 0)
		die_errno("sandbox: cannot enter %s", spec->repo_path);
	/* Step 8. A new session: no controlling terminal to push input into. */
	if (setsid() < 0)
		die_errno("sandbox: cannot start a new session");
	privs_drop_capabilities();
	privs_set_limits(spec->limits);
	reset_signals(mask);
	/* Step 9: last, so that every step above could still use what it refuses. */
	seccomp_install();
	exec_command(spec);
}

static void block_signals(sigset_t *waited, sigset_t *previous)
{
	sigemptyset(waited);
	sigaddset(waited, SIGCHLD);
	sigaddset(waited, SIGTERM);
	sigaddset(waited, SIGINT);
	sigaddset(waited, SIGHUP);
	if (sigprocmask(SIG_BLOCK, waited, previous) != 0)
		die_errno("cannot block signals");
}

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Wait for pid 1 of the sandbox. On the timeout, or when gitcage itself is told to stop,
 * SIGKILL it: pid 1 going takes the whole pid namespace with it. */
static void wait_sandbox(pid_t pid, const sigset_t *waited, unsigned long long timeout,
			 struct sandbox_result *result)
{
	double deadline = now_seconds() + (double)timeout;
	for (;;) {
		if (waitpid(pid, &result->wait_status, WNOHANG) == pid)
			return;
		double left = deadline - now_seconds();
		if (timeout && left <= 0) {
			/* Past the deadline already (a late SIGCHLD, an EINTR): no wait at all. */
			result->timed_out = true;
			break;
		}
		struct timespec wait_for = {.tv_sec = (time_t)left,
					    .tv_nsec = (long)((left - (double)(time_t)left) * 1e9)};
		int sig = sigtimedwait(waited, NULL, timeout && left > 0 ? &wait_for : NULL);
		if (sig < 0 && errno == EINTR)
			continue;
		if (sig < 0 && errno != EAGAIN)
			die_errno("cannot wait for the sandbox");
		if (sig == SIGCHLD)
			continue;
		/* The timeout, or gitcage told to stop (SIGTERM, or SIGHUP when the ssh session
		 * went): either way the sandbox goes first. */
		result->timed_out = sig < 0;
		break;
	}
	kill(pid, SIGKILL);
	if (waitpid(pid, &result->wait_status, 0) != pid)
		die_errno("cannot wait for the sandbox");
}

void sandbox_run(const struct sandbox_spec *spec, struct sandbox_result *result)
{
	int status_pipe[2];
	sigset_t waited, previous;
	memset(result, 0, sizeof(*result));
	if (pipe2(status_pipe, O_CLOEXEC) != 0)
		die_errno("cannot create a pipe");
	block_signals(&waited, &previous);
	uid_t uid = getuid();
	gid_t gid = getgid();
	pid_t pid =
	    (pid_t)syscall(SYS_clone, SANDBOX_CLONE_FLAGS | SIGCHLD, NULL, NULL, NULL, NULL);
	if (pid < 0)
		die_without_userns(errno, "cannot create the sandbox's namespaces");
	if (pid == 0) {
		close(status_pipe[0]);
		setup_status_fd = status_pipe[1];
		util_set_die_hook(report_setup_failure);
		child_main(spec, uid, gid, &previous);
	}
	close(status_pipe[1]);
	/* Setup is bounded by the same timeout as the command: a hang there is killed too. */
	unsigned char code = 0;
	ssize_t n = -1;
	struct pollfd setup = {.fd = status_pipe[0], .events = POLLIN};
	int timeout_ms = spec->limits->timeout && spec->limits->timeout < INT_MAX / 1000
			     ? (int)spec->limits->timeout * 1000
			     : -1;
	int ready;
	do
		ready = poll(&setup, 1, timeout_ms);
	while (ready < 0 && errno == EINTR);
	if (ready > 0)
		n = read(status_pipe[0], &code, 1);
	close(status_pipe[0]);
	if (n == 1)
		result->setup_status = code;
	if (ready == 0) {
		kill(pid, SIGKILL);
		result->timed_out = true;
	}
	wait_sandbox(pid, &waited, spec->limits->timeout, result);
	if (sigprocmask(SIG_SETMASK, &previous, NULL) != 0)
		die_errno("cannot restore the signal mask");
}

int sandbox_exit_status(const struct sandbox_result *result)
{
	if (result->setup_status)
		return result->setup_status;
	if (result->timed_out)
		return EXIT_TIMEOUT;
	if (WIFEXITED(result->wait_status))
		return WEXITSTATUS(result->wait_status);
	if (WIFSIGNALED(result->wait_status))
		return 128 + WTERMSIG(result->wait_status);
	return EXIT_GITCAGE;
}

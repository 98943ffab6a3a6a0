/* SPDX-License-Identifier: ISC */
/*
 * The sandbox. One clone() creates every namespace at once; the child builds a fresh root on
 * tmpfs, pivots into it, drops every privilege and execs the command as pid 1 of its own pid
 * namespace, so that everything it starts dies with it.
 *
 * Privilege order (each step depends on the ones before it):
 *   1. parent: fds closed, no_new_privs, config and checks (the verb did these); the signals
 *      the wait loop handles are blocked
 *   2. clone with all namespace flags, into a cgroup leaf of its own where [limits] cgroup
 *      names a delegated one (cgroup.c); the child dies with the parent (PDEATHSIG) and checks
 *      that the parent is still there (it could have died before the signal was armed)
 *   3. child: map only the caller's uid and gid, each to itself
 *   4. child: take detached copies of every source tree (mounts.c): the system directories,
 *      the allowed names of /etc, the repository (read-only, or an overlay whose writes land
 *      in the session's upper directory)
 *   5. child: mount the new root on tmpfs and attach the copies
 *   6. child: pivot_root into it and detach the host's root
 *   7. child: make the root and, in a writable view, the repository's control files read-only
 *   8. child: new session, drop every capability, set rlimits, restore the signal mask
 *   9. child: Landlock, the second wall (landlock.c): files only beneath the trees the new
 *      root shows, read-only but for the writable view, /tmp and HOME; no TCP bind or
 *      connect; no abstract unix socket or signal beyond the sandbox (as far as the kernel's
 *      ABI goes; without Landlock the other walls stand alone)
 *  10. child: stdio and the relay fd in place, every other fd closed
 *  11. child: seccomp filter, last, then exec
 * What the command inherits: fds 0-2 (and 3 when a relay is passed), the environment the
 * caller built (hygiene_sandbox_env), no capabilities, no_new_privs, the Landlock domain, the
 * seccomp filter.
 */
#include "sandbox/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/close_range.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"
#include "sandbox/hygiene.h"
#include "sandbox/landlock.h"
#include "sandbox/mounts.h"
#include "sandbox/privs.h"
#include "sandbox/seccomp_load.h"

/* The host directory the new root is mounted over, in the child's private mount namespace.
 * Every source tree has been copied before it is covered, so its content does not matter. */
#define NEWROOT "/tmp"

#define SANDBOX_CLONE_FLAGS                                                                        \
	(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | \
	 CLONE_NEWCGROUP)

/* The relay to the trusted side, in the command (sandbox_spec.pass_fd). */
#define SANDBOX_PASSED_FD 3

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

/* The signals the wait loop turns into events; blocked from the first spawn to the last wait,
 * and the mask from before is what every sandboxed command gets. */
static sigset_t original_mask;
static int blocked_depth;

static void waited_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGCHLD);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
}

static void block_signals(void)
{
	sigset_t waited;
	waited_signals(&waited);
	if (blocked_depth++ == 0 && sigprocmask(SIG_BLOCK, &waited, &original_mask) != 0)
		die_errno("cannot block signals");
}

static void unblock_signals(void)
{
	if (--blocked_depth == 0 && sigprocmask(SIG_SETMASK, &original_mask, NULL) != 0)
		die_errno("cannot restore the signal mask");
}

/* Step 10: the command's fds. Sources move above 10 first, so that none is overwritten by
 * another's target; then everything else is closed. */
static void place_fds(const struct sandbox_spec *spec)
{
	int source[4] = {spec->stdio[0], spec->stdio[1], spec->stdio[2], spec->pass_fd};
	for (int i = 0; i < 4; i++)
		if (source[i] >= 0 && (source[i] = fcntl(source[i], F_DUPFD_CLOEXEC, 10)) < 0)
			die_errno("sandbox: cannot move an fd");
	for (int i = 0; i < 4; i++)
		if (source[i] >= 0 && dup2(source[i], i) != i)
			die_errno("sandbox: cannot set up fd %d", i);
	int first_closed = spec->pass_fd >= 0 ? SANDBOX_PASSED_FD + 1 : SANDBOX_PASSED_FD;
	/* The status pipe must stay until exec, which closes it (it is close-on-exec). */
	if (syscall(SYS_close_range, (unsigned)first_closed, ~0U, CLOSE_RANGE_CLOEXEC) != 0)
		die_errno("sandbox: cannot close the other fds");
}

/* Step 9: Landlock's rules, from what the new root shows. The trees attached from the host
 * (the system, the allowed names of /etc, the extra paths, the repository) are read-only but
 * for the repository's writable view and the writable directory of a cage (each tree gets
 * its own rule: beneath /tmp, the rule of /tmp would hide a missing one, and beneath /srv
 * nothing would); /proc is read-only; /dev's nodes are read and written; /tmp and HOME are
 * the command's own; the new root's directories may be listed (their names
 * are what the namespaces show anyway). Nothing else: what /proc/self/fd would reopen of the
 * host (a caller's file on stdin, say) lies beneath none of these. */
static void enter_landlock(const struct sandbox_spec *spec, const struct mounts_plan *plan)
{
	struct landlock_rule rules[MOUNTS_MAX_TREES + 6];
	size_t count = 0;
	bool writable = spec->overlay && spec->overlay->work_path;
	for (size_t i = 0; i < plan->count; i++) {
		const char *target = plan->trees[i].target;
		bool repo = spec->repo_path && strcmp(target, spec->repo_path) == 0;
		bool own = spec->writable_dir && strcmp(target, spec->writable_dir) == 0;
		if (strncmp(target, "/etc/", 5) == 0)
			continue; /* one rule for /etc, which holds only the allowed names */
		rules[count].path = target;
		rules[count++].access = (repo && writable) || own ? LANDLOCK_WRITE : LANDLOCK_READ;
	}
	rules[count++] = (struct landlock_rule){"/", LANDLOCK_LIST};
	rules[count++] = (struct landlock_rule){"/etc", LANDLOCK_READ};
	rules[count++] = (struct landlock_rule){"/proc", LANDLOCK_READ};
	rules[count++] = (struct landlock_rule){"/dev", LANDLOCK_DEVICES};
	rules[count++] = (struct landlock_rule){"/tmp", LANDLOCK_WRITE};
	rules[count++] = (struct landlock_rule){SANDBOX_HOME, LANDLOCK_WRITE};
	landlock_restrict(rules, count);
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

static _Noreturn void child_main(const struct sandbox_spec *spec, uid_t uid, gid_t gid)
{
	struct mounts_plan *plan = xcalloc(1, sizeof(*plan));
	/* Step 2. If gitcage dies (the client went away, sshd killed it), pid 1 of the sandbox
	 * goes too, and with it every process inside. A parent that died before this line
	 * would never send the signal: then stop here. getppid() is 0 in a new pid namespace,
	 * so the parent's life is read off the status pipe: its read end is the parent's. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
		die_errno("sandbox: cannot tie the sandbox to gitcage");
	struct pollfd lifeline = {.fd = setup_status_fd, .events = POLLOUT};
	if (poll(&lifeline, 1, 0) < 0 || (lifeline.revents & (POLLERR | POLLHUP)))
		_exit(EXIT_GITCAGE); /* fail safe: nobody is left to report to */
	map_ids(uid, gid);
	/* Nothing we mount may propagate back to the host. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
		die_without_userns(errno, "sandbox: cannot make the mounts private");
	if (sethostname("gitcage", 7) != 0)
		die_errno("sandbox: cannot set the host name");
	mounts_plan(spec, plan);
	mounts_build_root(spec, plan, NEWROOT);
	enter_root();
	if (spec->repo_path && spec->overlay && spec->overlay->work_path)
		mounts_protect_repository(spec->repo_path);
	const char *workdir = spec->workdir	? spec->workdir
			      : spec->repo_path ? spec->repo_path
						: SANDBOX_HOME;
	if (chdir(workdir) != 0)
		die_errno("sandbox: cannot enter %s", workdir);
	/* Step 8. A new session: no controlling terminal to push input into. */
	if (setsid() < 0)
		die_errno("sandbox: cannot start a new session");
	privs_drop_capabilities();
	privs_set_limits(spec->limits);
	signal(SIGPIPE, SIG_DFL); /* sshd or the caller may have ignored it; git expects it */
	if (sigprocmask(SIG_SETMASK, &original_mask, NULL) != 0)
		die_errno("sandbox: cannot restore the signal mask");
	enter_landlock(spec, plan);
	place_fds(spec);
	/* Step 11: last, so that every step above could still use what it refuses. */
	seccomp_install();
	exec_command(spec);
}

/* clone3's argument as of Linux 5.7, spelt out: glibc's headers and <linux/sched.h> do not
 * mix, and CLONE_INTO_CGROUP is needed only here. */
struct clone3_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
	uint64_t set_tid, set_tid_size, cgroup;
};
#define SANDBOX_INTO_CGROUP 0x200000000ULL /* CLONE_INTO_CGROUP */

/* Step 2, with a cgroup: the child starts in its leaf, so that nothing it does is ever counted
 * elsewhere, and its cgroup namespace is rooted there. */
static pid_t clone_sandbox(const struct cgroup_leaf *leaf, int *pidfd)
{
	if (leaf->fd < 0)
		return (pid_t)syscall(SYS_clone, SANDBOX_CLONE_FLAGS | CLONE_PIDFD | SIGCHLD, NULL,
				      pidfd, NULL, NULL);
	struct clone3_args args = {
	    .flags = SANDBOX_CLONE_FLAGS | CLONE_PIDFD | SANDBOX_INTO_CGROUP,
	    .pidfd = (uint64_t)(uintptr_t)pidfd,
	    .exit_signal = SIGCHLD,
	    .cgroup = (uint64_t)leaf->fd,
	};
	return (pid_t)syscall(SYS_clone3, &args, sizeof(args));
}

void sandbox_spawn(const struct sandbox_spec *spec, struct sandbox_child *child)
{
	int status_pipe[2], pidfd = -1;
	struct cgroup_leaf leaf = {.fd = -1, .parent_fd = -1};
	struct error err;
	/* The admin asked for the limits to add up: without the leaf, refuse to start at all. */
	if (spec->limits->cgroup &&
	    cgroup_leaf_create(spec->limits->cgroup, spec->limits, &leaf, &err) != 0)
		die("%s", err.message);
	if (pipe2(status_pipe, O_CLOEXEC) != 0)
		die_errno("cannot create a pipe");
	block_signals();
	uid_t uid = getuid();
	gid_t gid = getgid();
	pid_t pid = clone_sandbox(&leaf, &pidfd);
	if (pid < 0)
		die_without_userns(errno, "cannot create the sandbox's namespaces");
	if (pid == 0) {
		close(status_pipe[0]);
		setup_status_fd = status_pipe[1];
		util_set_die_hook(report_setup_failure);
		child_main(spec, uid, gid);
	}
	close(status_pipe[1]);
	*child = (struct sandbox_child){pid, pidfd, status_pipe[0], spec->limits, leaf};
}

/* After the sandbox: say so when the kernel killed something of it for memory, then remove
 * its leaf. */
static void leave_cgroup(struct sandbox_child *child)
{
	if (child->cgroup.fd < 0)
		return;
	unsigned long long kills = cgroup_leaf_oom_kills(&child->cgroup);
	if (kills)
		warn_line(
		    "the sandbox ran out of memory ([limits] memory = %llu bytes): the kernel "
		    "killed %llu of its processes",
		    child->limits->memory, kills);
	cgroup_leaf_remove(&child->cgroup);
}

/* What the wait loop watches: the sandbox's exit, the stop signals, the setup status until
 * the command runs, and the caller's extra fd. */
struct waiter {
	struct sandbox_child *child;
	struct sandbox_result *result;
	int signals;
	long long deadline_ms; /* 0: no timeout */
	struct pollfd fds[4];
	int extra_fd;
	sandbox_event_fn on_event;
	void *payload;
};

enum { WAIT_EXIT, WAIT_SIGNAL, WAIT_SETUP, WAIT_EXTRA };

static int poll_timeout(const struct waiter *w)
{
	if (!w->deadline_ms)
		return -1;
	long long left = w->deadline_ms - clock_ms();
	return left <= 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
}

/* The setup status: a byte when setup failed, end of file once the command was executed. */
static void read_setup_status(struct waiter *w)
{
	unsigned char code;
	ssize_t n = read(w->child->status_fd, &code, 1);
	if (n < 0 && errno == EINTR)
		return;
	if (n == 1)
		w->result->setup_status = code;
	w->fds[WAIT_SETUP].fd = -1;
}

/* Returns 1 when the sandbox must be stopped now. */
static int read_signal(struct waiter *w)
{
	struct signalfd_siginfo info;
	if (read(w->signals, &info, sizeof(info)) != (ssize_t)sizeof(info))
		return 0;
	if (info.ssi_signo == SIGCHLD)
		return 0;
	/* gitcage told to stop (SIGTERM, or SIGHUP when the ssh session went): the sandbox
	 * goes first. */
	w->result->stop_signal = (int)info.ssi_signo;
	return 1;
}

static int handle_extra(struct waiter *w)
{
	int rc = w->on_event(w->payload, w->extra_fd);
	if (rc > 0)
		w->fds[WAIT_EXTRA].fd = -1; /* done with it */
	return rc < 0;
}

/* One round of poll. Returns 1 when the sandbox exited, -1 when it must be killed, 0 else. */
static int wait_round(struct waiter *w)
{
	int ready = poll(w->fds, 4, poll_timeout(w));
	if (ready < 0 && errno == EINTR)
		return 0;
	if (ready < 0)
		die_errno("cannot wait for the sandbox");
	if (ready == 0) {
		w->result->timed_out = true;
		return -1;
	}
	if (w->fds[WAIT_SIGNAL].revents && read_signal(w))
		return -1;
	if (w->fds[WAIT_SETUP].fd >= 0 && w->fds[WAIT_SETUP].revents)
		read_setup_status(w);
	if (w->fds[WAIT_EXTRA].fd >= 0 && w->fds[WAIT_EXTRA].revents && handle_extra(w))
		return -1;
	return w->fds[WAIT_EXIT].revents ? 1 : 0;
}

void sandbox_wait(struct sandbox_child *child, int extra_fd, sandbox_event_fn on_event,
		  void *payload, struct sandbox_result *result)
{
	sigset_t waited;
	waited_signals(&waited);
	memset(result, 0, sizeof(*result));
	struct waiter w = {.child = child,
			   .result = result,
			   .extra_fd = extra_fd,
			   .on_event = on_event,
			   .payload = payload};
	w.signals = signalfd(-1, &waited, SFD_CLOEXEC);
	if (w.signals < 0)
		die_errno("cannot wait for signals");
	/* The timeout bounds setup too: a hang there is killed like one in the command. */
	if (child->limits->timeout)
		w.deadline_ms = clock_ms() + (long long)child->limits->timeout * 1000;
	w.fds[WAIT_EXIT] = (struct pollfd){.fd = child->pidfd, .events = POLLIN};
	w.fds[WAIT_SIGNAL] = (struct pollfd){.fd = w.signals, .events = POLLIN};
	w.fds[WAIT_SETUP] = (struct pollfd){.fd = child->status_fd, .events = POLLIN};
	w.fds[WAIT_EXTRA] = (struct pollfd){.fd = on_event ? extra_fd : -1, .events = POLLIN};
	int state;
	while ((state = wait_round(&w)) == 0)
		;
	if (state < 0)
		kill(child->pid, SIGKILL); /* pid 1 going takes the whole pid namespace with it */
	/* The setup status first: a failure there is the real reason, whatever killed it. */
	if (w.fds[WAIT_SETUP].fd >= 0)
		read_setup_status(&w);
	if (waitpid(child->pid, &result->wait_status, 0) != child->pid)
		die_errno("cannot wait for the sandbox");
	close(w.signals);
	close(child->pidfd);
	close(child->status_fd);
	leave_cgroup(child);
	unblock_signals();
}

void sandbox_run(const struct sandbox_spec *spec, struct sandbox_result *result)
{
	struct sandbox_child child;
	sandbox_spawn(spec, &child);
	sandbox_wait(&child, -1, NULL, NULL, result);
}

static int memfd_with(const char *name, const struct strbuf *content)
{
	int fd = memfd_create(name, MFD_CLOEXEC);
	if (fd < 0 || (content && write_all(fd, content->data, content->len) != 0) ||
	    lseek(fd, 0, SEEK_SET) != 0)
		die_errno("cannot make a memfd for the sandbox");
	return fd;
}

void sandbox_capture(struct sandbox_spec *spec, const struct strbuf *in, struct strbuf *out,
		     struct strbuf *err, struct sandbox_result *result)
{
	int fds[3] = {memfd_with("gitcage-stdin", in), memfd_with("gitcage-stdout", NULL),
		      memfd_with("gitcage-stderr", NULL)};
	for (int i = 0; i < 3; i++)
		spec->stdio[i] = fds[i];
	sandbox_run(spec, result);
	if (out)
		strbuf_read_fd(out, fds[1], SIZE_MAX);
	if (err)
		strbuf_read_fd(err, fds[2], SIZE_MAX);
	for (int i = 0; i < 3; i++)
		close(fds[i]);
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

/* SPDX-License-Identifier: ISC */
/*
 * probe: tries one way out of the gitcage sandbox per subcommand, and says whether it worked.
 *
 *   BLOCKED: <what> (<errno name or detail>)   exit 0  the attempt failed
 *   ESCAPED: <what> (<detail>)                 exit 1  the attempt worked, or the call got past
 *                                                      the place that should refuse it
 *   UNCLEAR: <what> (<detail>)                 exit 3  the probe could not make the attempt
 *   usage errors                               exit 2
 *
 * A refusal is told from a broken probe as bubblewrap's tests/try-syscall.c does. Where running
 * a call for real is harmless, it runs for real. Otherwise, and in addition where the kernel would
 * refuse an unprivileged caller anyway, the call gets an argument that the kernel rejects only
 * after the seccomp filter let it through (a bad pointer or fd, an unknown flag). The filter's
 * answer is EPERM (ENOSYS for clone3); EFAULT, EBADF or EINVAL means the call reached the kernel,
 * and the attempt counts as ESCAPED even though it did no harm. For the few calls whose first
 * kernel check is a capability (pivot_root, fsopen, the module and kexec calls...), EPERM does not
 * prove the filter, only that the escape failed.
 *
 * Only libc and the kernel's uapi numbers. Build:
 *   cc -D_GNU_SOURCE -Isrc -O2 -g -Wall -Wextra -Werror -o build/tests/probe tests/security/probe.c
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <net/if.h>
#include <sched.h>
#include <sys/personality.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

enum { EXIT_BLOCKED = 0, EXIT_ESCAPED = 1, EXIT_USAGE = 2, EXIT_UNCLEAR = 3 };

/* The kernel faults on this address, so a call that takes it fails with EFAULT if it runs. */
#define BAD_POINTER			((void *)1)
#define X32_SYSCALL_BIT			0x40000000L
#define I386_NR_GETPID			20
#define PROBE_KCMP_VM			1
#define PROBE_UFFD_USER_MODE_ONLY	1
#define PROBE_FSCONFIG_SET_FLAG		0
#define PROBE_SYSLOG_ACTION_SIZE_BUFFER 10
#define PROBE_Q_GETFMT			0x800004
#define PROBE_QCMD(cmd, type)		(((cmd) << 8) | ((type)&0xff))
/* The request number with bit 32 set: the kernel reads ioctl's request as 32 bits, so a filter
 * that compares all 64 would let this through (CVE-2019-10063 in flatpak). */
#define HIGH_BITS(request) ((1UL << 32) | (unsigned long)(request))

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const char *errno_name(int err)
{
	const char *name = strerrorname_np(err);
	return name ? name : "unknown errno";
}

__attribute__((format(printf, 3, 4))) static int verdict(int code, const char *what,
							 const char *fmt, ...)
{
	const char *word = code == EXIT_BLOCKED	  ? "BLOCKED"
			   : code == EXIT_ESCAPED ? "ESCAPED"
						  : "UNCLEAR";
	char detail[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	printf("%s: %s (%s)\n", word, what, detail);
	fflush(stdout);
	return code;
}

/* ---- helpers for calls that need a process to work on ---- */

/* A child that waits to be killed: the target of ptrace and process_vm_*. */
static pid_t spawn_sleeper(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		for (;;)
			pause();
	}
	return pid;
}

static void kill_sleeper(pid_t pid)
{
	int saved = errno;
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	errno = saved;
}

/* A child made by clone/clone3 exits at once; the parent reaps it. */
static long reap_clone(long pid)
{
	if (pid == 0)
		_exit(0);
	if (pid > 0)
		waitpid((pid_t)pid, NULL, 0);
	return pid;
}

static long close_if_fd(long fd)
{
	if (fd >= 0)
		close((int)fd);
	return fd;
}

static int tty_fd(void)
{
	if (isatty(STDIN_FILENO))
		return STDIN_FILENO;
	return open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
}

/* ---- the calls: each returns >= 0 when it worked, -1 with errno when it did not ---- */

static long call_unshare_user(const char *arg)
{
	(void)arg;
	return syscall(SYS_unshare, CLONE_NEWUSER);
}

static long call_unshare_net(const char *arg)
{
	(void)arg;
	return syscall(SYS_unshare, CLONE_NEWNET);
}

/* Bit 0 is never a valid unshare flag: EINVAL if the filter lets the call through. */
static long call_unshare_bad_flag(const char *arg)
{
	(void)arg;
	return syscall(SYS_unshare, CLONE_NEWUSER | CLONE_NEWNET | 1);
}

static long call_setns(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC); /* if it fails, setns(-1) still says something */
	long ret = syscall(SYS_setns, fd, 0);
	int saved = errno;
	if (fd >= 0)
		close(fd);
	errno = saved;
	return ret;
}

/* On fd -1 the kernel says EBADF, unless the filter refused setns first. */
static long call_setns_bad_fd(const char *arg)
{
	(void)arg;
	return syscall(SYS_setns, -1, 0);
}

static long call_clone_newuser(const char *arg)
{
	(void)arg;
	return reap_clone(syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, NULL));
}

/* CLONE_NEWUSER with CLONE_FS is EINVAL in the kernel, before any process is made. */
static long call_clone_bad_flags(const char *arg)
{
	(void)arg;
	return reap_clone(
	    syscall(SYS_clone, CLONE_NEWUSER | CLONE_FS | SIGCHLD, NULL, NULL, NULL, NULL));
}

/* struct clone_args of <linux/sched.h>, as of Linux 5.7 (88 bytes). */
struct probe_clone_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid,
	    set_tid_size, cgroup;
};

static long call_clone3_newuser(const char *arg)
{
	struct probe_clone_args args = {.flags = CLONE_NEWUSER, .exit_signal = SIGCHLD};
	(void)arg;
	return reap_clone(syscall(SYS_clone3, &args, sizeof(args)));
}

static long call_clone3_bad_pointer(const char *arg)
{
	(void)arg;
	return reap_clone(syscall(SYS_clone3, BAD_POINTER, sizeof(struct probe_clone_args)));
}

static long call_mount_tmpfs(const char *arg)
{
	(void)arg;
	long ret = syscall(SYS_mount, "gitcage-probe", "/tmp", "tmpfs", 0UL, "size=1m");
	if (ret == 0)
		syscall(SYS_umount2, "/tmp", MNT_DETACH);
	return ret;
}

static long call_mount_bad_target(const char *arg)
{
	(void)arg;
	return syscall(SYS_mount, "gitcage-probe", BAD_POINTER, "tmpfs", 0UL, NULL);
}

/* 0x100 is not a umount flag: EINVAL before the kernel looks at the path or privileges. */
static long call_umount_bad_flag(const char *arg)
{
	(void)arg;
	return syscall(SYS_umount2, "/tmp", 0x100);
}

static long call_pivot_root(const char *arg)
{
	(void)arg;
	return syscall(SYS_pivot_root, BAD_POINTER, BAD_POINTER);
}

static long call_chroot(const char *arg)
{
	(void)arg;
	return syscall(SYS_chroot, BAD_POINTER);
}

static long call_fsopen(const char *arg)
{
	(void)arg;
	return close_if_fd(syscall(SYS_fsopen, "tmpfs", 0x1 /* FSOPEN_CLOEXEC */));
}

static long call_fsmount(const char *arg)
{
	(void)arg;
	return close_if_fd(syscall(SYS_fsmount, -1, 0x1 /* FSMOUNT_CLOEXEC */, 0));
}

static long call_fsconfig(const char *arg)
{
	(void)arg;
	return syscall(SYS_fsconfig, -1, PROBE_FSCONFIG_SET_FLAG, "ro", NULL, 0);
}

static long call_fspick(const char *arg)
{
	(void)arg;
	return close_if_fd(syscall(SYS_fspick, AT_FDCWD, "/tmp", 0x1 /* FSPICK_CLOEXEC */));
}

/* Without OPEN_TREE_CLONE, open_tree needs no privilege: an fd means the filter let it by. */
static long call_open_tree(const char *arg)
{
	(void)arg;
	return close_if_fd(syscall(SYS_open_tree, AT_FDCWD, "/", O_CLOEXEC));
}

static long call_move_mount(const char *arg)
{
	(void)arg;
	return syscall(SYS_move_mount, -1, "", -1, "", 0);
}

/* A zero-sized struct mount_attr is EINVAL before any privilege check. */
static long call_mount_setattr(const char *arg)
{
	(void)arg;
	return syscall(SYS_mount_setattr, AT_FDCWD, "/tmp", 0, NULL, 0);
}

static long call_keyctl(const char *arg)
{
	(void)arg;
	return syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -2 /* process keyring */, 0);
}

static long call_add_key(const char *arg)
{
	(void)arg;
	return syscall(SYS_add_key, "user", "gitcage-probe", BAD_POINTER, 1, -2);
}

static long call_request_key(const char *arg)
{
	(void)arg;
	return syscall(SYS_request_key, "user", "gitcage-probe-absent", NULL, 0);
}

/* No bpf command has this number: EINVAL if the call runs. */
static long call_bpf(const char *arg)
{
	(void)arg;
	return close_if_fd(syscall(SYS_bpf, 0x7fffffff, NULL, 0));
}

static long call_perf_event_open(const char *arg)
{
	(void)arg;
	return close_if_fd(syscall(SYS_perf_event_open, BAD_POINTER, 0, -1, -1, 0));
}

/* User-mode-only userfaultfd is open to everyone; with an unknown flag it is EINVAL. */
static long call_userfaultfd(const char *arg)
{
	(void)arg;
	return close_if_fd(syscall(SYS_userfaultfd, PROBE_UFFD_USER_MODE_ONLY | 0x4));
}

static long call_io_uring_setup(const char *arg)
{
	(void)arg;
	return close_if_fd(syscall(SYS_io_uring_setup, 1, BAD_POINTER));
}

static long call_io_uring_enter(const char *arg)
{
	(void)arg;
	return syscall(SYS_io_uring_enter, -1, 0, 0, 0, NULL, 0);
}

static long call_io_uring_register(const char *arg)
{
	(void)arg;
	return syscall(SYS_io_uring_register, -1, 0, NULL, 0);
}

static long call_ptrace_attach(const char *arg)
{
	(void)arg;
	pid_t child = spawn_sleeper();
	if (child < 0)
		return -1;
	long ret = syscall(SYS_ptrace, PTRACE_ATTACH, child, NULL, NULL);
	if (ret == 0) {
		waitpid(child, NULL, 0);
		syscall(SYS_ptrace, PTRACE_DETACH, child, NULL, NULL);
	}
	kill_sleeper(child);
	return ret;
}

/* The child is a copy of this process, so the buffer sits at the same address in both. */
static long call_process_vm(int writing)
{
	char secret[32] = "gitcage-probe-secret";
	char copy[32] = "gitcage-probe-overwrite";
	pid_t child = spawn_sleeper();
	if (child < 0)
		return -1;
	struct iovec local = {copy, sizeof(copy)};
	struct iovec remote = {secret, sizeof(secret)};
	long ret = writing ? syscall(SYS_process_vm_writev, child, &local, 1, &remote, 1, 0)
			   : syscall(SYS_process_vm_readv, child, &local, 1, &remote, 1, 0);
	kill_sleeper(child);
	return ret;
}

static long call_process_vm_readv(const char *arg)
{
	(void)arg;
	return call_process_vm(0);
}

static long call_process_vm_writev(const char *arg)
{
	(void)arg;
	return call_process_vm(1);
}

static long call_kcmp(const char *arg)
{
	(void)arg;
	return syscall(SYS_kcmp, getpid(), getpid(), PROBE_KCMP_VM, 0, 0);
}

static long call_open_by_handle_at(const char *arg)
{
	(void)arg;
	return close_if_fd(syscall(SYS_open_by_handle_at, AT_FDCWD, BAD_POINTER, O_RDONLY));
}

static long call_init_module(const char *arg)
{
	(void)arg;
	return syscall(SYS_init_module, BAD_POINTER, 0UL, "");
}

static long call_finit_module(const char *arg)
{
	(void)arg;
	return syscall(SYS_finit_module, -1, "", 0);
}

static long call_delete_module(const char *arg)
{
	(void)arg;
	return syscall(SYS_delete_module, "gitcage_probe_absent", O_NONBLOCK);
}

/* Unknown flags: even a privileged caller gets EINVAL, and no kexec image is touched. */
static long call_kexec_load(const char *arg)
{
	(void)arg;
	return syscall(SYS_kexec_load, 0UL, 0UL, NULL, 0x7fff0000UL);
}

static long call_kexec_file_load(const char *arg)
{
	(void)arg;
	return syscall(SYS_kexec_file_load, -1, -1, 0UL, "", 0x7fff0000UL);
}

/* Wrong magic numbers: EINVAL after the privilege check, never a reboot. */
static long call_reboot(const char *arg)
{
	(void)arg;
	return syscall(SYS_reboot, 0, 0, 0, NULL);
}

static long call_swapon(const char *arg)
{
	(void)arg;
	return syscall(SYS_swapon, BAD_POINTER, 0);
}

static long call_swapoff(const char *arg)
{
	(void)arg;
	return syscall(SYS_swapoff, BAD_POINTER);
}

static long call_acct(const char *arg)
{
	(void)arg;
	return syscall(SYS_acct, BAD_POINTER);
}

/* Q_GETFMT without a device is ENODEV for anyone. */
static long call_quotactl(const char *arg)
{
	(void)arg;
	return syscall(SYS_quotactl, PROBE_QCMD(PROBE_Q_GETFMT, 0), NULL, 0, NULL);
}

static long call_syslog(const char *arg)
{
	(void)arg;
	return syscall(SYS_syslog, PROBE_SYSLOG_ACTION_SIZE_BUFFER, NULL, 0);
}

/* TIOCSTI and TIOCLINUX: always with a bad pointer, so that nothing is ever pushed into a
 * terminal. On fd -1 the kernel answers EBADF if the filter let the ioctl through. */
static long ioctl_on(int fd, unsigned long request)
{
	return syscall(SYS_ioctl, fd, request, BAD_POINTER);
}

static long ioctl_on_tty(unsigned long request)
{
	int fd = tty_fd();
	long ret = ioctl_on(fd, request);
	int saved = errno;
	if (fd > STDERR_FILENO)
		close(fd);
	errno = saved;
	return ret;
}

static long call_tiocsti(const char *arg)
{
	(void)arg;
	return ioctl_on(-1, TIOCSTI);
}

static long call_tiocsti_high(const char *arg)
{
	(void)arg;
	return ioctl_on(-1, HIGH_BITS(TIOCSTI));
}

static long call_tiocsti_tty(const char *arg)
{
	(void)arg;
	return ioctl_on_tty(HIGH_BITS(TIOCSTI));
}

static long call_tioclinux(const char *arg)
{
	(void)arg;
	return ioctl_on(-1, TIOCLINUX);
}

static long call_tioclinux_high(const char *arg)
{
	(void)arg;
	return ioctl_on(-1, HIGH_BITS(TIOCLINUX));
}

static long call_tioclinux_tty(const char *arg)
{
	(void)arg;
	return ioctl_on_tty(HIGH_BITS(TIOCLINUX));
}

static long call_af_packet(const char *arg)
{
	(void)arg;
	return close_if_fd(socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL)));
}

/* 0x70 are not socket type flags: EINVAL, but only once the filter let AF_PACKET through. */
static long call_af_packet_bad_type(const char *arg)
{
	(void)arg;
	return close_if_fd(socket(AF_PACKET, 0x7f, 0));
}

static long call_af_vsock(const char *arg)
{
	(void)arg;
	return close_if_fd(socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0));
}

static long call_af_alg(const char *arg)
{
	(void)arg;
	return close_if_fd(socket(AF_ALG, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
}

/* A foreign persona: address randomization off, or every readable page executable. The raw
 * call, so that the argument reaches the kernel with all 64 bits as given. */
static long call_persona_no_randomize(const char *arg)
{
	(void)arg;
	return syscall(SYS_personality, (unsigned long)ADDR_NO_RANDOMIZE);
}

static long call_persona_read_implies_exec(const char *arg)
{
	(void)arg;
	return syscall(SYS_personality, (unsigned long)READ_IMPLIES_EXEC);
}

/* The kernel reads only the low 32 bits: this is ADDR_NO_RANDOMIZE to it, whatever the high
 * half says to a filter that compares only that. */
static long call_persona_high_bits(const char *arg)
{
	(void)arg;
	return syscall(SYS_personality, (1UL << 32) | (unsigned long)ADDR_NO_RANDOMIZE);
}

/* ---- system call attempts: table-driven ---- */

typedef long (*call_fn)(const char *arg);

/* The errnos that mean "refused", 0-terminated. */
static const int eperm[] = {EPERM, 0};
static const int enosys_or_eperm[] = {ENOSYS, EPERM, 0};
/* EAFNOSUPPORT: the answer of a kernel without the family, which a filter may mimic. */
static const int eperm_or_eafnosupport[] = {EPERM, EAFNOSUPPORT, 0};

struct syscall_attempt {
	const char *name;	 /* the subcommand */
	const char *what;	 /* what the verdict line says was tried */
	const char *default_arg; /* an optional argument passed to each call */
	const int *refusals;	 /* the errnos that mean "refused" */
	call_fn calls[3];	 /* every one must be refused */
};

// clang-format off
static const struct syscall_attempt syscall_attempts[] = {
	{"unshare-user", "unshare(CLONE_NEWUSER)", NULL, eperm,
	 {call_unshare_user, call_unshare_bad_flag}},
	{"unshare-net", "unshare(CLONE_NEWNET)", NULL, eperm,
	 {call_unshare_net, call_unshare_bad_flag}},
	{"setns", "setns into a namespace", "/proc/1/ns/net", eperm,
	 {call_setns, call_setns_bad_fd}},
	{"clone-newuser", "clone(CLONE_NEWUSER)", NULL, eperm,
	 {call_clone_newuser, call_clone_bad_flags}},
	{"clone3", "clone3(CLONE_NEWUSER)", NULL, enosys_or_eperm,
	 {call_clone3_newuser, call_clone3_bad_pointer}},
	{"mount", "mount tmpfs on /tmp", NULL, eperm, {call_mount_tmpfs, call_mount_bad_target}},
	{"umount", "umount2", NULL, eperm, {call_umount_bad_flag}},
	{"pivot-root", "pivot_root", NULL, eperm, {call_pivot_root}},
	{"chroot", "chroot", NULL, eperm, {call_chroot}},
	{"fsopen", "fsopen(tmpfs)", NULL, eperm, {call_fsopen}},
	{"fsmount", "fsmount", NULL, eperm, {call_fsmount}},
	{"fsconfig", "fsconfig", NULL, eperm, {call_fsconfig}},
	{"fspick", "fspick(/tmp)", NULL, eperm, {call_fspick}},
	{"open-tree", "open_tree(/)", NULL, eperm, {call_open_tree}},
	{"move-mount", "move_mount", NULL, eperm, {call_move_mount}},
	{"mount-setattr", "mount_setattr", NULL, eperm, {call_mount_setattr}},
	{"keyctl", "keyctl", NULL, eperm, {call_keyctl}},
	{"add-key", "add_key", NULL, eperm, {call_add_key}},
	{"request-key", "request_key", NULL, eperm, {call_request_key}},
	{"bpf", "bpf", NULL, eperm, {call_bpf}},
	{"perf-event-open", "perf_event_open", NULL, eperm, {call_perf_event_open}},
	{"userfaultfd", "userfaultfd", NULL, eperm, {call_userfaultfd}},
	{"io-uring", "io_uring_setup/enter/register", NULL, eperm,
	 {call_io_uring_setup, call_io_uring_enter, call_io_uring_register}},
	{"ptrace", "ptrace(PTRACE_ATTACH) on a child", NULL, eperm, {call_ptrace_attach}},
	{"process-vm-readv", "process_vm_readv from a child", NULL, eperm,
	 {call_process_vm_readv}},
	{"process-vm-writev", "process_vm_writev into a child", NULL, eperm,
	 {call_process_vm_writev}},
	{"kcmp", "kcmp", NULL, eperm, {call_kcmp}},
	{"open-by-handle-at", "open_by_handle_at", NULL, eperm, {call_open_by_handle_at}},
	{"init-module", "init_module", NULL, eperm, {call_init_module}},
	{"finit-module", "finit_module", NULL, eperm, {call_finit_module}},
	{"delete-module", "delete_module", NULL, eperm, {call_delete_module}},
	{"kexec-load", "kexec_load", NULL, eperm, {call_kexec_load}},
	{"kexec-file-load", "kexec_file_load", NULL, eperm, {call_kexec_file_load}},
	{"reboot", "reboot", NULL, eperm, {call_reboot}},
	{"swapon", "swapon", NULL, eperm, {call_swapon}},
	{"swapoff", "swapoff", NULL, eperm, {call_swapoff}},
	{"acct", "acct", NULL, eperm, {call_acct}},
	{"quotactl", "quotactl", NULL, eperm, {call_quotactl}},
	{"syslog", "syslog (the kernel log)", NULL, eperm, {call_syslog}},
	{"tiocsti", "ioctl TIOCSTI (also with bit 32 set, and on a terminal)", NULL, eperm,
	 {call_tiocsti, call_tiocsti_high, call_tiocsti_tty}},
	{"tioclinux", "ioctl TIOCLINUX (also with bit 32 set, and on a terminal)", NULL, eperm,
	 {call_tioclinux, call_tioclinux_high, call_tioclinux_tty}},
	{"af-packet", "socket(AF_PACKET)", NULL, eperm_or_eafnosupport,
	 {call_af_packet, call_af_packet_bad_type}},
	{"af-vsock", "socket(AF_VSOCK): the hypervisor, past the network namespace", NULL, eperm,
	 {call_af_vsock}},
	{"af-alg", "socket(AF_ALG): the kernel's crypto interface", NULL, eperm, {call_af_alg}},
	{"personality", "a foreign persona (ADDR_NO_RANDOMIZE, READ_IMPLIES_EXEC, high bits set)",
	 NULL, eperm,
	 {call_persona_no_randomize, call_persona_read_implies_exec, call_persona_high_bits}},
};
// clang-format on

static int is_refusal(const struct syscall_attempt *attempt, int err)
{
	for (const int *refusal = attempt->refusals; *refusal; refusal++)
		if (*refusal == err)
			return 1;
	return 0;
}

/* "EPERM", or "ENOSYS, EPERM": each errno seen once, in order. */
static void note_errno(char *seen, size_t size, int err)
{
	const char *name = errno_name(err);
	if (strstr(seen, name))
		return;
	size_t len = strlen(seen);
	snprintf(seen + len, size - len, "%s%s", len ? ", " : "", name);
}

static int run_syscall_attempt(const struct syscall_attempt *attempt, const char *arg)
{
	char seen[128] = "";

	for (size_t i = 0; i < ARRAY_SIZE(attempt->calls) && attempt->calls[i]; i++) {
		errno = 0;
		long ret = attempt->calls[i](arg);
		if (ret >= 0)
			return verdict(EXIT_ESCAPED, attempt->what, "call %zu succeeded: %ld",
				       i + 1, ret);
		if (!is_refusal(attempt, errno))
			return verdict(
			    EXIT_ESCAPED, attempt->what,
			    "call %zu reached the kernel, which answered %s: not filtered", i + 1,
			    errno_name(errno));
		note_errno(seen, sizeof(seen), errno);
	}
	return verdict(EXIT_BLOCKED, attempt->what, "%s", seen);
}

/* ---- foreign system call ABIs: tried in a child, which the filter may kill ---- */

static long x32_getpid(void)
{
	return syscall(X32_SYSCALL_BIT | SYS_getpid);
}

static long i386_getpid(void)
{
#if defined(__x86_64__)
	long ret;
	__asm__ volatile("int $0x80"
			 : "=a"(ret)
			 : "a"(I386_NR_GETPID)
			 : "memory", "cc", "r8", "r9", "r10", "r11");
	if (ret < 0 && ret > -4096) {
		errno = (int)-ret;
		return -1;
	}
	return ret;
#else
	errno = ENOSYS;
	return -1;
#endif
}

/* The child exits 0 if the call worked, else with its errno; a filter may kill it instead. */
static int run_foreign_abi(const char *what, long (*call)(void))
{
	const struct rlimit no_core = {0, 0};
	int status;
	pid_t child = fork();

	if (child < 0)
		return verdict(EXIT_UNCLEAR, what, "fork: %s", errno_name(errno));
	if (child == 0) {
		setrlimit(RLIMIT_CORE, &no_core);
		_exit(call() >= 0 ? 0 : errno & 0xff);
	}
	if (waitpid(child, &status, 0) < 0)
		return verdict(EXIT_UNCLEAR, what, "waitpid: %s", errno_name(errno));
	if (WIFSIGNALED(status))
		return verdict(EXIT_BLOCKED, what, "killed by SIG%s",
			       sigabbrev_np(WTERMSIG(status)));
	int err = WEXITSTATUS(status);
	if (err == 0)
		return verdict(EXIT_ESCAPED, what, "getpid worked");
	if (err == ENOSYS || err == EPERM)
		return verdict(EXIT_BLOCKED, what, "%s", errno_name(err));
	return verdict(EXIT_ESCAPED, what, "reached the kernel, which answered %s",
		       errno_name(err));
}

static int cmd_x32_syscall(char **args)
{
	(void)args;
	return run_foreign_abi("x32 system call ABI", x32_getpid);
}

static int cmd_i386_int80(char **args)
{
	(void)args;
	return run_foreign_abi("i386 system call ABI (int $0x80)", i386_getpid);
}

/* ---- process state ---- */

/* The value of "Field:" in /proc/self/status, or NULL. */
static char *status_field(const char *field, char *value, size_t size)
{
	char line[256];
	size_t len = strlen(field);
	char *found = NULL;
	FILE *status = fopen("/proc/self/status", "re");

	if (!status)
		return NULL;
	while (!found && fgets(line, sizeof(line), status)) {
		if (strncmp(line, field, len) != 0 || line[len] != ':')
			continue;
		snprintf(value, size, "%s", line + len + 1 + strspn(line + len + 1, " \t"));
		value[strcspn(value, "\n")] = '\0';
		found = value;
	}
	fclose(status);
	return found;
}

static int cmd_capabilities(char **args)
{
	static const char *const sets[] = {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"};
	const char *what = "capabilities";
	char value[64];
	(void)args;

	for (size_t i = 0; i < ARRAY_SIZE(sets); i++) {
		if (!status_field(sets[i], value, sizeof(value)))
			return verdict(EXIT_UNCLEAR, what, "no %s in /proc/self/status", sets[i]);
		if (strtoull(value, NULL, 16) != 0)
			return verdict(EXIT_ESCAPED, what, "%s=%s", sets[i], value);
	}
	return verdict(EXIT_BLOCKED, what, "every set is empty");
}

static int cmd_no_new_privs(char **args)
{
	const char *what = "gaining privileges through exec (no_new_privs)";
	char value[16];
	(void)args;

	if (!status_field("NoNewPrivs", value, sizeof(value)))
		return verdict(EXIT_UNCLEAR, what, "no NoNewPrivs in /proc/self/status");
	if (strcmp(value, "1") == 0)
		return verdict(EXIT_BLOCKED, what, "NoNewPrivs: 1");
	return verdict(EXIT_ESCAPED, what, "NoNewPrivs: %s", value);
}

static int cmd_fds(char **args)
{
	const char *what = "inherited file descriptors";
	char leaked[512] = "";
	struct dirent *entry;
	DIR *dir = opendir("/proc/self/fd");
	(void)args;

	if (!dir)
		return verdict(EXIT_UNCLEAR, what, "opendir /proc/self/fd: %s", errno_name(errno));
	while ((entry = readdir(dir))) {
		int fd = atoi(entry->d_name);
		if (entry->d_name[0] == '.' || fd <= STDERR_FILENO || fd == dirfd(dir))
			continue;
		char link[64], target[256] = "?";
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		ssize_t len = readlink(link, target, sizeof(target) - 1);
		target[len > 0 ? len : 1] = '\0';
		size_t used = strlen(leaked);
		snprintf(leaked + used, sizeof(leaked) - used, "%s%d -> %s", used ? ", " : "", fd,
			 target);
	}
	closedir(dir);
	if (leaked[0])
		return verdict(EXIT_ESCAPED, what, "%s", leaked);
	return verdict(EXIT_BLOCKED, what, "only 0, 1 and 2 are open");
}

static int cmd_env(char **args)
{
	char what[128];
	const char *value = getenv(args[0]);

	snprintf(what, sizeof(what), "environment variable %s", args[0]);
	if (value)
		return verdict(EXIT_ESCAPED, what, "%s=%s", args[0], value);
	return verdict(EXIT_BLOCKED, what, "absent");
}

static void sleep_seconds(int seconds)
{
	struct timespec left = {seconds, 0};
	while (nanosleep(&left, &left) < 0 && errno == EINTR)
		;
}

/* The grandchild: a session of its own, no terminal, no inherited stdio (a test that waits for
 * the probe's output must not wait for the daemon too). It reports that it is alive. */
static void become_daemon(const char *dir)
{
	char path[4096], line[32];
	int null = open("/dev/null", O_RDWR);

	prctl(PR_SET_NAME, "probe-daemon");
	for (int fd = 0; fd <= STDERR_FILENO; fd++)
		if (null >= 0)
			dup2(null, fd);
	sleep_seconds(2);
	snprintf(path, sizeof(path), "%s/daemon-alive", dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int len = snprintf(line, sizeof(line), "%d\n", (int)getpid());
	if (fd >= 0 && write(fd, line, (size_t)len) == len)
		close(fd);
	sleep_seconds(60); /* long enough for a test to find it, short enough not to linger */
	_exit(0);
}

static int cmd_daemon(char **args)
{
	const char *what = "a daemon that outlives the command";
	int status;
	pid_t child = fork();

	if (child < 0)
		return verdict(EXIT_UNCLEAR, what, "fork: %s", errno_name(errno));
	if (child == 0) {
		if (setsid() < 0)
			_exit(1);
		pid_t grandchild = fork();
		if (grandchild == 0)
			become_daemon(args[0]);
		_exit(grandchild < 0 ? 1 : 0);
	}
	if (waitpid(child, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return verdict(EXIT_UNCLEAR, what, "setsid or the second fork failed");
	printf("STARTED: %s (writes %s/daemon-alive after 2 s if it is still alive)\n", what,
	       args[0]);
	return EXIT_BLOCKED;
}

static int cmd_session(char **args)
{
	pid_t sid = getsid(0);
	(void)args;

	if (sid == getpid()) {
		printf("SESSION: leader (pid %d)\n", (int)sid);
		return 0;
	}
	printf("SESSION: not leader (pid %d, session %d)\n", (int)getpid(), (int)sid);
	return 1;
}

/* Dies of a real fault: a signal the kernel forces even on a pid namespace's init. */
static int cmd_crash(char **args)
{
	const struct rlimit no_core = {0, 0};
	(void)args;

	volatile int *volatile nowhere = NULL;

	setrlimit(RLIMIT_CORE, &no_core);
	*nowhere = 1;
	return EXIT_UNCLEAR;
}

/* What git and the C library may ask for must still work: PER_LINUX, and the query. Exit 0
 * when both do. */
static int cmd_persona_linux(char **args)
{
	const char *what = "personality(PER_LINUX) and the query personality(0xffffffff)";
	(void)args;
	long set = syscall(SYS_personality, (unsigned long)PER_LINUX);
	if (set < 0)
		return verdict(EXIT_UNCLEAR, what, "PER_LINUX: %s", errno_name(errno));
	long now = syscall(SYS_personality, 0xffffffffUL);
	if (now < 0)
		return verdict(EXIT_UNCLEAR, what, "the query: %s", errno_name(errno));
	printf("WORKS: %s (persona %#lx)\n", what, now);
	return 0;
}

/* ---- files ---- */

static int cmd_read_file(char **args)
{
	char what[4200], buf[64];
	struct stat st;
	int fd = open(args[0], O_RDONLY | O_CLOEXEC);

	snprintf(what, sizeof(what), "read %s", args[0]);
	if (fd < 0)
		return verdict(EXIT_BLOCKED, what, "%s", errno_name(errno));
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		DIR *dir = fdopendir(fd);
		int entries = 0;
		while (dir && readdir(dir))
			entries++;
		if (dir)
			closedir(dir);
		return verdict(EXIT_ESCAPED, what, "a directory: listed %d entries", entries);
	}
	ssize_t got = read(fd, buf, sizeof(buf));
	int err = errno;
	close(fd);
	if (got < 0)
		return verdict(EXIT_BLOCKED, what, "opened, but read: %s", errno_name(err));
	return verdict(EXIT_ESCAPED, what, "read %zd bytes", got);
}

static int is_write_refusal(int err)
{
	return err == EROFS || err == EACCES || err == EPERM || err == ENOENT || err == ENOTDIR;
}

static int cmd_write_file(char **args)
{
	static const char line[] = "gitcage-probe\n";
	char what[4200];
	int fd = open(args[0], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0644);

	snprintf(what, sizeof(what), "write %s", args[0]);
	if (fd < 0 && is_write_refusal(errno))
		return verdict(EXIT_BLOCKED, what, "%s", errno_name(errno));
	if (fd < 0)
		return verdict(EXIT_UNCLEAR, what, "open: %s, which is not a refusal",
			       errno_name(errno));
	ssize_t put = write(fd, line, sizeof(line) - 1);
	int err = errno;
	close(fd);
	if (put < 0)
		return verdict(EXIT_ESCAPED, what, "opened for writing; write: %s",
			       errno_name(err));
	return verdict(EXIT_ESCAPED, what, "wrote %zd bytes", put);
}

static int cmd_writable_mount(char **args)
{
	char what[4200];
	struct statvfs vfs;

	snprintf(what, sizeof(what), "a writable mount at %s", args[0]);
	if (statvfs(args[0], &vfs) < 0)
		return verdict(EXIT_UNCLEAR, what, "statvfs: %s", errno_name(errno));
	if (vfs.f_flag & ST_RDONLY)
		return verdict(EXIT_BLOCKED, what, "mounted read-only");
	return verdict(EXIT_ESCAPED, what, "the mount is writable");
}

/* ---- sockets ---- */

static int resolve_tcp(const char *host, const char *port, int passive, struct addrinfo **out)
{
	struct addrinfo hints = {
	    .ai_family = AF_UNSPEC,
	    .ai_socktype = SOCK_STREAM,
	    .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | (passive ? AI_PASSIVE : 0),
	};
	return getaddrinfo(host, port, &hints, out);
}

static socklen_t abstract_address(const char *name, struct sockaddr_un *addr)
{
	memset(addr, 0, sizeof(*addr));
	addr->sun_family = AF_UNIX;
	size_t len = strnlen(name, sizeof(addr->sun_path) - 2);
	memcpy(addr->sun_path + 1, name, len); /* sun_path[0] = '\0': the abstract namespace */
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + len);
}

static int connect_verdict(const char *what, int family, const struct sockaddr *addr, socklen_t len)
{
	const struct timeval limit = {5, 0};
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return verdict(EXIT_BLOCKED, what, "socket: %s", errno_name(errno));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof(limit));
	int ret = connect(fd, addr, len);
	int err = errno;
	close(fd);
	if (ret == 0)
		return verdict(EXIT_ESCAPED, what, "connected");
	return verdict(EXIT_BLOCKED, what, "%s", errno_name(err));
}

static int cmd_connect_tcp(char **args)
{
	char what[256];
	struct addrinfo *ai;

	snprintf(what, sizeof(what), "connect to tcp %s port %s", args[0], args[1]);
	if (resolve_tcp(args[0], args[1], 0, &ai) != 0) {
		fprintf(stderr, "probe: not a numeric address and port: %s %s\n", args[0], args[1]);
		return EXIT_USAGE;
	}
	int code = connect_verdict(what, ai->ai_family, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);
	return code;
}

static int cmd_connect_abstract(char **args)
{
	char what[256];
	struct sockaddr_un addr;
	socklen_t len = abstract_address(args[0], &addr);

	snprintf(what, sizeof(what), "connect to abstract unix socket @%s", args[0]);
	return connect_verdict(what, AF_UNIX, (struct sockaddr *)&addr, len);
}

/* Accept and greet every connection until the time is up; report each on stdout. */
static int serve_until(int fd, int seconds)
{
	static const char greeting[] = "gitcage-probe-listener\n";
	time_t deadline = time(NULL) + seconds;

	for (time_t now = time(NULL); now < deadline; now = time(NULL)) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		if (poll(&pfd, 1, (int)(deadline - now) * 1000) <= 0)
			continue;
		int conn = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
		if (conn < 0)
			continue;
		/* MSG_NOSIGNAL: a client that has already closed must not kill the listener. */
		if (send(conn, greeting, sizeof(greeting) - 1, MSG_NOSIGNAL) < 0 && errno != EPIPE)
			perror("probe: send");
		close(conn);
		printf("ACCEPTED\n");
		fflush(stdout);
	}
	close(fd);
	return 0;
}

static int parse_seconds(const char *text)
{
	char *end;
	long seconds = strtol(text, &end, 10);
	return (*end || seconds <= 0 || seconds > 86400) ? -1 : (int)seconds;
}

static int listen_on(int fd, const struct sockaddr *addr, socklen_t len)
{
	const int on = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (bind(fd, addr, len) < 0 || listen(fd, 16) < 0) {
		perror("probe: bind/listen");
		return -1;
	}
	return 0;
}

static int cmd_listen_tcp(char **args)
{
	struct addrinfo *ai;
	struct sockaddr_storage bound;
	socklen_t bound_len = sizeof(bound);
	char port[16];
	int seconds = parse_seconds(args[2]);

	if (seconds < 0 || resolve_tcp(args[0], args[1], 1, &ai) != 0) {
		fprintf(stderr, "probe: usage: listen-tcp HOST PORT SECONDS (numeric)\n");
		return EXIT_USAGE;
	}
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int failed = fd < 0 || listen_on(fd, ai->ai_addr, ai->ai_addrlen) < 0;
	freeaddrinfo(ai);
	if (failed || getsockname(fd, (struct sockaddr *)&bound, &bound_len) < 0 ||
	    getnameinfo((struct sockaddr *)&bound, bound_len, NULL, 0, port, sizeof(port),
			NI_NUMERICSERV) != 0)
		return EXIT_UNCLEAR;
	printf("LISTENING: %s %s\n", args[0], port);
	fflush(stdout);
	return serve_until(fd, seconds);
}

static int cmd_listen_abstract(char **args)
{
	struct sockaddr_un addr;
	socklen_t len = abstract_address(args[0], &addr);
	int seconds = parse_seconds(args[1]);

	if (seconds < 0) {
		fprintf(stderr, "probe: usage: listen-abstract NAME SECONDS\n");
		return EXIT_USAGE;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || listen_on(fd, (struct sockaddr *)&addr, len) < 0)
		return EXIT_UNCLEAR;
	printf("LISTENING: @%s\n", args[0]);
	fflush(stdout);
	return serve_until(fd, seconds);
}

/* ---- the second wall: Landlock, with the namespaces' refusals put aside ---- */

/* Wait up to seconds for path to exist: the test's signal that a listener or a target is
 * ready where the sandbox's namespaces would let the probe reach it. */
static int wait_for_file(const char *path, const char *seconds_text)
{
	int seconds = parse_seconds(seconds_text);
	for (int i = 0; seconds > 0 && i < seconds * 20; i++) {
		if (access(path, F_OK) == 0)
			return 0;
		struct timespec pause = {0, 50000000L};
		nanosleep(&pause, NULL);
	}
	return -1;
}

static int cmd_connect_tcp_when(char **args)
{
	if (wait_for_file(args[2], args[3]) != 0)
		return verdict(EXIT_UNCLEAR, "connect", "%s never appeared", args[2]);
	return cmd_connect_tcp(args);
}

static int cmd_connect_abstract_when(char **args)
{
	if (wait_for_file(args[1], args[2]) != 0)
		return verdict(EXIT_UNCLEAR, "connect", "%s never appeared", args[1]);
	return cmd_connect_abstract(args);
}

static int cmd_bind_tcp(char **args)
{
	char what[256];
	struct addrinfo *ai;
	snprintf(what, sizeof(what), "bind tcp %s port %s", args[0], args[1]);
	if (resolve_tcp(args[0], args[1], 1, &ai) != 0)
		return EXIT_USAGE;
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int rc = fd < 0 ? -1 : bind(fd, ai->ai_addr, ai->ai_addrlen);
	int err = errno;
	freeaddrinfo(ai);
	if (fd >= 0)
		close(fd);
	if (rc == 0)
		return verdict(EXIT_ESCAPED, what, "bound");
	return verdict(EXIT_BLOCKED, what, "%s", errno_name(err));
}

/* A process that others try to signal: named, so that the probe inside can find it. */
static int cmd_named(char **args)
{
	prctl(PR_SET_NAME, args[0]);
	printf("NAMED: %s (pid %d)\n", args[0], (int)getpid());
	fflush(stdout);
	sleep_seconds(parse_seconds(args[1]));
	return 0;
}

/* The last NSpid of /proc/PID: its pid in the innermost pid namespace it is in, which is ours
 * when we are in that namespace, whichever /proc we read. */
static pid_t innermost_pid(pid_t pid)
{
	char path[64], line[256];
	pid_t inner = 0;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *file = fopen(path, "re");
	while (file && fgets(line, sizeof(line), file)) {
		if (strncmp(line, "NSpid:", 6) != 0)
			continue;
		for (char *word = strtok(line + 6, " \t\n"); word; word = strtok(NULL, " \t\n"))
			inner = (pid_t)atoi(word);
	}
	if (file)
		fclose(file);
	return inner;
}

/* The pid of a process called name, other than us, as our pid namespace numbers it (the host's
 * /proc shows it too, to a helper that entered the namespace); 0 if none. */
static pid_t find_named(const char *name)
{
	char path[64], comm[64];
	DIR *proc = opendir("/proc");
	pid_t found = 0;
	for (struct dirent *entry; proc && !found && (entry = readdir(proc));) {
		pid_t pid = (pid_t)atoi(entry->d_name);
		if (pid <= 0 || pid == getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
		FILE *file = fopen(path, "re");
		if (file && fgets(comm, sizeof(comm), file) &&
		    strcspn(comm, "\n") == strlen(name) && strncmp(comm, name, strlen(name)) == 0)
			found = innermost_pid(pid);
		if (file)
			fclose(file);
	}
	if (proc)
		closedir(proc);
	return found;
}

static int cmd_signal_named(char **args)
{
	char what[128];
	pid_t pid = 0;
	snprintf(what, sizeof(what), "SIGTERM to %s, a process outside the sandbox", args[0]);
	for (int i = 0; !pid && i < parse_seconds(args[1]) * 20; i++) {
		pid = find_named(args[0]);
		struct timespec pause = {0, 50000000L};
		if (!pid)
			nanosleep(&pause, NULL);
	}
	if (!pid)
		return verdict(EXIT_UNCLEAR, what, "no process called %s appeared", args[0]);
	if (kill(pid, SIGTERM) == 0)
		return verdict(EXIT_ESCAPED, what, "sent to pid %d", (int)pid);
	return verdict(EXIT_BLOCKED, what, "pid %d: %s", (int)pid, errno_name(errno));
}

/* Loopback up in the network namespace we are in: a fresh one has it down. */
static int loopback_up(void)
{
	struct ifreq ifr = {0};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	int rc = fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) != 0 ? -1 : 0;
	ifr.ifr_flags |= IFF_UP;
	if (rc == 0)
		rc = ioctl(fd, SIOCSIFFLAGS, &ifr);
	if (fd >= 0)
		close(fd);
	return rc;
}

static int enter_namespace(pid_t pid, const char *kind)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, kind);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rc = fd < 0 ? -1 : setns(fd, 0);
	if (rc != 0)
		fprintf(stderr, "probe: cannot enter %s: %s\n", path, errno_name(errno));
	if (fd >= 0)
		close(fd);
	return rc;
}

static int dispatch(int argc, char **argv);
static int usage(void);
/* A helper for the tests: without-landlock PROGRAM [ARG...] runs PROGRAM as on a kernel
 * without Landlock, whose first Landlock call answers ENOSYS: here a seccomp filter says so. */
static int cmd_without_landlock(char **argv)
{
	struct sock_filter code[] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_landlock_create_ruleset, 0, 1),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog program = {.len = ARRAY_SIZE(code), .filter = code};
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program) != 0) {
		fprintf(stderr, "probe: cannot install the filter: %s\n", errno_name(errno));
		return EXIT_UNCLEAR;
	}
	execvp(argv[0], argv);
	fprintf(stderr, "probe: cannot run %s: %s\n", argv[0], errno_name(errno));
	return EXIT_UNCLEAR;
}

/* A helper for the tests, not an escape: ns-of PID net|pid ATTEMPT [ARG...] runs ATTEMPT in
 * the user namespace of PID (ours: the sandbox runs as us) and in its network or pid
 * namespace, but outside its Landlock domain and its seccomp filter. What ATTEMPT reaches
 * there, the namespaces allow; if the sandboxed probe cannot reach it, something else
 * refused. In a network namespace, loopback is brought up first. */
static int cmd_ns_of(int argc, char **argv)
{
	pid_t pid = (pid_t)atoi(argv[0]);
	bool net = strcmp(argv[1], "net") == 0;
	if (pid <= 0 || (!net && strcmp(argv[1], "pid") != 0))
		return usage();
	if (enter_namespace(pid, "user") != 0 || enter_namespace(pid, argv[1]) != 0)
		return EXIT_UNCLEAR;
	if (net && loopback_up() != 0) {
		fprintf(stderr, "probe: cannot bring loopback up: %s\n", errno_name(errno));
		return EXIT_UNCLEAR;
	}
	if (net)
		return dispatch(argc - 2, argv + 2);
	/* A pid namespace takes only the children of who entered it. */
	int status;
	pid_t child = fork();
	if (child == 0)
		_exit(dispatch(argc - 2, argv + 2));
	if (child < 0 || waitpid(child, &status, 0) != child)
		return EXIT_UNCLEAR;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* ---- dispatch ---- */

struct command {
	const char *name;
	int args;	   /* exactly this many arguments */
	const char *usage; /* of the arguments */
	int (*run)(char **args);
};

static const struct command commands[] = {
    {"x32-syscall", 0, "", cmd_x32_syscall},
    {"i386-int80", 0, "", cmd_i386_int80},
    {"capabilities", 0, "", cmd_capabilities},
    {"no-new-privs", 0, "", cmd_no_new_privs},
    {"read-file", 1, "PATH", cmd_read_file},
    {"write-file", 1, "PATH", cmd_write_file},
    {"writable-mount", 1, "PATH", cmd_writable_mount},
    {"connect-tcp", 2, "HOST PORT", cmd_connect_tcp},
    {"connect-abstract", 1, "NAME", cmd_connect_abstract},
    {"fds", 0, "", cmd_fds},
    {"env", 1, "NAME", cmd_env},
    {"daemon", 1, "DIR", cmd_daemon},
    /* Helpers, not escapes: for the tests, outside and inside the sandbox. */
    {"listen-tcp", 3, "HOST PORT SECONDS", cmd_listen_tcp},
    {"listen-abstract", 2, "NAME SECONDS", cmd_listen_abstract},
    {"session", 0, "", cmd_session},
    {"persona-linux", 0, "", cmd_persona_linux},
    {"bind-tcp", 2, "HOST PORT", cmd_bind_tcp},
    {"connect-tcp-when", 4, "HOST PORT FILE SECONDS", cmd_connect_tcp_when},
    {"connect-abstract-when", 3, "NAME FILE SECONDS", cmd_connect_abstract_when},
    {"signal-named", 2, "NAME SECONDS", cmd_signal_named},
    {"named", 2, "NAME SECONDS", cmd_named},
    {"crash", 0, "", cmd_crash},
};

static int usage(void)
{
	fprintf(stderr, "usage: probe ATTEMPT [ARG...]\nattempts:");
	for (size_t i = 0; i < ARRAY_SIZE(syscall_attempts); i++)
		fprintf(stderr, " %s%s", syscall_attempts[i].name,
			syscall_attempts[i].default_arg ? " [PATH]" : "");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(stderr, " %s%s%s", commands[i].name, commands[i].args ? " " : "",
			commands[i].usage);
	fprintf(stderr, " ns-of PID net|pid ATTEMPT [ARG...] without-landlock PROGRAM [ARG...]\n");
	return EXIT_USAGE;
}

/* argv[0] is the attempt's name. */
static int dispatch(int argc, char **argv)
{
	if (argc < 1)
		return usage();
	if (strcmp(argv[0], "ns-of") == 0)
		return argc >= 4 ? cmd_ns_of(argc - 1, argv + 1) : usage();
	if (strcmp(argv[0], "without-landlock") == 0)
		return argc >= 2 ? cmd_without_landlock(argv + 1) : usage();
	for (size_t i = 0; i < ARRAY_SIZE(syscall_attempts); i++) {
		const struct syscall_attempt *attempt = &syscall_attempts[i];
		if (strcmp(argv[0], attempt->name) != 0)
			continue;
		if (argc > 2 || (argc == 2 && !attempt->default_arg))
			return usage();
		return run_syscall_attempt(attempt, argc == 2 ? argv[1] : attempt->default_arg);
	}
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (strcmp(argv[0], commands[i].name) == 0)
			return argc - 1 == commands[i].args ? commands[i].run(argv + 1) : usage();
	return usage();
}

int main(int argc, char **argv)
{
	return dispatch(argc - 1, argv + 1);
}

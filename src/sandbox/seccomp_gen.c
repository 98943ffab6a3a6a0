/* SPDX-License-Identifier: ISC */
/*
 * Build-time tool: compiles gitcage's seccomp filter with libseccomp and prints it as a C
 * array of BPF instructions. The binary loads that array directly, which costs microseconds,
 * where building the same filter with libseccomp at every start costs about 0.3 ms.
 *
 * The filter is a deny-list on top of the default "allow": git needs most of the kernel, and
 * what we refuse are the surfaces a compromised git could use to escape or to attack the
 * kernel (DESIGN.md, threat model).
 */
#include <errno.h>
#include <linux/filter.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* Refused outright with EPERM. */
static const char *const refused_syscalls[] = {
    /* New namespaces and joining others': the sandbox must stay the only one. Nested user
     * namespaces would hand a compromised git full capabilities over new mounts. */
    "unshare",
    "setns",
    /* The mount table is the sandbox: no changing it, old API or new. */
    "mount",
    "umount",
    "umount2",
    "pivot_root",
    "chroot",
    "fsopen",
    "fsmount",
    "fsconfig",
    "fspick",
    "open_tree",
    "move_mount",
    "mount_setattr",
    /* Kernel surfaces with a long history of privilege escalations. */
    "keyctl",
    "add_key",
    "request_key",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    /* Inspecting or steering other processes. */
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "kcmp",
    "open_by_handle_at",
    "name_to_handle_at",
    "pidfd_getfd",
    /* Whole-system operations; they need capabilities we never hold, refused regardless. */
    "init_module",
    "finit_module",
    "delete_module",
    "kexec_load",
    "kexec_file_load",
    "reboot",
    "swapon",
    "swapoff",
    "acct",
    "quotactl",
    "quotactl_fd",
    "syslog",
    "uselib",
    "lookup_dcookie",
    "vhangup",
    "nfsservctl",
    "fanotify_init",
};

/* Every namespace flag: clone() with any of them would start a nested sandbox escape. */
static const unsigned long long namespace_flags[] = {
    CLONE_NEWUSER, CLONE_NEWNS,	 CLONE_NEWPID,	  CLONE_NEWNET,
    CLONE_NEWIPC,  CLONE_NEWUTS, CLONE_NEWCGROUP,
};

static void check(int rc, const char *what)
{
	if (rc < 0) {
		fprintf(stderr, "seccomp-gen: %s: %s\n", what, strerror(-rc));
		exit(1);
	}
}

static void add_refusals(scmp_filter_ctx ctx)
{
	for (size_t i = 0; i < sizeof(refused_syscalls) / sizeof(refused_syscalls[0]); i++) {
		int nr = seccomp_syscall_resolve_name(refused_syscalls[i]);
		if (nr == __NR_SCMP_ERROR) {
			fprintf(stderr, "seccomp-gen: unknown syscall %s\n", refused_syscalls[i]);
			exit(1);
		}
		check(seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0), refused_syscalls[i]);
	}
}

/* Only the two personas git or the C library may ask for: PER_LINUX (0) and the query
 * 0xffffffff, which changes nothing. Every other value is refused, above all ADDR_NO_RANDOMIZE
 * (an exploit's way to turn off address randomization for what it execs next) and
 * READ_IMPLIES_EXEC (every readable mapping executable).
 * libseccomp takes one comparison per argument and rule, so the refusal is a union of rules:
 * any value with high bits set (the kernel reads only the low 32: 1 << 32 | ADDR_NO_RANDOMIZE
 * must not pass as "PER_LINUX"), and any low half that is neither all zeros nor all ones. Such a
 * half, read around in a circle, has a set bit followed by a clear one somewhere: one rule per
 * position j matches "bit j set, bit j+1 clear, high half zero". */
static void add_personality_rule(scmp_filter_ctx ctx)
{
	check(seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(personality), 1,
			       SCMP_A0(SCMP_CMP_GT, 0xffffffffULL)),
	      "personality, high bits");
	for (unsigned j = 0; j < 32; j++) {
		scmp_datum_t set = 1ULL << j, clear = 1ULL << ((j + 1) % 32);
		scmp_datum_t mask = 0xffffffff00000000ULL | set | clear;
		check(seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(personality), 1,
				       SCMP_A0(SCMP_CMP_MASKED_EQ, mask, set)),
		      "personality");
	}
}

static void add_argument_rules(scmp_filter_ctx ctx)
{
	for (size_t i = 0; i < sizeof(namespace_flags) / sizeof(namespace_flags[0]); i++)
		check(seccomp_rule_add(
			  ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
			  SCMP_A0(SCMP_CMP_MASKED_EQ, namespace_flags[i], namespace_flags[i])),
		      "clone");
	/* clone3 passes its flags in memory that BPF cannot read. ENOSYS makes glibc fall back
	 * to clone(), whose flags the rules above can see. */
	check(seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0), "clone3");
	/* TIOCSTI pushes input into the terminal of whoever holds it; TIOCLINUX can do the same
	 * on a virtual console. The kernel compares only the low 32 bits of the request, so the
	 * filter must too, or a request with high bits set would slip past it. */
	check(seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
			       SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffULL, TIOCSTI)),
	      "ioctl TIOCSTI");
	check(seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
			       SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffULL, TIOCLINUX)),
	      "ioctl TIOCLINUX");
	/* Sockets only of the families git and the C library use: unix, inet, inet6, netlink.
	 * The others reach past the network namespace (vsock talks to the hypervisor) or open
	 * kernel surfaces with a history of bugs (AF_ALG, the old protocol families). */
	for (int family = 3; family <= 15; family++)
		if (family != AF_INET6)
			check(seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(socket), 1,
					       SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)family)),
			      "socket family");
	check(seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(socket), 1,
			       SCMP_A0(SCMP_CMP_GE, (scmp_datum_t)AF_PACKET + 1)),
	      "socket families above AF_PACKET");
	/* Raw packet sockets see and forge link-layer traffic. */
	check(seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), SCMP_SYS(socket), 1,
			       SCMP_A0(SCMP_CMP_EQ, AF_PACKET)),
	      "socket AF_PACKET");
	add_personality_rule(ctx);
}

static void print_program(scmp_filter_ctx ctx)
{
	FILE *raw = tmpfile();
	if (!raw)
		exit(1);
	check(seccomp_export_bpf(ctx, fileno(raw)), "export");
	rewind(raw);
	printf("/* Generated by seccomp-gen from src/sandbox/seccomp_gen.c. Do not edit. */\n");
	printf("static const struct sock_filter seccomp_program[] = {\n");
	struct sock_filter insn;
	while (fread(&insn, sizeof(insn), 1, raw) == 1)
		printf("\t{ 0x%04x, %u, %u, 0x%08x },\n", insn.code, insn.jt, insn.jf, insn.k);
	printf("};\n");
	fclose(raw);
}

int main(void)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx)
		return 1;
	/* A syscall made through another ABI (x32, or int 0x80 on x86_64) bypasses rules written
	 * for the native numbers: kill the whole process instead. */
	check(seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS), "badarch");
	/* A binary tree over the syscall numbers: every syscall git makes runs through this
	 * filter, and a tree finds its place in a few comparisons where a list takes dozens. */
	check(seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2), "optimize");
	add_refusals(ctx);
	add_argument_rules(ctx);
	print_program(ctx);
	seccomp_release(ctx);
	return 0;
}

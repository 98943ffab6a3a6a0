/* SPDX-License-Identifier: ISC */
/* Landlock through its three raw system calls: no library is needed, and Debian 12's
 * <linux/landlock.h> knows only ABI 2, so the later parts of the ABI (stable, as every kernel
 * ABI) are spelt out here. */
#include "sandbox/landlock.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <linux/types.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/util.h"

#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14) /* ABI 3 */
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15) /* ABI 5 */
#endif
#ifndef LANDLOCK_ACCESS_NET_BIND_TCP
#define LANDLOCK_ACCESS_NET_BIND_TCP	(1ULL << 0) /* ABI 4 */
#define LANDLOCK_ACCESS_NET_CONNECT_TCP (1ULL << 1)
#endif
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0) /* ABI 6 */
#define LANDLOCK_SCOPE_SIGNAL		    (1ULL << 1)
#endif

/* The ruleset attribute as of ABI 6. The kernel reads as many bytes as it is told, and refuses
 * non-zero bytes it does not know: older kernels get a shorter size (ruleset_size). */
struct ruleset_attr {
	__u64 handled_access_fs;
	__u64 handled_access_net;
	__u64 scoped;
};

#define FS_READ                                                                                    \
	(LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)
#define FS_DEVICES                                                                                 \
	(FS_READ | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_TRUNCATE |                   \
	 LANDLOCK_ACCESS_FS_IOCTL_DEV)
/* Everything: what the ruleset handles is denied wherever no rule grants it. */
#define FS_ALL                                                                                     \
	(FS_DEVICES | LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |             \
	 LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR |                              \
	 LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK |                              \
	 LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |                            \
	 LANDLOCK_ACCESS_FS_MAKE_SYM | LANDLOCK_ACCESS_FS_REFER)
/* The rights that mean something on a file rather than a directory: the kernel refuses a rule
 * on a file that grants any other. */
#define FS_FILE_RIGHTS                                                                             \
	(LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |                              \
	 LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_TRUNCATE |                              \
	 LANDLOCK_ACCESS_FS_IOCTL_DEV)

int landlock_abi(void)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	/* ENOSYS: not built in; EOPNOTSUPP: built in, but not enabled at boot (lsm=). */
	return abi < 0 ? 0 : (int)abi;
}

/* The file system rights this ABI knows: each later ABI handles one more. */
static __u64 fs_rights(int abi)
{
	__u64 rights = FS_ALL;
	if (abi < 2)
		rights &= ~LANDLOCK_ACCESS_FS_REFER;
	if (abi < 3)
		rights &= ~LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi < 5)
		rights &= ~LANDLOCK_ACCESS_FS_IOCTL_DEV;
	return rights;
}

void landlock_describe(char *buf, size_t size)
{
	int abi = landlock_abi();
	if (abi == 0) {
		xsnprintf(buf, size, "no Landlock on this kernel (the other walls stand)");
		return;
	}
	xsnprintf(buf, size, "Landlock ABI %d: the file system%s%s", abi,
		  abi >= 4 ? ", TCP bind and connect" : " (no TCP rules before ABI 4)",
		  abi >= 6 ? ", abstract unix sockets and signals"
			   : " (no socket or signal scopes before ABI 6)");
}

static __u64 rule_rights(enum landlock_access access)
{
	switch (access) {
	case LANDLOCK_LIST:
		return LANDLOCK_ACCESS_FS_READ_DIR;
	case LANDLOCK_READ:
		return FS_READ;
	case LANDLOCK_DEVICES:
		return FS_DEVICES;
	case LANDLOCK_WRITE:
		return FS_ALL;
	}
	die("sandbox: unknown Landlock access %d", (int)access); /* fail safe */
}

static void add_rule(int ruleset, const struct landlock_rule *rule, __u64 handled)
{
	struct stat st;
	int fd = open(rule->path, O_PATH | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return; /* nothing there to reach: no rule needed */
	if (fd < 0 || fstat(fd, &st) != 0)
		die_errno("sandbox: Landlock cannot open %s", rule->path);
	__u64 rights = rule_rights(rule->access) & handled;
	if (!S_ISDIR(st.st_mode))
		rights &= FS_FILE_RIGHTS;
	struct landlock_path_beneath_attr beneath = {.allowed_access = rights, .parent_fd = fd};
	if (syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &beneath, 0) != 0)
		die_errno("sandbox: Landlock refused the rule for %s", rule->path);
	close(fd);
}

static size_t ruleset_size(int abi)
{
	if (abi >= 6)
		return sizeof(struct ruleset_attr);
	if (abi >= 4)
		return offsetof(struct ruleset_attr, scoped);
	return offsetof(struct ruleset_attr, handled_access_net);
}

int landlock_restrict(const struct landlock_rule *rules, size_t count)
{
	int abi = landlock_abi();
	if (abi == 0)
		return 0;
	/* No rule grants a network right: handling both denies every TCP bind and connect. */
	struct ruleset_attr attr = {
	    .handled_access_fs = fs_rights(abi),
	    .handled_access_net =
		abi >= 4 ? LANDLOCK_ACCESS_NET_BIND_TCP | LANDLOCK_ACCESS_NET_CONNECT_TCP : 0,
	    .scoped = abi >= 6 ? LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL : 0,
	};
	int ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, ruleset_size(abi), 0);
	if (ruleset < 0)
		die_errno("sandbox: cannot create the Landlock ruleset");
	for (size_t i = 0; i < count; i++)
		add_rule(ruleset, &rules[i], attr.handled_access_fs);
	if (syscall(SYS_landlock_restrict_self, ruleset, 0) != 0)
		die_errno("sandbox: cannot enforce the Landlock ruleset");
	close(ruleset);
	return abi;
}

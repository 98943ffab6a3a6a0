/* SPDX-License-Identifier: ISC */
/* src/sandbox/landlock.c on the running kernel: each test restricts a child and checks, from
 * inside it, what the rules allow and refuse. The probe (tests/security) shows the same inside
 * the real sandbox. A kernel without Landlock is emulated with a seccomp filter that answers
 * ENOSYS, as such a kernel would. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "sandbox/landlock.h"

struct fixture {
	char dir[64];	    /* the test's own tree: read/, write/, outside */
	char read_dir[96];  /* a LANDLOCK_READ rule */
	char write_dir[96]; /* a LANDLOCK_WRITE rule */
	char outside[96];   /* a file no rule covers */
};

static void write_text(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char path[160];
	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/gitcage-landlock.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->read_dir, sizeof(f->read_dir), "%s/read", f->dir);
	snprintf(f->write_dir, sizeof(f->write_dir), "%s/write", f->dir);
	snprintf(f->outside, sizeof(f->outside), "%s/outside", f->dir);
	if (mkdir(f->read_dir, 0755) != 0 || mkdir(f->write_dir, 0755) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/file", f->read_dir);
	write_text(path, "readable\n");
	write_text(f->outside, "secret\n");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char command[128];
	snprintf(command, sizeof(command), "rm -rf '%s'", f->dir);
	if (system(command) != 0)
		return -1;
	free(f);
	return 0;
}

/* Run check in a child restricted by rules; returns what check returned (0: as expected), or
 * 100 + the signal that killed the child. */
static int in_restricted_child(const struct fixture *f, int (*check)(const struct fixture *))
{
	const struct landlock_rule rules[] = {
	    {f->read_dir, LANDLOCK_READ},
	    {f->write_dir, LANDLOCK_WRITE},
	    {"/usr", LANDLOCK_READ},
	    {"/does/not/exist", LANDLOCK_READ}, /* skipped, as the header says */
	};
	int status;
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
			_exit(90);
		if (landlock_restrict(rules, sizeof(rules) / sizeof(rules[0])) < 1)
			_exit(91);
		_exit(check(f));
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
}

static int open_errno(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC, 0644);
	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

static int check_files(const struct fixture *f)
{
	char path[160];
	snprintf(path, sizeof(path), "%s/file", f->read_dir);
	if (open_errno(path, O_RDONLY) != 0)
		return 1; /* a read rule reads */
	if (open_errno(path, O_WRONLY) != EACCES)
		return 2; /* and does not write */
	snprintf(path, sizeof(path), "%s/new", f->read_dir);
	if (open_errno(path, O_WRONLY | O_CREAT) != EACCES)
		return 3;
	if (open_errno(f->outside, O_RDONLY) != EACCES)
		return 4; /* no rule, no access, though the file is right there */
	snprintf(path, sizeof(path), "%s/new", f->write_dir);
	if (open_errno(path, O_WRONLY | O_CREAT) != 0 || unlink(path) != 0)
		return 5; /* a write rule creates and removes */
	if (open_errno("/etc/passwd", O_RDONLY) != EACCES)
		return 6;
	return 0;
}

static void test_files_beneath_the_rules_only(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(in_restricted_child(f, check_files), 0);
}

static int tcp_errno(int (*call)(int, const struct sockaddr *, socklen_t), uint16_t port)
{
	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	int rc = call(fd, (const struct sockaddr *)&addr, sizeof(addr)) == 0 ? 0 : errno;
	close(fd);
	return rc;
}

static int check_tcp(const struct fixture *f)
{
	(void)f;
	if (landlock_abi() < 4)
		return 0; /* nothing to check: the header says so */
	if (tcp_errno(bind, 0) != EACCES)
		return 1;
	if (tcp_errno(connect, 9) != EACCES)
		return 2;
	return 0;
}

static void test_tcp_bind_and_connect_denied(void **state)
{
	struct fixture *f = *state;
	if (landlock_abi() < 4)
		print_message(
		    "this kernel's Landlock has no TCP rules (ABI < 4): nothing denied\n");
	assert_int_equal(in_restricted_child(f, check_tcp), 0);
}

/* The parent is outside the child's Landlock domain: from ABI 6 on, no signal reaches it. */
static int check_signal(const struct fixture *f)
{
	(void)f;
	if (landlock_abi() < 6)
		return 0;
	return kill(getppid(), 0) == -1 && errno == EPERM ? 0 : 1;
}

static void test_signals_scoped(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(in_restricted_child(f, check_signal), 0);
	assert_int_equal(kill(getpid(), 0), 0); /* control: unrestricted, the same call works */
}

/* An abstract socket that the parent listens on, outside the child's domain. */
static int check_abstract(const struct fixture *f)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	if (landlock_abi() < 6)
		return 0;
	snprintf(addr.sun_path + 1, sizeof(addr.sun_path) - 1, "%s", f->dir);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(f->dir));
	return connect(fd, (struct sockaddr *)&addr, len) == -1 && errno == EPERM ? 0 : 1;
}

static void test_abstract_unix_sockets_scoped(void **state)
{
	struct fixture *f = *state;
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	snprintf(addr.sun_path + 1, sizeof(addr.sun_path) - 1, "%s", f->dir);
	socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(f->dir));
	int listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(bind(listener, (struct sockaddr *)&addr, len), 0);
	assert_int_equal(listen(listener, 4), 0);
	/* control: an unrestricted client gets in */
	int client = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(connect(client, (struct sockaddr *)&addr, len), 0);
	close(client);
	assert_int_equal(in_restricted_child(f, check_abstract), 0);
	close(listener);
}

/* A kernel without Landlock answers ENOSYS: emulate one with a filter that says so. */
static void refuse_landlock_with_enosys(void)
{
	struct sock_filter code[] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_landlock_create_ruleset, 0, 1),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog program = {.len = sizeof(code) / sizeof(code[0]), .filter = code};
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program) != 0)
		_exit(90);
}

static void test_a_kernel_without_landlock_changes_nothing(void **state)
{
	struct fixture *f = *state;
	const struct landlock_rule rules[] = {{f->read_dir, LANDLOCK_READ}};
	char line[160];
	int status;
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		refuse_landlock_with_enosys();
		landlock_describe(line, sizeof(line));
		if (strcmp(line, "no Landlock on this kernel (the other walls stand)") != 0)
			_exit(1);
		if (landlock_restrict(rules, 1) != 0)
			_exit(2);
		_exit(open_errno(f->outside, O_RDONLY) == 0 ? 0 : 3); /* nothing changed */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_describe_names_the_abi(void **state)
{
	char line[160], expected[32];
	(void)state;
	landlock_describe(line, sizeof(line));
	if (landlock_abi() == 0) {
		print_message("SKIP: this kernel has no Landlock\n");
		skip();
	}
	snprintf(expected, sizeof(expected), "Landlock ABI %d: ", landlock_abi());
	assert_true(strncmp(line, expected, strlen(expected)) == 0);
}

#define TEST(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    TEST(test_files_beneath_the_rules_only),
	    TEST(test_tcp_bind_and_connect_denied),
	    TEST(test_signals_scoped),
	    TEST(test_abstract_unix_sockets_scoped),
	    TEST(test_a_kernel_without_landlock_changes_nothing),
	    TEST(test_describe_names_the_abi),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: ISC */
#include "txn/notify.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"

/* stdin: the updates, in a memfd, so that a slow or absent reader never blocks anyone. */
static int updates_fd(const char *updates)
{
	int fd = memfd_create("gitcage-notify", MFD_CLOEXEC);
	if (fd < 0 || write_all(fd, updates, strlen(updates)) != 0 || lseek(fd, 0, SEEK_SET) != 0)
		_exit(EXIT_GITCAGE);
	return fd;
}

static _Noreturn void exec_command(const struct notify_request *request, int input)
{
	char user[128], repo[4200];
	snprintf(user, sizeof(user), "GITCAGE_USER=%s", request->user);
	snprintf(repo, sizeof(repo), "GITCAGE_REPO=%s", request->repo);
	char *env[] = {"PATH=/usr/local/bin:/usr/bin:/bin", user, repo, NULL};
	char *argv[] = {"/bin/sh", "-c", (char *)request->command, NULL};
	setpgid(0, 0);
	signal(SIGPIPE, SIG_DFL); /* gitcage ignores it; the command gets the default */
	dup2(input, STDIN_FILENO);
	execve(argv[0], argv, env);
	_exit(EXIT_CANNOT_EXEC);
}

/* The detached supervisor: runs the command, enforces the time limit, records the outcome. */
static _Noreturn void supervise(const struct notify_request *request)
{
	/* Nothing of the push may leak into it: the repository fd, the client's ssh channel. */
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	for (int fd = 0; fd <= 2; fd++)
		dup2(null, fd);
	close_range(3, ~0U, 0);
	int input = updates_fd(request->updates);
	long long start = clock_ms();
	pid_t child = fork();
	if (child == 0)
		exec_command(request, input);
	int status = 0, timed_out = 0;
	alarm(request->timeout ? request->timeout : 60);
	sigset_t alarm_set;
	sigemptyset(&alarm_set);
	sigaddset(&alarm_set, SIGALRM);
	sigprocmask(SIG_BLOCK, &alarm_set, NULL);
	while (child > 0 && waitpid(child, &status, WNOHANG) == 0) {
		struct timespec tick = {0, 20 * 1000 * 1000};
		if (sigtimedwait(&alarm_set, NULL, &tick) == SIGALRM) {
			timed_out = 1;
			kill(-child, SIGKILL);
			waitpid(child, &status, 0);
		}
	}
	char reason[64] = "";
	if (child < 0 || timed_out)
		snprintf(reason, sizeof(reason), child < 0 ? "could not start" : "timed out");
	else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		snprintf(reason, sizeof(reason), "exit status %d",
			 WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	struct audit_record record = {
	    .user = request->user,
	    .service = "notify",
	    .repo = request->repo,
	    .verdict = *reason ? AUDIT_FAILED : AUDIT_OK,
	    .reason = *reason ? reason : NULL,
	    .duration_ms = clock_ms() - start,
	    .exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1,
	};
	audit_write(request->audit, &record);
	_exit(0);
}

int notify_start(const struct notify_request *request)
{
	/* Double fork: the supervisor is nobody's child that waits, so gitcage exits at once. */
	int pipe_fds[2];
	if (pipe2(pipe_fds, O_CLOEXEC) != 0)
		return -1;
	pid_t middle = fork();
	if (middle < 0)
		return -1;
	if (middle == 0) {
		setsid();
		pid_t supervisor = fork();
		if (supervisor == 0)
			supervise(request);
		(void)write_all(pipe_fds[1], &supervisor, sizeof(supervisor));
		_exit(0);
	}
	close(pipe_fds[1]);
	pid_t supervisor = -1;
	if (read(pipe_fds[0], &supervisor, sizeof(supervisor)) != sizeof(supervisor))
		supervisor = -1;
	close(pipe_fds[0]);
	waitpid(middle, NULL, 0);
	return supervisor;
}

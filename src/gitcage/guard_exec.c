/* SPDX-License-Identifier: ISC */
#include "gitcage/guard_exec.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/close_range.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "gitcage/verbs.h"

#ifndef GITCAGE_GUARD_PATH
#define GITCAGE_GUARD_PATH "/usr/local/lib/gitcage/gitcage-guard"
#endif

#define GUARD_REPO_FD	  3
#define GUARD_SNAPSHOT_FD 4
#define MAX_GUARD_ARGS	  40

/* The guard runs with nothing of ours but these. */
static char *const guard_env[] = {"PATH=/usr/bin:/bin", "LC_ALL=C", NULL};

void guard_path(char *out, size_t size)
{
	char self[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (len > 0) {
		self[len] = '\0';
		char *slash = strrchr(self, '/');
		if (slash && (size_t)(slash - self) + sizeof("/gitcage-guard") <= size) {
			*slash = '\0';
			snprintf(out, size, "%s/gitcage-guard", self);
			if (access(out, X_OK) == 0)
				return;
		}
	}
	snprintf(out, size, "%s", GITCAGE_GUARD_PATH);
}

/* Move the two fds to 3 and 4 (through high numbers, so that neither overwrites the other)
 * and mark every other fd but stdio close-on-exec. dup2 leaves 3 and 4 inheritable. */
static int place_fds(int repo_fd, int snapshot_fd)
{
	int repo = fcntl(repo_fd, F_DUPFD_CLOEXEC, 10);
	int snapshot = fcntl(snapshot_fd, F_DUPFD_CLOEXEC, 10);
	if (repo < 0 || snapshot < 0 || dup2(repo, GUARD_REPO_FD) < 0 ||
	    dup2(snapshot, GUARD_SNAPSHOT_FD) < 0)
		return -1;
	return close_range(GUARD_SNAPSHOT_FD + 1, ~0U, CLOSE_RANGE_CLOEXEC);
}

static void add(const char **argv, size_t *n, const char *option, const char *value)
{
	if (!value || *n + 3 > MAX_GUARD_ARGS)
		return;
	argv[(*n)++] = option;
	argv[(*n)++] = value;
}

int guard_exec_write(const struct guard_call *call)
{
	char path[PATH_MAX], status[16], start[48];
	const char *argv[MAX_GUARD_ARGS];
	size_t n = 0;
	if (place_fds(call->repo_fd, call->snapshot_fd) != 0)
		return -1;
	guard_path(path, sizeof(path));
	snprintf(status, sizeof(status), "%d", call->git_status);
	snprintf(start, sizeof(start), "%lld.%09ld", (long long)call->start.tv_sec,
		 call->start.tv_nsec);
	argv[n++] = path;
	argv[n++] = "write";
	add(argv, &n, "--repo-fd", "3");
	add(argv, &n, "--snapshot-fd", "4");
	add(argv, &n, "--service", call->service);
	add(argv, &n, "--user", call->user);
	add(argv, &n, "--key", call->key);
	add(argv, &n, "--client", call->client);
	add(argv, &n, "--repo", call->repo);
	add(argv, &n, "--config", call->config_path);
	add(argv, &n, "--status", status);
	add(argv, &n, "--start", start);
	argv[n] = NULL;
	execve(path, (char *const *)argv, guard_env);
	return -1;
}

/* gitcage verify DIR...: the guard does the work, with libgit2. */
int verb_verify(const struct global_options *options, int argc, char **argv)
{
	struct config cfg;
	char path[PATH_MAX];
	const char **guard_argv;
	if (argc < 2)
		die("usage: gitcage [--config FILE] verify DIR...");
	verbs_load_config(options, 1, &cfg);
	guard_path(path, sizeof(path));
	guard_argv = xcalloc((size_t)argc + 5, sizeof(*guard_argv));
	size_t n = 0;
	guard_argv[n++] = path;
	guard_argv[n++] = "verify";
	if (cfg.file) {
		guard_argv[n++] = "--config";
		guard_argv[n++] = cfg.file;
	}
	guard_argv[n++] = "--";
	for (int i = 1; i < argc; i++)
		guard_argv[n++] = argv[i];
	execve(path, (char *const *)guard_argv, guard_env);
	die_errno("verify: cannot run %s", path);
}

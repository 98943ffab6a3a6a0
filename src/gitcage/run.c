/* SPDX-License-Identifier: ISC */
/* gitcage run: a command in the sandbox, for CI and tooling on untrusted repositories. */
#include <getopt.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gitcage/guard_exec.h"
#include "sandbox/hygiene.h"
#include "sandbox/sandbox.h"
#include "common/util.h"
#include "gitcage/verbs.h"

struct run_options {
	const char *repo;
	int writable;
	char **command;
};

static void parse_run_options(int argc, char **argv, struct run_options *out)
{
	static const struct option long_options[] = {
	    {"repo", required_argument, NULL, 'r'},
	    {"writable", no_argument, NULL, 'w'},
	    {NULL, 0, NULL, 0},
	};
	int opt;
	optind = 1;
	/* "+": the first non-option word starts the command, whose own options stay its own. */
	while ((opt = getopt_long(argc, argv, "+", long_options, NULL)) != -1) {
		if (opt == 'r')
			out->repo = optarg;
		else if (opt == 'w')
			out->writable = 1;
		else
			die("usage: gitcage run [--repo DIR [--writable]] [--] COMMAND [ARG...]");
	}
	if (optind >= argc)
		die("run: no command given (usage: gitcage run [--repo DIR [--writable]] "
		    "[--] COMMAND [ARG...])");
	if (out->writable && !out->repo)
		die("run: --writable needs --repo DIR");
	out->command = argv + optind;
}

/* After a writable run: gitcage-guard verifies the repository against the snapshot, rolls
 * back what must not stay, and writes the audit record. */
static _Noreturn void hand_over(const struct config *cfg, const char *repo_path, int repo_fd,
				int snapshot_fd, const struct timespec *start, int status)
{
	char uid[32];
	struct passwd *pw = getpwuid(getuid());
	snprintf(uid, sizeof(uid), "%u", (unsigned)getuid());
	struct guard_call call = {
	    .service = "run",
	    .user = pw ? pw->pw_name : uid,
	    .repo = repo_path,
	    .config_path = cfg->file,
	    .git_status = status,
	    .start = *start,
	    .repo_fd = repo_fd,
	    .snapshot_fd = snapshot_fd,
	};
	guard_exec_write(&call);
	die_errno("run: cannot verify %s", repo_path);
}

int verb_run(const struct global_options *options, int argc, char **argv)
{
	struct timespec start;
	struct error err;
	int snapshot_fd = -1;
	struct run_options run = {0};
	struct config cfg;
	char *repo_path cleanup_free = NULL;
	int repo_fd cleanup_fd = -1;

	clock_gettime(CLOCK_MONOTONIC, &start);
	parse_run_options(argc, argv, &run);
	hygiene_refuse_root();
	verbs_load_config(options, 1, &cfg);
	if (run.repo) {
		/* The caller names the directory, so its path is trusted; its content is not. */
		repo_path = realpath(run.repo, NULL);
		if (!repo_path)
			die_errno("run: %s", run.repo);
		repo_fd = open(repo_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (repo_fd < 0)
			die_errno("run: %s", repo_path);
	}
	struct sandbox_spec spec = {
	    .repo_path = repo_path,
	    .repo_fd = repo_fd,
	    .writable = run.writable,
	    .argv = run.command,
	    .envp = hygiene_sandbox_env(1, 0),
	    .limits = &cfg.limits,
	};
	struct sandbox_result result;
	if (run.writable && (snapshot_fd = snapshot_take_memfd(repo_fd, &err)) < 0)
		die("run: %s: %s", repo_path, err.message);
	sandbox_run(&spec, &result);
	if (result.timed_out)
		warn_line("run: the command ran past the timeout of %llu s and was killed",
			  cfg.limits.timeout);
	int status = sandbox_exit_status(&result);
	if (run.writable)
		hand_over(&cfg, repo_path, repo_fd, snapshot_fd, &start, status);
	config_free(&cfg);
	return status;
}

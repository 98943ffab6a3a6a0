/* SPDX-License-Identifier: ISC */
/* gitcage verify DIR...: gitcage-guard does the work, with libgit2. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"
#include "gitcage/repo.h"
#include "gitcage/verbs.h"
#include "txn/verifier.h"

/* What serve would refuse before the guard looks at anything: a repository not owned by the
 * service account (the owner of the repositories root, else whoever runs this), a gitfile, a
 * commondir, alternates outside the root. Returns the number of such repositories. */
static int check_servable(const struct config *cfg, int argc, char **argv)
{
	char root[PATH_MAX] = "/";
	struct stat st;
	uid_t owner = geteuid();
	if (cfg->repositories && realpath(cfg->repositories, root) && stat(root, &st) == 0)
		owner = st.st_uid;
	int problems = 0;
	for (int i = 1; i < argc; i++) {
		struct error err;
		cleanup_fd int fd = open(argv[i], O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0 && repo_check_layout(fd, root, owner, &err) != 0) {
			printf("%s: cannot be served: %s\n", argv[i], err.message);
			problems++;
		}
	}
	fflush(stdout);
	return problems;
}

/* The guard's own audit, after ours; its status, or 1 when ours found anything. */
static int run_guard(const char *path, char **argv, char *const *env, int problems)
{
	pid_t pid = fork();
	if (pid < 0)
		die_errno("verify: cannot fork");
	if (pid == 0) {
		execve(path, argv, env);
		die_errno("verify: cannot run %s", path);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			die_errno("verify: cannot wait for %s", path);
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : EXIT_GITCAGE;
	return code == 0 && problems ? 1 : code;
}

int verb_verify(const struct global_options *options, int argc, char **argv)
{
	static char *const env[] = {"PATH=/usr/bin:/bin", "LC_ALL=C", NULL};
	struct config cfg;
	char path[PATH_MAX];
	if (argc < 2)
		die("usage: gitcage [--config FILE] verify DIR...");
	verbs_load_config(options, 1, &cfg);
	verifier_guard_path(path, sizeof(path));
	struct strvec guard_argv = {0};
	strvec_push(&guard_argv, path);
	strvec_push(&guard_argv, "verify");
	if (cfg.file) {
		strvec_push(&guard_argv, "--config");
		strvec_push(&guard_argv, cfg.file);
	}
	strvec_push(&guard_argv, "--");
	for (int i = 1; i < argc; i++)
		strvec_push(&guard_argv, argv[i]);
	int problems = check_servable(&cfg, argc, argv);
	return run_guard(path, guard_argv.items, env, problems);
}

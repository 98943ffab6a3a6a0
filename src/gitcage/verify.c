/* SPDX-License-Identifier: ISC */
/* gitcage verify DIR...: gitcage-guard does the work, with libgit2. */
#include <limits.h>
#include <unistd.h>

#include "common/util.h"
#include "gitcage/verbs.h"
#include "txn/verifier.h"

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
	execve(path, guard_argv.items, env);
	die_errno("verify: cannot run %s", path);
}

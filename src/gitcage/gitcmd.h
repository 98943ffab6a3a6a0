/* SPDX-License-Identifier: ISC */
/* The trusted git command line. Every setting that decides what git executes or trusts comes
 * from gitcage, and -c outranks the repository's own config. */
#ifndef GITCAGE_GITCAGE_GITCMD_H
#define GITCAGE_GITCAGE_GITCMD_H

#include "common/util.h"
#include "gitcage/request.h"

struct gitcmd {
	const char *git;
	enum service service;
	const char *repo_path;
	/* The hooks git may run: gitcage's relay (receive-pack), or NULL for none. */
	const char *hooks;
};

/* The argv of the sandboxed git that serves a request. */
void gitcmd_service_argv(const struct gitcmd *cmd, struct strvec *argv);

/* For `gitcage run --writable`: the safety settings for every git the command starts,
 * through git's GIT_CONFIG_COUNT environment (the scope of -c): no hook of the repository's,
 * no automatic gc (it would delete objects, which a run may not publish). */
void gitcmd_run_env(struct strvec *env);

#endif

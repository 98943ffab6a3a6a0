/* SPDX-License-Identifier: ISC */
/* The trusted git command line. Every setting that decides what git executes or trusts comes
 * from gitcage, and -c outranks the repository's own config. */
#ifndef GITCAGE_GITCAGE_GITCMD_H
#define GITCAGE_GITCAGE_GITCMD_H

#include "common/config.h"
#include "common/util.h"
#include "gitcage/request.h"

/* The git features of gitcage.conf for one repository ([repo], else [server]). */
struct gitcmd_features {
	bool allow_filter;
	bool push_options;
	bool archive_unreachable;
	const struct words *fsck_ignore;
	char push_cert_seed[128]; /* "" = signed pushes off */
};

struct gitcmd {
	const char *git;
	enum service service;
	const char *repo_path;
	/* The hooks git may run: gitcage's relay (receive-pack), or NULL for none. */
	const char *hooks;
	/* What gitcage.conf turns on, or NULL for nothing. */
	const struct gitcmd_features *features;
};

/* The features for a repository whose [repo] is rule (NULL for none). For receive-pack, the
 * push certificate seed is read from push-cert-seed: a file that only root or the service
 * account may have written, like the config. Returns 0, or -1 with a reason in err. */
int gitcmd_features_for(const struct config *cfg, const struct repo_rule *rule,
			enum service service, struct gitcmd_features *out, struct error *err);

/* The -c settings that turn on features for the service, appended to argv (before the
 * subcommand: -c is git's option). Pure. */
void gitcmd_push_features(const struct gitcmd_features *features, enum service service,
			  struct strvec *argv);

/* The argv of the sandboxed git that serves a request. */
void gitcmd_service_argv(const struct gitcmd *cmd, struct strvec *argv);

/* For `gitcage run --writable`: the safety settings for every git the command starts,
 * through git's GIT_CONFIG_COUNT environment (the scope of -c): no hook of the repository's,
 * no automatic gc (it would delete objects, which a run may not publish). */
void gitcmd_run_env(struct strvec *env);

#endif

/* SPDX-License-Identifier: ISC */
#include "gitcage/gitcmd.h"

#include <string.h>

/* For every git gitcage starts: nothing runs in the background, nothing is watched. */
static const char *const always[] = {
    "core.fsmonitor=false",
    "gc.auto=0",
    "maintenance.auto=false",
};

/* For receive-pack. Every ref of a push goes to the proc-receive relay, which asks the
 * publisher and reports what it decided; receive-pack writes no ref itself. unpackLimit=1
 * keeps every push a pack: unpacking loose objects can "freshen" an existing pack, which
 * would copy the whole pack into the private layer. */
static const char *const receiving[] = {
    "receive.fsckObjects=true",	      "transfer.fsckObjects=true", "receive.autogc=false",
    "receive.procReceiveRefs=refs/",  "receive.unpackLimit=1",	   "transfer.unpackLimit=1",
    "receive.updateServerInfo=false",
};

static void push_settings(struct strvec *argv, const char *const *settings, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		strvec_push(argv, "-c");
		strvec_push(argv, settings[i]);
	}
}

void gitcmd_service_argv(const struct gitcmd *cmd, struct strvec *argv)
{
	strvec_push(argv, cmd->git);
	strvec_push(argv, "-c");
	strvec_pushf(argv, "core.hooksPath=%s", cmd->hooks ? cmd->hooks : "/dev/null");
	strvec_push(argv, "-c");
	strvec_pushf(argv, "safe.directory=%s", cmd->repo_path);
	push_settings(argv, always, ARRAY_SIZE(always));
	if (cmd->service == SERVICE_RECEIVE_PACK)
		push_settings(argv, receiving, ARRAY_SIZE(receiving));
	strvec_push(argv, request_service_subcommand(cmd->service));
	/* --strict: serve exactly this directory, never DWIM to DIR/.git */
	if (cmd->service == SERVICE_UPLOAD_PACK)
		strvec_push(argv, "--strict");
	strvec_push(argv, cmd->repo_path);
}

void gitcmd_run_env(struct strvec *env)
{
	size_t count = ARRAY_SIZE(always) + 1;
	strvec_pushf(env, "GIT_CONFIG_COUNT=%zu", count);
	strvec_push(env, "GIT_CONFIG_KEY_0=core.hooksPath");
	strvec_push(env, "GIT_CONFIG_VALUE_0=/dev/null");
	for (size_t i = 0; i < ARRAY_SIZE(always); i++) {
		const char *eq = strchr(always[i], '=');
		strvec_pushf(env, "GIT_CONFIG_KEY_%zu=%.*s", i + 1, (int)(eq - always[i]),
			     always[i]);
		strvec_pushf(env, "GIT_CONFIG_VALUE_%zu=%s", i + 1, eq + 1);
	}
}

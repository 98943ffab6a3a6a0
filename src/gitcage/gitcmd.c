/* SPDX-License-Identifier: ISC */
#include "gitcage/gitcmd.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
	if (cmd->features)
		gitcmd_push_features(cmd->features, cmd->service, argv);
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

void gitcmd_push_features(const struct gitcmd_features *features, enum service service,
			  struct strvec *argv)
{
	/* Each only where it means something: a fetch gets no receive.* setting. */
	if (service == SERVICE_UPLOAD_PACK && features->allow_filter) {
		strvec_push(argv, "-c");
		strvec_push(argv, "uploadpack.allowFilter=true");
	}
	if (service == SERVICE_UPLOAD_ARCHIVE && features->archive_unreachable) {
		strvec_push(argv, "-c");
		strvec_push(argv, "uploadArchive.allowUnreachable=true");
	}
	if (service != SERVICE_RECEIVE_PACK)
		return;
	if (features->push_options) {
		strvec_push(argv, "-c");
		strvec_push(argv, "receive.advertisePushOptions=true");
	}
	if (features->push_cert_seed[0]) {
		strvec_push(argv, "-c");
		strvec_pushf(argv, "receive.certNonceSeed=%s", features->push_cert_seed);
	}
	for (size_t i = 0; features->fsck_ignore && i < features->fsck_ignore->count; i++) {
		strvec_push(argv, "-c");
		strvec_pushf(argv, "receive.fsck.%s=ignore", features->fsck_ignore->items[i]);
	}
}

/* A seed is what `head -c 32 /dev/urandom | base64` writes: one line of base64. */
static int seed_valid(const char *seed)
{
	size_t len = strlen(seed);
	return len >= 16 && strspn(seed, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
					 "0123456789+/=") == len;
}

/* The seed decides which push certificates receive-pack takes as fresh: trust it only if
 * nobody but root or the service account can have written it. */
static int read_seed(const char *path, char *out, size_t size, struct error *err)
{
	struct stat st;
	cleanup_fd int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st) != 0)
		return error_set(err, "push-cert-seed %s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode) || (st.st_uid != 0 && st.st_uid != getuid()) ||
	    (st.st_mode & S_IWOTH) || ((st.st_mode & S_IWGRP) && st.st_gid != 0))
		return error_set(err,
				 "push-cert-seed %s: not a regular file that only root or "
				 "the service account may write",
				 path);
	ssize_t n = read(fd, out, size - 1);
	if (n < 0)
		return error_set(err, "push-cert-seed %s: %s", path, strerror(errno));
	out[n] = '\0';
	out[strcspn(out, "\n")] = '\0';
	if (!seed_valid(out))
		return error_set(err,
				 "push-cert-seed %s: expected one line of base64 (at least 16 "
				 "characters)",
				 path);
	return 0;
}

static bool pick(int repo_value, int server_value)
{
	return repo_value >= 0 ? repo_value : server_value;
}

int gitcmd_features_for(const struct config *cfg, const struct repo_rule *rule,
			enum service service, struct gitcmd_features *out, struct error *err)
{
	const struct git_features *server = &cfg->features;
	const struct git_features *repo = rule ? &rule->features : NULL;
	*out = (struct gitcmd_features){
	    .allow_filter = pick(repo ? repo->allow_filter : -1, server->allow_filter),
	    .push_options = pick(repo ? repo->push_options : -1, server->push_options),
	    .archive_unreachable =
		pick(repo ? repo->archive_unreachable : -1, server->archive_unreachable),
	    .fsck_ignore =
		repo && repo->fsck_ignore.count ? &repo->fsck_ignore : &server->fsck_ignore,
	};
	if (service != SERVICE_RECEIVE_PACK || !cfg->push_cert_seed)
		return 0;
	return read_seed(cfg->push_cert_seed, out->push_cert_seed, sizeof(out->push_cert_seed),
			 err);
}

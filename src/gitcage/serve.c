/* SPDX-License-Identifier: ISC */
/* gitcage serve USER: the forced command of USER's ssh keys. */
#include <errno.h>
#include <glob.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/acl.h"
#include "common/audit.h"
#include "gitcage/guard_exec.h"
#include "sandbox/hygiene.h"
#include "common/policy.h"
#include "gitcage/repo.h"
#include "gitcage/request.h"
#include "sandbox/sandbox.h"
#include "common/util.h"
#include "gitcage/verbs.h"

struct serve {
	const char *user;
	struct config cfg;
	char root[PATH_MAX]; /* repositories, canonical */
	int root_fd;
	struct timespec start;
	struct audit_record audit;
};

static long long elapsed_ms(const struct timespec *start)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - start->tv_sec) * 1000LL + (now.tv_nsec - start->tv_nsec) / 1000000;
}

static void finish_audit(struct serve *serve, const char *verdict, const char *reason, int status)
{
	serve->audit.verdict = verdict;
	serve->audit.reason = reason;
	serve->audit.exit_status = status;
	serve->audit.duration_ms = elapsed_ms(&serve->start);
	audit_write(serve->cfg.audit, &serve->audit);
}

/* Refuse with one line to the client; the audit log gets the real reason. */
static _Noreturn void refuse(struct serve *serve, const char *reason, const char *client_message)
{
	finish_audit(serve, "refused", reason, EXIT_GITCAGE);
	die("%s", client_message);
}

static int is_glob(const char *pattern)
{
	return strpbrk(pattern, "*?[") != NULL;
}

static void list_one(struct serve *serve, const char *relpath)
{
	struct repo repo;
	struct error err;
	const struct repo_rule *rule = config_find_repo(&serve->cfg, relpath);
	int can_read = acl_allows(&serve->cfg, rule, serve->user, ACCESS_READ);
	int can_write = acl_allows(&serve->cfg, rule, serve->user, ACCESS_WRITE);
	if (!can_read ||
	    repo_resolve(serve->root_fd, serve->root, relpath, geteuid(), &repo, &err) != 0)
		return;
	printf("  %-2s  %s\n", can_write ? "RW" : "R", repo.relpath);
	repo_close(&repo);
}

/* A bare login: what this user may reach, as gitolite's "info" shows it. */
static int list_repositories(struct serve *serve)
{
	printf("hello %s, this is gitcage. You may reach:\n", serve->user);
	for (size_t i = 0; i < serve->cfg.repo_count; i++) {
		const char *pattern = serve->cfg.repos[i].path;
		if (!is_glob(pattern)) {
			list_one(serve, pattern);
			continue;
		}
		char full[PATH_MAX];
		glob_t found;
		xsnprintf(full, sizeof(full), "%s/%s", serve->root, pattern);
		if (glob(full, GLOB_NOSORT, NULL, &found) != 0)
			continue;
		for (size_t j = 0; j < found.gl_pathc; j++)
			list_one(serve, found.gl_pathv[j] + strlen(serve->root) + 1);
		globfree(&found);
	}
	finish_audit(serve, "ok", NULL, 0);
	return 0;
}

/* git's command line: every setting that decides what git executes or trusts comes from us,
 * and -c outranks the repository's own config. Returns a NULL-terminated, allocated argv. */
static char **build_git_argv(const struct serve *serve, const struct request *request,
			     const char *repo_path, const char *hooks)
{
	static const char *const fixed[] = {
	    "receive.fsckObjects=true", "transfer.fsckObjects=true", "gc.auto=0",
	    "receive.autogc=false",	"maintenance.auto=false",    "core.fsmonitor=false"};
	char **argv = xcalloc(2 * ARRAY_SIZE(fixed) + 10, sizeof(char *));
	char setting[PATH_MAX + 64];
	size_t n = 0;
	argv[n++] = serve->cfg.git;
	xsnprintf(setting, sizeof(setting), "core.hooksPath=%s", hooks);
	argv[n++] = "-c";
	argv[n++] = xstrdup(setting);
	xsnprintf(setting, sizeof(setting), "safe.directory=%s", repo_path);
	argv[n++] = "-c";
	argv[n++] = xstrdup(setting);
	for (size_t i = 0; i < ARRAY_SIZE(fixed); i++) {
		argv[n++] = "-c";
		argv[n++] = (char *)fixed[i];
	}
	argv[n++] = (char *)request_service_subcommand(request->service);
	/* --strict: serve exactly this directory, never DWIM to DIR/.git */
	if (request->service == SERVICE_UPLOAD_PACK)
		argv[n++] = "--strict";
	argv[n++] = (char *)repo_path;
	return argv;
}

/* The push policy reaches gitcage's hooks through git's environment, which only gitcage
 * sets: nothing in the repository can change it, and the hooks need no `git config` call. */
static char **build_git_env(const struct policy *policy)
{
	char **base = hygiene_sandbox_env(0, 1);
	size_t count = 0, len = 32;
	while (base[count])
		count++;
	for (size_t i = 0; i < policy->protect->count; i++)
		len += strlen(policy->protect->items[i]) + 1;
	char **env = xcalloc(count + 4, sizeof(char *));
	memcpy(env, base, count * sizeof(char *));
	char *protect = xcalloc(len, 1);
	strcpy(protect, "GITCAGE_PROTECT=");
	for (size_t i = 0; i < policy->protect->count; i++) {
		strcat(protect, policy->protect->items[i]);
		strcat(protect, i + 1 < policy->protect->count ? " " : "");
	}
	env[count++] = protect;
	char number[64];
	xsnprintf(number, sizeof(number), "GITCAGE_MAX_BLOB_SIZE=%llu", policy->max_blob_size);
	env[count++] = xstrdup(number);
	env[count++] = policy->repo_hooks ? "GITCAGE_REPO_HOOKS=yes" : "GITCAGE_REPO_HOOKS=no";
	return env;
}

/* Hooks cost a shell per hook and per ref: without any policy there is nothing to run. */
static int has_policy(const struct policy *policy)
{
	return policy->protect->count || policy->max_blob_size || policy->repo_hooks;
}

static int outside_system(const char *path)
{
	return strncmp(path, "/usr/", 5) != 0 && strncmp(path, "/etc/", 5) != 0;
}

/* The directory that holds path (its bind makes path visible: the sandbox binds
 * directories). */
static const char *parent_directory(const char *path, char *buf, size_t size)
{
	xsnprintf(buf, size, "%s", path);
	char *slash = strrchr(buf, '/');
	if (slash && slash != buf)
		*slash = '\0';
	return buf;
}

/* Before a push: what gitcage-guard compares the repository with once git is gone. */
static int take_snapshot(struct serve *serve, const struct repo *repo)
{
	struct error err;
	int fd = snapshot_take_memfd(repo->fd, &err);
	if (fd < 0)
		refuse(serve, err.message,
		       "this repository cannot take pushes: it cannot be verified");
	return fd;
}

/* After a push: gitcage-guard verifies it, rolls back what must not stay, tells the client and
 * writes the call's one audit record. */
static _Noreturn void hand_over(struct serve *serve, const struct repo *repo, int snapshot_fd,
				int status)
{
	struct guard_call call = {
	    .service = serve->audit.service,
	    .user = serve->user,
	    .key = serve->audit.key,
	    .client = serve->audit.client,
	    .repo = repo->relpath,
	    .config_path = serve->cfg.file,
	    .git_status = status,
	    .start = serve->start,
	    .repo_fd = repo->fd,
	    .snapshot_fd = snapshot_fd,
	};
	guard_exec_write(&call);
	int errnum = errno;
	finish_audit(serve, "failed", "cannot run gitcage-guard: the push is not verified",
		     EXIT_GITCAGE);
	errno = errnum;
	die_errno("cannot verify the push");
}

/* What git and the hooks need must be visible even when they live outside /usr: add the
 * directory (of path, or path's own parent when parent is set) to extra, by its real path,
 * unless the system directories already show it: /bin/git is /usr/bin/git on merged /usr.
 * Returns the new count. */
static size_t add_visible(const char *path, int parent, char *real, const char **extra,
			  size_t count)
{
	char dir[PATH_MAX];
	if (strcmp(path, "/dev/null") == 0) {
		xsnprintf(real, PATH_MAX, "%s", path);
		return count;
	}
	if (!realpath(parent ? parent_directory(path, dir, sizeof(dir)) : path, real))
		die_errno("cannot resolve %s", path);
	if (outside_system(real))
		extra[count++] = real;
	return count;
}

static int run_git(struct serve *serve, const struct request *request, const struct repo *repo,
		   const struct repo_rule *rule)
{
	char git_real[PATH_MAX], hooks_real[PATH_MAX];
	int snapshot_fd = -1;
	const char *extra[3] = {NULL, NULL, NULL};
	int writes = request_service_writes(request->service);
	struct policy policy;
	policy_for(&serve->cfg, rule, &policy);
	/* A push without gitcage's hooks would go unchecked: fail closed. Fetches run no hook. */
	const char *hooks = writes && has_policy(&policy) ? serve->cfg.hooks : "/dev/null";
	if (strcmp(hooks, "/dev/null") != 0 && access(hooks, X_OK) != 0)
		refuse(serve, "the trusted hooks directory is missing",
		       "this server cannot accept pushes: gitcage's hooks are not installed");
	size_t extra_count = add_visible(serve->cfg.git, 1, git_real, extra, 0);
	add_visible(hooks, 0, hooks_real, extra, extra_count);
	/* The hooks path git gets is the real one, the path that is bound: a configured path
	 * through a symlink would not exist inside, and git would silently run no hook. */
	char **argv = build_git_argv(serve, request, repo->path,
				     strcmp(hooks, "/dev/null") == 0 ? hooks : hooks_real);
	struct sandbox_spec spec = {
	    .repo_path = repo->path,
	    .repo_fd = repo->fd,
	    .writable = writes,
	    .extra_readonly = extra,
	    .argv = argv,
	    .envp = build_git_env(&policy),
	    .limits = &serve->cfg.limits,
	};
	struct sandbox_result result;
	if (writes)
		snapshot_fd = take_snapshot(serve, repo);
	sandbox_run(&spec, &result);
	int status = sandbox_exit_status(&result);
	if (result.timed_out)
		warn_line("%s ran past the timeout of %llu s and was stopped",
			  request_service_name(request->service), serve->cfg.limits.timeout);
	if (writes)
		hand_over(serve, repo, snapshot_fd, status);
	finish_audit(serve, status == 0 ? "ok" : "failed",
		     result.timed_out ? "timeout"
		     : status	      ? "git failed"
				      : NULL,
		     status);
	return status;
}

static void open_root(struct serve *serve)
{
	struct error err;
	if (!serve->cfg.repositories)
		die("%s: [server] repositories is not set", serve->cfg.file);
	if (!realpath(serve->cfg.repositories, serve->root))
		die_errno("the repositories root %s", serve->cfg.repositories);
	serve->root_fd = repo_open_root(serve->root, &err);
	if (serve->root_fd < 0)
		die("%s", err.message);
}

int verb_serve(const struct global_options *options, int argc, char **argv)
{
	struct serve serve = {.root_fd = -1};
	struct request request;
	struct repo repo;
	struct error err;
	/* The client's git prints our stderr as its own error: speak its language. */
	util_set_prefix("fatal: ");
	if (argc != 2 || !config_valid_name(argv[1]) || strlen(argv[1]) >= 64)
		die("usage: gitcage serve USER (a user name of letters, digits, '.', '_', '-')");
	hygiene_refuse_root();
	/* When sshd's session process goes (the client vanished), stop the sandbox and still
	 * finish the audit record: the wait loop turns SIGHUP into a kill of pid 1. */
	if (prctl(PR_SET_PDEATHSIG, SIGHUP) != 0)
		die_errno("cannot follow the ssh session");
	clock_gettime(CLOCK_MONOTONIC, &serve.start);
	serve.user = argv[1];
	serve.audit = (struct audit_record){.user = serve.user,
					    .key = audit_read_key(hygiene_getenv("SSH_USER_AUTH")),
					    .client = hygiene_getenv("SSH_CONNECTION")};
	verbs_load_config(options, 0, &serve.cfg);
	open_root(&serve);
	const char *command = hygiene_getenv("SSH_ORIGINAL_COMMAND");
	serve.audit.service = "login";
	if (!command || !*command)
		return list_repositories(&serve);
	serve.audit.service = "unknown";
	if (request_parse(command, &request, &err) != 0)
		refuse(&serve, err.message, err.message);
	serve.audit.service = request_service_name(request.service);
	serve.audit.repo = request.path;
	char not_found[PATH_MAX + 64];
	xsnprintf(not_found, sizeof(not_found),
		  "'%s' does not appear to be a git repository you may access", request.path);
	/* One message for "absent", "unsafe" and "not allowed": a repository's existence must
	 * not leak to users who may not read it. */
	if (repo_resolve(serve.root_fd, serve.root, request.path, geteuid(), &repo, &err) != 0)
		refuse(&serve, err.message, not_found);
	serve.audit.repo = repo.relpath;
	const struct repo_rule *rule = config_find_repo(&serve.cfg, repo.relpath);
	enum access need = request_service_writes(request.service) ? ACCESS_WRITE : ACCESS_READ;
	if (!acl_allows(&serve.cfg, rule, serve.user, ACCESS_READ))
		refuse(&serve, "no read access", not_found);
	if (!acl_allows(&serve.cfg, rule, serve.user, need))
		refuse(&serve, "no write access",
		       "you may read this repository but not push to it");
	return run_git(&serve, &request, &repo, rule);
}

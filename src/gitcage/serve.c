/* SPDX-License-Identifier: ISC */
/* gitcage serve USER: the forced command of USER's ssh keys. */
#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/acl.h"
#include "common/audit.h"
#include "gitcage/info.h"
#include "gitcage/lifecycle.h"
#include "common/policy.h"
#include "common/util.h"
#include "gitcage/gitcmd.h"
#include "gitcage/repo.h"
#include "gitcage/request.h"
#include "gitcage/sessions.h"
#include "gitcage/verbs.h"
#include "sandbox/hygiene.h"
#include "sandbox/sandbox.h"
#include "txn/notify.h"
#include "txn/txn.h"

struct serve {
	const char *user;
	struct config cfg;
	char root[PATH_MAX]; /* repositories, canonical */
	int root_fd;
	long long start_ms;
	struct audit_record audit;
	char creator[256];	 /* of a wild repository, as gl-creator says */
	const char *who_created; /* creator, or NULL */
};

static void finish_audit(struct serve *serve, enum audit_verdict verdict, const char *reason,
			 int status)
{
	serve->audit.verdict = verdict;
	serve->audit.reason = reason;
	serve->audit.exit_status = status;
	serve->audit.duration_ms = clock_ms() - serve->start_ms;
	audit_write(serve->cfg.audit, &serve->audit);
}

/* Refuse with one line to the client; the audit log gets the real reason. */
static _Noreturn void refuse(struct serve *serve, const char *reason, const char *client_message)
{
	finish_audit(serve, AUDIT_REFUSED, reason, EXIT_GITCAGE);
	die("%s", client_message);
}

/* A bare login, info and help: what gitolite users type by habit. */
static int own_command(struct serve *serve, const struct request *request)
{
	if (request->service == SERVICE_HELP)
		info_help(stdout, serve->user);
	else
		info_print(stdout, &serve->cfg, serve->root_fd, serve->root, geteuid(),
			   serve->user);
	finish_audit(serve, AUDIT_OK, NULL, 0);
	return 0;
}

/* ssh git@host create NAME: one message for "exists" and "may not", as gitolite's, so that
 * it tells nothing about repositories the user cannot see. */
static int create_command(struct serve *serve, const struct request *request)
{
	struct error err;
	if (lifecycle_exists(serve->root_fd, request->path) ||
	    !acl_may_create(&serve->cfg, request->path, serve->user, NULL))
		refuse(serve, "may not create", "the repository exists or you may not create it");
	if (lifecycle_create(&serve->cfg, serve->root_fd, request->path, serve->user, &err) != 0)
		refuse(serve, err.message, "the repository could not be created");
	printf("created %s\n", request->path);
	finish_audit(serve, AUDIT_OK, NULL, 0);
	return 0;
}

/* What git and the hooks need must be visible even when they live outside /usr: the
 * directory (of path, or path's own parent when parent is set) by its real path, added to
 * extra unless /usr already shows it (/bin/git is /usr/bin/git on merged /usr). */
static void add_visible(const char *path, int parent, char *real, const char **extra, size_t *count)
{
	char dir[PATH_MAX];
	xsnprintf(dir, sizeof(dir), "%s", path);
	if (parent && strrchr(dir, '/') && strrchr(dir, '/') != dir)
		*strrchr(dir, '/') = '\0';
	if (!realpath(dir, real))
		die_errno("cannot resolve %s", dir);
	if (strncmp(real, "/usr/", 5) != 0)
		extra[(*count)++] = real;
}

static void report_timeout(const struct serve *serve, const struct request *request,
			   const struct sandbox_result *result)
{
	if (result->timed_out)
		warn_line("%s ran past the timeout of %llu s and was stopped",
			  request_service_name(request->service), serve->cfg.limits.timeout);
}

/* What gitcage.conf turns on for this repository: partial clone, push options, ... */
static void git_features(struct serve *serve, const struct request *request,
			 const struct repo *repo, struct gitcmd_features *out)
{
	struct error err;
	const struct repo_rule *rule = config_find_repo(&serve->cfg, repo->relpath);
	if (gitcmd_features_for(&serve->cfg, rule, request->service, out, &err) != 0)
		refuse(serve, err.message, "this server cannot serve git: its config is broken");
}

static int serve_fetch(struct serve *serve, const struct request *request, const struct repo *repo)
{
	char git_real[PATH_MAX];
	const char *extra[2] = {NULL, NULL};
	size_t extra_count = 0;
	struct strvec argv = {0};
	struct gitcmd_features features;
	git_features(serve, request, repo, &features);
	struct gitcmd cmd = {serve->cfg.git, request->service, repo->path, NULL, &features};
	add_visible(serve->cfg.git, 1, git_real, extra, &extra_count);
	gitcmd_service_argv(&cmd, &argv);
	struct sandbox_spec spec = {
	    .repo_path = repo->path,
	    .repo_fd = repo->fd,
	    .extra_readonly = extra,
	    .argv = argv.items,
	    .envp = hygiene_sandbox_env(0, 1),
	    .limits = &serve->cfg.limits,
	    .stdio = {-1, -1, -1},
	    .pass_fd = -1,
	};
	struct sandbox_result result;
	sandbox_run(&spec, &result);
	int status = sandbox_exit_status(&result);
	report_timeout(serve, request, &result);
	finish_audit(serve, status == 0 ? AUDIT_OK : AUDIT_FAILED,
		     result.timed_out ? "timeout"
		     : status	      ? "git failed"
				      : NULL,
		     status);
	strvec_free(&argv);
	return status;
}

/* The audit record's refs, from the transaction's. */
static struct audit_ref *audit_refs(const struct txn *t)
{
	struct audit_ref *refs = xcalloc(t->ref_count, sizeof(*refs));
	for (size_t i = 0; i < t->ref_count; i++) {
		const struct txn_ref *ref = &t->refs[i];
		refs[i] =
		    (struct audit_ref){ref->ref, ref->old_id, ref->new_id, decide_verdict(ref),
				       ref->refusal ? ref->reason : NULL};
	}
	return refs;
}

/* notify = COMMAND, after a push: its stdin gets the published updates, "old new ref" per
 * line, as a post-receive hook would. It runs outside every namespace: gitcage itself never
 * enters one (only the sandbox's child does). */
static void start_notify(const struct serve *serve, const struct policy *policy,
			 const struct txn *t)
{
	struct strbuf updates = {0};
	if (!policy->notify || !t->published)
		return;
	for (size_t i = 0; i < t->ref_count; i++)
		if (t->refs[i].refusal == REFUSAL_NONE && !t->refs[i].unchanged)
			strbuf_addf(&updates, "%s %s %s\n", t->refs[i].old_id, t->refs[i].new_id,
				    t->refs[i].ref);
	struct notify_request request = {policy->notify, serve->user,	 serve->audit.repo,
					 updates.data,	 NOTIFY_TIMEOUT, serve->cfg.audit};
	if (notify_start(&request) < 0)
		warn_line("warning: notify could not be started: %s", strerror(errno));
	strbuf_free(&updates);
}

/* The call's verdict: refused when any ref was, failed when git or the publisher failed. */
static enum audit_verdict push_verdict(const struct txn *t, int status, const char **reason)
{
	*reason = t->refusal[0] ? t->refusal : t->discarded.count ? t->discarded.items[0] : NULL;
	for (size_t i = 0; i < t->ref_count; i++)
		if (t->refs[i].refusal != REFUSAL_NONE) {
			if (!*reason)
				*reason = t->refs[i].reason;
			return decide_verdict(&t->refs[i]);
		}
	if (t->refusal[0] || t->discarded.count)
		return AUDIT_REFUSED;
	if (status != 0 && !*reason)
		*reason = "git failed";
	return status == 0 ? AUDIT_OK : AUDIT_FAILED;
}

/* What git wrote outside the push was never published; say so, as git's errors are said. */
static int report_discarded(const struct txn *t, int status)
{
	util_set_prefix("error: gitcage: ");
	for (size_t i = 0; i < t->discarded.count && i < 10; i++)
		warn_line("discarded what git wrote outside the push: %s", t->discarded.items[i]);
	util_set_prefix("fatal: ");
	return t->discarded.count || t->refusal[0] ? EXIT_GITCAGE : status;
}

static void push_sandbox(struct serve *serve, const struct request *request,
			 const struct repo *repo, const struct policy *policy, struct txn *t,
			 struct sandbox_result *result)
{
	char git_real[PATH_MAX], hooks_real[PATH_MAX], hooks[PATH_MAX];
	const char *extra[3] = {NULL, NULL, NULL};
	size_t extra_count = 0;
	int control[2];
	/* The installed hooks by default; in a build tree, the ones built beside gitcage. */
	if (strcmp(serve->cfg.hooks, GITCAGE_HOOKS_DIR) == 0)
		path_beside_self("hooks", GITCAGE_HOOKS_DIR, hooks, sizeof(hooks));
	else
		xsnprintf(hooks, sizeof(hooks), "%s", serve->cfg.hooks);
	if (policy->repo_hooks)
		xsnprintf(hooks + strlen(hooks), sizeof(hooks) - strlen(hooks), "/chain");
	if (access(hooks, X_OK) != 0)
		refuse(serve, "the trusted hooks directory is missing",
		       "this server cannot accept pushes: gitcage's hooks are not installed");
	add_visible(serve->cfg.git, 1, git_real, extra, &extra_count);
	add_visible(hooks, 0, hooks_real, extra, &extra_count);
	/* The real path, the one that is bound: through a symlink it would not exist inside. */
	struct gitcmd_features features;
	git_features(serve, request, repo, &features);
	struct gitcmd cmd = {serve->cfg.git, request->service, repo->path, hooks_real, &features};
	struct strvec argv = {0}, env = {0};
	gitcmd_service_argv(&cmd, &argv);
	for (char **e = hygiene_sandbox_env(0, 1); *e; e++)
		strvec_push(&env, *e);
	strvec_push(&env, policy->repo_hooks ? "GITCAGE_REPO_HOOKS=yes" : "GITCAGE_REPO_HOOKS=no");
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, control) != 0)
		die_errno("cannot make the relay's socket");
	struct sandbox_overlay overlay = {t->session.upper_path, t->session.upper_fd,
					  t->session.work_path, t->session.work_fd};
	struct sandbox_spec spec = {
	    .repo_path = repo->path,
	    .repo_fd = repo->fd,
	    .overlay = &overlay,
	    .extra_readonly = extra,
	    .argv = argv.items,
	    .envp = env.items,
	    .limits = &serve->cfg.limits,
	    .stdio = {-1, -1, -1},
	    .pass_fd = control[1],
	};
	struct sandbox_child child;
	sandbox_spawn(&spec, &child);
	close(control[1]);
	sandbox_wait(&child, control[0], txn_on_relay, t, result);
	close(control[0]);
	report_timeout(serve, request, result);
	strvec_free(&argv);
	strvec_free(&env);
}

/* The fsck messages the repository's history needs ignored: the verifier's index-pack
 * --strict must agree with receive-pack's fsckObjects. */
static const struct words *fsck_ignore_for(const struct config *cfg, const struct repo_rule *rule)
{
	return rule && rule->features.fsck_ignore.count ? &rule->features.fsck_ignore
							: &cfg->features.fsck_ignore;
}

static int serve_push(struct serve *serve, const struct request *request, const struct repo *repo,
		      const struct repo_rule *rule)
{
	char state_buf[PATH_MAX];
	struct policy policy;
	struct txn t;
	struct error err;
	struct sandbox_result result;
	policy_for_repo(&serve->cfg, repo->relpath, serve->who_created, &policy);
	struct txn_options options = {
	    .cfg = &serve->cfg,
	    .policy = &policy,
	    .decide = {&serve->cfg, repo->relpath, serve->who_created, serve->user, true},
	    .repo_path = repo->path,
	    .repo_fd = repo->fd,
	    .strict = true,
	    .fsck_ignore = fsck_ignore_for(&serve->cfg, rule),
	    .ahead = true,
	};
	const char *state =
	    state_default_path(serve->cfg.state, serve->root, state_buf, sizeof(state_buf));
	if (txn_begin(&t, &options, state, &err) != 0)
		refuse(serve, err.message,
		       "this server cannot take pushes now; its administrator "
		       "can tell why");
	push_sandbox(serve, request, repo, &policy, &t, &result);
	txn_finish(&t);
	int status = report_discarded(&t, sandbox_exit_status(&result));
	const char *reason;
	enum audit_verdict verdict = push_verdict(&t, status, &reason);
	struct audit_ref *refs = audit_refs(&t);
	serve->audit.refs = refs;
	serve->audit.ref_count = t.ref_count;
	serve->audit.phases = &t.phases;
	finish_audit(serve, verdict, result.timed_out ? "timeout" : reason, status);
	start_notify(serve, &policy, &t);
	free(refs);
	txn_free(&t);
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

/* The check before git runs: read for a fetch, write for a push (any write rule could
 * match), with CREATOR as the repository's gl-creator says. */
static void authorize(struct serve *serve, const struct request *request, const struct repo *repo,
		      const char *not_found)
{
	if (repo_read_creator(repo->fd, geteuid(), serve->creator, sizeof(serve->creator)))
		serve->who_created = serve->creator;
	if (!acl_repo_allows(&serve->cfg, repo->relpath, serve->who_created, serve->user, ACL_READ,
			     NULL))
		refuse(serve, "no read access", not_found);
	if (request_service_writes(request->service) &&
	    !acl_repo_allows(&serve->cfg, repo->relpath, serve->who_created, serve->user, ACL_WRITE,
			     NULL))
		refuse(serve, "no write access", "you may read this repository but not push to it");
	/* Allowed: now it counts against max-sessions. The slots are held until gitcage exits. */
	static struct session_slots slots;
	struct error err;
	if (sessions_enter(&serve->cfg, serve->user, &slots, &err) != 0)
		refuse(serve, err.message, err.message);
}

int verb_serve(const struct global_options *options, int argc, char **argv)
{
	struct serve serve = {.root_fd = -1};
	struct request request;
	struct repo repo;
	struct error err;
	/* The client's git prints our stderr as its own error: speak its language. */
	util_set_prefix("fatal: ");
	/* A hook, a verifier or a git update-ref that went away must not take the publisher with
	 * it: a write to it fails with EPIPE instead. Children get the default back. */
	signal(SIGPIPE, SIG_IGN);
	if (argc != 2 || !config_valid_user(argv[1]) || strlen(argv[1]) >= 64)
		die("usage: gitcage serve USER (a user name of letters, digits, '.', '_', '-', "
		    "'@', '+')");
	hygiene_refuse_root();
	/* When sshd's session process goes (the client vanished), stop the sandbox and still
	 * finish the audit record: the wait loop turns SIGHUP into a kill of pid 1. */
	if (prctl(PR_SET_PDEATHSIG, SIGHUP) != 0)
		die_errno("cannot follow the ssh session");
	serve.start_ms = clock_ms();
	serve.user = argv[1];
	serve.audit = (struct audit_record){.user = serve.user,
					    .key = audit_read_key(hygiene_getenv("SSH_USER_AUTH")),
					    .client = hygiene_getenv("SSH_CONNECTION")};
	verbs_load_config(options, 0, &serve.cfg);
	verbs_require_audit(&serve.cfg);
	open_root(&serve);
	const char *command = hygiene_getenv("SSH_ORIGINAL_COMMAND");
	serve.audit.service = "login";
	if (!command || !*command)
		return own_command(&serve, &(struct request){.service = SERVICE_INFO});
	if (request_parse(command, &request, &err) != 0) {
		serve.audit.service = request_describe_refused(command, &request);
		serve.audit.repo = request.path[0] ? request.path : NULL;
		refuse(&serve, err.message, err.message);
	}
	serve.audit.service = request_service_name(request.service);
	serve.audit.repo = request.path;
	if (request.service == SERVICE_CREATE)
		return create_command(&serve, &request);
	if (!request_service_is_git(request.service))
		return own_command(&serve, &request);
	char not_found[PATH_MAX + 64];
	xsnprintf(not_found, sizeof(not_found),
		  "'%s' does not appear to be a git repository you may access", request.path);
	/* A first push creates a wild repository where a C rule allows it. */
	if (request_service_writes(request.service) &&
	    lifecycle_create_on_push(&serve.cfg, serve.root_fd, request.path, serve.user, &err) < 0)
		refuse(&serve, err.message, "the repository could not be created");
	/* One message for "absent", "unsafe" and "not allowed": a repository's existence must
	 * not leak to users who may not read it. */
	if (repo_resolve(serve.root_fd, serve.root, request.path, geteuid(), &repo, &err) != 0)
		refuse(&serve, err.message, not_found);
	serve.audit.repo = repo.relpath;
	authorize(&serve, &request, &repo, not_found);
	if (request_service_writes(request.service))
		return serve_push(&serve, &request, &repo,
				  config_find_repo(&serve.cfg, repo.relpath));
	return serve_fetch(&serve, &request, &repo);
}

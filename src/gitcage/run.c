/* SPDX-License-Identifier: ISC */
/* gitcage run: a command in the sandbox, for CI and tooling on untrusted repositories. With
 * --writable the command writes a private layer, and only what git itself commits as a ref
 * transaction, verified, reaches the repository (txn.h). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/audit.h"
#include "common/policy.h"
#include "gitcage/gitcmd.h"
#include "gitcage/verbs.h"
#include "sandbox/hygiene.h"
#include "sandbox/sandbox.h"
#include "txn/txn.h"

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

/* Without a config that names one, a private directory of the caller's in /tmp. */
static const char *run_state(const struct config *cfg, char *buf, size_t size)
{
	const char *state = state_default_path(cfg->state, cfg->repositories, buf, size);
	if (state)
		return state;
	xsnprintf(buf, size, "/tmp/gitcage-%u", (unsigned)getuid());
	return buf;
}

static void report(const struct txn *t)
{
	for (size_t i = 0; i < t->discarded.count && i < 10; i++)
		warn_line("warning: run: not published: %s", t->discarded.items[i]);
	if (t->deletes)
		warn_line("run: refused: the command deleted existing objects (gc, repack or "
			  "prune?); repository maintenance is not done through gitcage run");
}

static void audit_run(const struct config *cfg, const char *repo, const struct txn *t, int status,
		      long long start_ms)
{
	char uid[32];
	struct passwd *pw = getpwuid(getuid());
	struct audit_ref *refs = xcalloc(t->ref_count, sizeof(*refs));
	snprintf(uid, sizeof(uid), "%u", (unsigned)getuid());
	for (size_t i = 0; i < t->ref_count; i++)
		refs[i] = (struct audit_ref){t->refs[i].ref, t->refs[i].old_id, t->refs[i].new_id,
					     decide_verdict(&t->refs[i]),
					     t->refs[i].refusal ? t->refs[i].reason : NULL};
	struct audit_record record = {
	    .user = pw ? pw->pw_name : uid,
	    .service = "run",
	    .repo = repo,
	    .verdict = t->deletes    ? AUDIT_REFUSED
		       : status == 0 ? AUDIT_OK
				     : AUDIT_FAILED,
	    .reason = t->deletes ? "deletes existing objects" : NULL,
	    .refs = refs,
	    .ref_count = t->ref_count,
	    .phases = &t->phases,
	    .duration_ms = clock_ms() - start_ms,
	    .exit_status = status,
	};
	audit_write(cfg->audit, &record);
	free(refs);
}

static void report_refs(const struct txn *t)
{
	for (size_t i = 0; i < t->ref_count; i++)
		if (t->refs[i].refusal != REFUSAL_NONE)
			warn_line("run: %s not published: %s", t->refs[i].ref, t->refs[i].reason);
}

static int run_writable(const struct config *cfg, struct sandbox_spec *spec, long long start_ms)
{
	char state_buf[PATH_MAX];
	struct error err;
	struct txn t;
	struct policy policy;
	struct sandbox_result result;
	policy_for(cfg, NULL, &policy);
	struct txn_options options = {
	    .cfg = cfg,
	    .policy = &policy,
	    .decide = {cfg, NULL, NULL, NULL, false},
	    .repo_path = spec->repo_path,
	    .repo_fd = spec->repo_fd,
	};
	signal(SIGPIPE, SIG_IGN); /* as in serve: a child that went away fails a write */
	if (txn_begin(&t, &options, run_state(cfg, state_buf, sizeof(state_buf)), &err) != 0)
		die("run: %s", err.message);
	struct sandbox_overlay overlay = {t.session.upper_path, t.session.upper_fd,
					  t.session.work_path, t.session.work_fd};
	struct strvec env = {0};
	for (char *const *e = spec->envp; *e; e++)
		strvec_push(&env, *e);
	gitcmd_run_env(&env);
	spec->overlay = &overlay;
	spec->envp = env.items;
	sandbox_run(spec, &result);
	if (result.timed_out)
		warn_line("run: the command ran past the timeout of %llu s and was killed",
			  cfg->limits.timeout);
	int status = sandbox_exit_status(&result);
	/* A command killed or timed out publishes nothing: its work may be half done. */
	if (!result.timed_out && !result.stop_signal && txn_publish_run(&t, &err) != 0)
		warn_line("run: nothing published: %s", err.message);
	txn_finish(&t);
	report(&t);
	report_refs(&t);
	for (size_t i = 0; i < t.ref_count && status == 0; i++)
		if (t.refs[i].refusal != REFUSAL_NONE)
			status = EXIT_GITCAGE;
	if (t.deletes)
		status = EXIT_GITCAGE;
	audit_run(cfg, spec->repo_path, &t, status, start_ms);
	txn_free(&t);
	strvec_free(&env);
	return status;
}

int verb_run(const struct global_options *options, int argc, char **argv)
{
	long long start_ms = clock_ms();
	struct run_options run = {0};
	struct config cfg;
	char *repo_path cleanup_free = NULL;
	int repo_fd cleanup_fd = -1;

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
		/* Only a bare repository's objects and refs can be published. */
		struct stat objects, refs;
		if (run.writable &&
		    (fstatat(repo_fd, "objects", &objects, AT_SYMLINK_NOFOLLOW) != 0 ||
		     fstatat(repo_fd, "refs", &refs, AT_SYMLINK_NOFOLLOW) != 0 ||
		     !S_ISDIR(objects.st_mode) || !S_ISDIR(refs.st_mode)))
			die("run: --writable needs a bare repository: %s has no objects/ and refs/",
			    repo_path);
	}
	struct sandbox_spec spec = {
	    .repo_path = repo_path,
	    .repo_fd = repo_fd,
	    .argv = run.command,
	    .envp = hygiene_sandbox_env(1, 0),
	    .limits = &cfg.limits,
	    .stdio = {-1, -1, -1},
	    .pass_fd = -1,
	};
	int status;
	if (run.writable) {
		status = run_writable(&cfg, &spec, start_ms);
	} else {
		struct sandbox_result result;
		sandbox_run(&spec, &result);
		if (result.timed_out)
			warn_line("run: the command ran past the timeout of %llu s and was killed",
				  cfg.limits.timeout);
		status = sandbox_exit_status(&result);
	}
	config_free(&cfg);
	return status;
}

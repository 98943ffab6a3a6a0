/* SPDX-License-Identifier: ISC */
#include "txn/publish.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* How long git may take to answer one line: it waits at most a second for a lock itself. */
#define ANSWER_MS 60000

/* git's command line outside the sandbox: nothing of the host's or the account's git config,
 * no hook (a reference-transaction hook would run with write access), this repository. */
void publish_start(const struct publish_spec *spec, struct updater *u)
{
	u->spec = *spec;
	int in[2], out[2], err[2];
	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC))
		die_errno("cannot make pipes for git update-ref");
	char git_dir[4200], safe[4200];
	xsnprintf(git_dir, sizeof(git_dir), "--git-dir=%s", spec->repo_path);
	xsnprintf(safe, sizeof(safe), "safe.directory=%s", spec->repo_path);
	char *argv[] = {(char *)spec->git, git_dir,   "-c", "core.hooksPath=/dev/null", "-c", safe,
			"update-ref",	   "--stdin", NULL};
	char *env[] = {"PATH=/usr/bin:/bin",	      "HOME=/nonexistent", "GIT_CONFIG_NOSYSTEM=1",
		       "GIT_CONFIG_GLOBAL=/dev/null", "LC_ALL=C",	   NULL};
	u->pid = fork();
	if (u->pid < 0)
		die_errno("cannot start git update-ref");
	if (u->pid == 0) {
		/* It must finish what it started even if gitcage is killed: no death signal;
		 * an end of input makes it abort an open transaction by itself. */
		signal(SIGPIPE, SIG_DFL);
		if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0 || dup2(err[1], 2) < 0)
			_exit(EXIT_CANNOT_EXEC);
		execve(argv[0], argv, env);
		_exit(EXIT_CANNOT_EXEC);
	}
	close(in[0]);
	close(out[1]);
	close(err[1]);
	u->in = fdopen(in[1], "w");
	u->out = out[0];
	u->err = err[0];
	u->len = 0;
	if (!u->in)
		die_errno("cannot talk to git update-ref");
}

void publish_stop(struct updater *u)
{
	if (u->pid <= 0)
		return;
	fclose(u->in);
	waitpid(u->pid, NULL, 0);
	close(u->out);
	close(u->err);
	u->pid = -1;
}

/* Wait for git's "VERB: ok" line. */
static bool answered_ok(struct updater *u, const char *verb)
{
	char want[32];
	snprintf(want, sizeof(want), "%s: ok\n", verb);
	for (;;) {
		char *newline = memchr(u->buf, '\n', u->len);
		if (newline) {
			size_t line = (size_t)(newline - u->buf) + 1;
			bool ok = line == strlen(want) && memcmp(u->buf, want, line) == 0;
			memmove(u->buf, u->buf + line, u->len - line);
			u->len -= line;
			return ok;
		}
		struct pollfd pfd = {u->out, POLLIN, 0};
		if (poll(&pfd, 1, ANSWER_MS) <= 0 || u->len == sizeof(u->buf))
			return false;
		ssize_t n = read(u->out, u->buf + u->len, sizeof(u->buf) - u->len);
		if (n <= 0)
			return false;
		u->len += (size_t)n;
	}
}

static bool send_line(struct updater *u, const char *line)
{
	return fputs(line, u->in) >= 0 && fflush(u->in) == 0;
}

static void queue_update(struct updater *u, const struct txn_ref *ref)
{
	char line[4400];
	if (strcmp(ref->new_id, relay_zero_id) == 0)
		snprintf(line, sizeof(line), "delete %s %s\n", ref->ref, ref->old_id);
	else if (strcmp(ref->old_id, relay_zero_id) == 0)
		snprintf(line, sizeof(line), "create %s %s\n", ref->ref, ref->new_id);
	else
		snprintf(line, sizeof(line), "update %s %s %s\n", ref->ref, ref->new_id,
			 ref->old_id);
	send_line(u, line);
}

/* git gave up on a transaction: end it, and keep git's own words for why (its last
 * "fatal:" or "error:" line). */
static void fail_updater(struct updater *u, char *out, size_t size)
{
	struct strbuf text = {0};
	char chunk[1024];
	fclose(u->in);
	u->in = NULL;
	for (;;) {
		struct pollfd pfd = {u->err, POLLIN, 0};
		if (poll(&pfd, 1, ANSWER_MS) <= 0)
			break;
		ssize_t n = read(u->err, chunk, sizeof(chunk));
		if (n <= 0 || text.len > 65536)
			break;
		strbuf_add(&text, chunk, (size_t)n);
	}
	kill(u->pid, SIGKILL); /* already gone, unless it hung */
	waitpid(u->pid, NULL, 0);
	close(u->out);
	close(u->err);
	u->pid = -1;
	const char *line = text.data ? strstr(text.data, "fatal: ") : NULL;
	if (!line && text.data)
		line = strstr(text.data, "error: ");
	line = line ? line + 7 : "git update-ref failed";
	snprintf(out, size, "%.*s", (int)strcspn(line, "\n"), line);
	strbuf_free(&text);
}

/* One transaction over the refs picked. Returns true when git committed it. */
static bool transaction(struct updater *u, struct txn_ref **picked, size_t count)
{
	if (!send_line(u, "start\n") || !answered_ok(u, "start"))
		return false;
	for (size_t i = 0; i < count; i++)
		queue_update(u, picked[i]);
	return send_line(u, "prepare\n") && answered_ok(u, "prepare") && send_line(u, "commit\n") &&
	       answered_ok(u, "commit");
}

static void refuse_all(struct txn_ref **picked, size_t count, const char *reason)
{
	for (size_t i = 0; i < count; i++)
		decide_refuse(picked[i], REFUSAL_FAILED, "not published: %s", reason);
}

/* Deletions first, then the rest, each in order. */
static size_t pick(struct txn_ref *refs, size_t count, struct txn_ref **picked)
{
	size_t n = 0;
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < count; i++)
			if (refs[i].refusal == REFUSAL_NONE && !refs[i].unchanged &&
			    (strcmp(refs[i].new_id, relay_zero_id) == 0) == (pass == 0))
				picked[n++] = &refs[i];
	return n;
}

/* Transactions of batch refs each, over picked; returns how many were published. A failed
 * one refuses its refs with git's reason. */
static size_t in_batches(struct updater *u, struct txn_ref **picked, size_t total, size_t batch)
{
	char reason[256];
	size_t done = 0;
	for (size_t i = 0; i < total; i += batch) {
		size_t n = total - i < batch ? total - i : batch;
		if (u->pid <= 0)
			publish_start(&u->spec, u);
		if (transaction(u, picked + i, n)) {
			done += n;
		} else {
			/* git gave up on this transaction: say why, go on with a new git. */
			fail_updater(u, reason, sizeof(reason));
			refuse_all(picked + i, n, reason);
		}
	}
	return done;
}

size_t publish_refs(struct updater *u, struct txn_ref *refs, size_t count, bool atomic)
{
	struct txn_ref **picked = xcalloc(count, sizeof(*picked));
	size_t total = pick(refs, count, picked), done;
	if (atomic || total <= 1) {
		done = in_batches(u, picked, total, total ? total : 1);
	} else {
		/* One transaction for all first: a thousand refs one by one hold the lock for
		 * seconds. Only if git refuses it, the refs one by one, each for itself. */
		struct txn_ref **again = xcalloc(total, sizeof(*again));
		memcpy(again, picked, total * sizeof(*again));
		done = in_batches(u, picked, total, total);
		if (!done) {
			for (size_t i = 0; i < total; i++)
				again[i]->refusal = REFUSAL_NONE, again[i]->reason[0] = '\0';
			done = in_batches(u, again, total, 1);
		}
		free(again);
	}
	free(picked);
	return done;
}

/* SPDX-License-Identifier: ISC */
#include "txn/refdiff.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/config.h"
#include "sandbox/hygiene.h"
#include "sandbox/sandbox.h"
#include "txn/session.h"

static int compare_entries(const void *a, const void *b)
{
	return strcmp(((const struct journal_entry *)a)->ref,
		      ((const struct journal_entry *)b)->ref);
}

void refdiff_parse(const char *buf, size_t len, struct ref_listing *out)
{
	*out = (struct ref_listing){0};
	for (const char *p = buf, *end = buf + len; p < end;) {
		const char *newline = memchr(p, '\n', (size_t)(end - p));
		size_t line = newline ? (size_t)(newline - p) : (size_t)(end - p);
		if (line > RELAY_OID_HEX + 6 && line < RELAY_MAX_LINE &&
		    relay_is_oid(p, RELAY_OID_HEX) && p[RELAY_OID_HEX] == ' ' &&
		    strncmp(p + RELAY_OID_HEX + 1, "refs/", 5) == 0 &&
		    !memchr(p + RELAY_OID_HEX + 1, ' ', line - RELAY_OID_HEX - 1)) {
			grow_array(&out->items, &out->cap, out->count + 1, sizeof(*out->items));
			struct journal_entry *e = &out->items[out->count++];
			memcpy(e->new_id, p, RELAY_OID_HEX);
			e->new_id[RELAY_OID_HEX] = '\0';
			char *ref = xcalloc(line - RELAY_OID_HEX, 1);
			memcpy(ref, p + RELAY_OID_HEX + 1, line - RELAY_OID_HEX - 1);
			e->ref = ref;
		}
		p += line + 1;
	}
	if (out->count)
		qsort(out->items, out->count, sizeof(*out->items), compare_entries);
}

void refdiff_free(struct ref_listing *listing)
{
	for (size_t i = 0; i < listing->count; i++)
		free((char *)listing->items[i].ref);
	free(listing->items);
	*listing = (struct ref_listing){0};
}

static const char *value_in(const struct ref_listing *listing, const char *ref)
{
	struct journal_entry key = {.ref = ref};
	const struct journal_entry *found =
	    listing->count
		? bsearch(&key, listing->items, listing->count, sizeof(key), compare_entries)
		: NULL;
	return found ? found->new_id : relay_zero_id;
}

static void consider(const struct ref_listing *real, const struct ref_listing *view,
		     const struct journal_changes *changes, const char *ref,
		     struct relay_request *out)
{
	const char *now = value_in(real, ref), *wanted = value_in(view, ref);
	const struct journal_entry *moved = journal_find(changes, ref);
	if (strcmp(now, wanted) == 0)
		return; /* already so */
	if (moved && strcmp(moved->old_id, wanted) == 0)
		return; /* a stale view of a ref someone else moved */
	relay_add_command(out, now, wanted, ref);
}

void refdiff_commands(const struct ref_listing *real, const struct ref_listing *view,
		      const struct journal_changes *changes, struct relay_request *out)
{
	*out = (struct relay_request){0};
	for (size_t i = 0; i < view->count; i++)
		consider(real, view, changes, view->items[i].ref, out);
	/* Deleted in the view. */
	for (size_t i = 0; i < real->count; i++)
		if (strcmp(value_in(view, real->items[i].ref), relay_zero_id) == 0)
			consider(real, view, changes, real->items[i].ref, out);
}

/* git's for-each-ref in REPO: no hook, nothing of the host's or the account's config. */
static void listing_argv(const char *git, const char *repo_path, char **argv, char *git_dir,
			 size_t size)
{
	snprintf(git_dir, size, "--git-dir=%s", repo_path);
	char *words[] = {(char *)git,
			 git_dir,
			 "-c",
			 "core.hooksPath=/dev/null",
			 "-c",
			 "safe.directory=*",
			 "for-each-ref",
			 "--format=%(objectname) %(refname)",
			 NULL};
	memcpy(argv, words, sizeof(words));
}

int refdiff_list_real(const char *git, const char *repo_path, struct ref_listing *out,
		      struct error *err)
{
	char git_dir[PATH_MAX + 16], *argv[9];
	char *env[] = {"PATH=/usr/bin:/bin",	      "HOME=/nonexistent", "GIT_CONFIG_NOSYSTEM=1",
		       "GIT_CONFIG_GLOBAL=/dev/null", "LC_ALL=C",	   NULL};
	int pipe_fds[2], status;
	listing_argv(git, repo_path, argv, git_dir, sizeof(git_dir));
	if (pipe2(pipe_fds, O_CLOEXEC) != 0)
		return error_set(err, "cannot list the refs: %s", strerror(errno));
	pid_t pid = fork();
	if (pid == 0) {
		dup2(pipe_fds[1], STDOUT_FILENO);
		execve(argv[0], argv, env);
		_exit(EXIT_CANNOT_EXEC);
	}
	close(pipe_fds[1]);
	struct strbuf text = {0};
	char chunk[65536];
	ssize_t n;
	while ((n = read(pipe_fds[0], chunk, sizeof(chunk))) > 0)
		strbuf_add(&text, chunk, (size_t)n);
	close(pipe_fds[0]);
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		strbuf_free(&text);
		return error_set(err, "git for-each-ref failed in the repository");
	}
	refdiff_parse(text.data ? text.data : "", text.len, out);
	strbuf_free(&text);
	return 0;
}

int refdiff_list_view(const char *git, const char *repo_path, int repo_fd,
		      const struct session *session, const struct limits *limits,
		      struct ref_listing *out, struct error *err)
{
	char git_dir[PATH_MAX + 16], *argv[9], git_real[PATH_MAX];
	struct strbuf text = {0};
	struct sandbox_result result;
	listing_argv(git, repo_path, argv, git_dir, sizeof(git_dir));
	if (!realpath(git, git_real))
		return error_set(err, "cannot resolve %s: %s", git, strerror(errno));
	*strrchr(git_real, '/') = '\0';
	const char *extra[] = {strncmp(git_real, "/usr/", 5) ? git_real : NULL, NULL};
	struct sandbox_overlay view = {session->upper_path, session->upper_fd, NULL, -1};
	struct sandbox_spec spec = {
	    .repo_path = repo_path,
	    .repo_fd = repo_fd,
	    .overlay = &view,
	    .extra_readonly = extra,
	    .argv = argv,
	    .envp = hygiene_sandbox_env(0, 0),
	    .limits = limits,
	    .pass_fd = -1,
	};
	sandbox_capture(&spec, NULL, &text, NULL, &result);
	int rc = sandbox_exit_status(&result) == 0
		     ? 0
		     : error_set(err, "git for-each-ref failed in the session's view");
	if (rc == 0)
		refdiff_parse(text.data ? text.data : "", text.len, out);
	strbuf_free(&text);
	return rc;
}

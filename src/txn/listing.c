/* SPDX-License-Identifier: ISC */
/* The two ref listings of refdiff.h, each made by git itself: in the repository, outside any
 * sandbox (it reads trusted data only), and in the session's view, in a sandbox (its content
 * is hostile; what it prints is parsed by refdiff_parse and verified like any push). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/config.h"
#include "sandbox/hygiene.h"
#include "sandbox/sandbox.h"
#include "txn/refdiff.h"
#include "txn/session.h"

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
		signal(SIGPIPE, SIG_DFL);
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

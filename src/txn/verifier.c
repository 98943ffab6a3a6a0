/* SPDX-License-Identifier: ISC */
#include "txn/verifier.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sandbox/hygiene.h"
#include "sandbox/sandbox.h"

#ifndef GITCAGE_GUARD_PATH
#define GITCAGE_GUARD_PATH "/usr/local/lib/gitcage/gitcage-guard"
#endif
#ifndef GITCAGE_INDEX_PATH
#define GITCAGE_INDEX_PATH "/usr/local/lib/gitcage/gitcage-index"
#endif

/* The guard's /etc: only what its dynamic loader needs. Without the CA bundle libgit2's
 * initialisation skips parsing it (7 ms here), and it has nothing to verify over TLS. */
static const char *const guard_etc[] = {"ld.so.cache", "ld.so.conf", "ld.so.conf.d", NULL};

void verifier_guard_path(char *out, size_t size)
{
	path_beside_self("gitcage-guard", GITCAGE_GUARD_PATH, out, size);
}

/* The first line the guard wrote on stderr, cleaned for a message. */
static void first_error_line(const struct strbuf *text, char *out, size_t size)
{
	snprintf(out, size, "no message");
	if (text->len)
		snprintf(out, size, "%.*s", (int)strcspn(text->data, "\n"), text->data);
	for (char *c = out; *c; c++)
		if ((unsigned char)*c < ' ' || *c == 0x7f)
			*c = '?';
}

static int memfd(const char *name)
{
	int fd = memfd_create(name, MFD_CLOEXEC);
	if (fd < 0)
		die_errno("cannot make a memfd for the verifier");
	return fd;
}

/* The directory of path (a file) when it is outside /usr, which every sandbox has: what a
 * cage must see to run it. NULL otherwise. */
static const char *visible_dir(const char *path, char *buf, size_t size)
{
	char dir[PATH_MAX];
	xsnprintf(dir, sizeof(dir), "%s", path);
	if (strrchr(dir, '/') && strrchr(dir, '/') != dir)
		*strrchr(dir, '/') = '\0';
	if (size < PATH_MAX || !realpath(dir, buf))
		die_errno("cannot resolve %s", dir);
	return strncmp(buf, "/usr/", 5) != 0 ? buf : NULL;
}

void verifier_start(const struct verifier_spec *spec, struct verifier *v)
{
	char program[PATH_MAX], program_dir[PATH_MAX], git_dir[PATH_MAX];
	int request[2];
	/* index: git indexes, in a cage where CHECKED is writable, run by gitcage-index (no
	 * libgit2 to load); check: libgit2 reads, in one where nothing is. */
	bool index = spec->git != NULL;
	if (index)
		path_beside_self("gitcage-index", GITCAGE_INDEX_PATH, program, sizeof(program));
	else
		verifier_guard_path(program, sizeof(program));
	const char *extra[4] = {spec->stage_path};
	size_t n = 1;
	if ((extra[n] = visible_dir(program, program_dir, sizeof(program_dir))))
		n++;
	if (index && (extra[n] = visible_dir(spec->git, git_dir, sizeof(git_dir))))
		n++;
	char *index_argv[] = {program,
			      (char *)spec->git,
			      (char *)spec->repo_path,
			      (char *)spec->stage_path,
			      (char *)spec->checked_path,
			      NULL};
	char *check_argv[] = {program, "check", (char *)spec->repo_path, (char *)spec->stage_path,
			      NULL};
	char **argv = index ? index_argv : check_argv;
	if (pipe2(request, O_CLOEXEC) != 0)
		die_errno("cannot make a pipe for the verifier");
	*v = (struct verifier){.request_fd = request[1],
			       .out_fd = memfd("gitcage-check-facts"),
			       .err_fd = memfd("gitcage-check-errors"),
			       .running = true};
	struct sandbox_spec sandbox = {
	    .repo_path = spec->repo_path,
	    .repo_fd = spec->repo_fd,
	    .extra_readonly = extra,
	    .writable_dir = index ? spec->checked_path : NULL,
	    .etc = guard_etc,
	    .argv = argv,
	    .envp = hygiene_sandbox_env(0, 0),
	    .limits = spec->limits,
	    .stdio = {request[0], v->out_fd, v->err_fd},
	    .pass_fd = -1,
	};
	sandbox_spawn(&sandbox, &v->child);
	close(request[0]);
}

/* The guard is gone: its exit status, its answer and its first error line. */
static int finish(struct verifier *v, struct check_request *req, int *stop_signal,
		  struct error *err)
{
	struct sandbox_result result;
	struct strbuf facts = {0}, errors = {0};
	char line[256];
	sandbox_wait(&v->child, -1, NULL, NULL, &result);
	v->running = false;
	if (stop_signal)
		*stop_signal = result.stop_signal;
	int status = sandbox_exit_status(&result), rc = 0;
	strbuf_read_fd(&facts, v->out_fd, RELAY_MAX_BYTES);
	strbuf_read_fd(&errors, v->err_fd, RELAY_MAX_BYTES);
	if (status != 0) {
		first_error_line(&errors, line, sizeof(line));
		rc = error_set(err, "the verifier failed (exit %d): %s", status, line);
	} else if (req) {
		rc = check_parse_facts(facts.data ? facts.data : "", facts.len, req, err);
	}
	strbuf_free(&facts);
	strbuf_free(&errors);
	close(v->out_fd);
	close(v->err_fd);
	return rc;
}

int verifier_ask(struct verifier *v, struct check_request *req, int *stop_signal, struct error *err)
{
	struct strbuf request = {0};
	check_format_request(req, &request);
	/* The guard reads the whole request before it answers; a pipe that fills up only waits
	 * for it to read. A guard that died takes the write with it (EPIPE), and says why. */
	(void)write_all(v->request_fd, request.data, request.len);
	close(v->request_fd);
	strbuf_free(&request);
	return finish(v, req, stop_signal, err);
}

void verifier_stop(struct verifier *v)
{
	struct error err;
	if (!v->running)
		return;
	close(v->request_fd);
	(void)finish(v, NULL, NULL, &err);
}

/* SPDX-License-Identifier: ISC */
#include "txn/verifier.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sandbox/hygiene.h"
#include "sandbox/sandbox.h"

#ifndef GITCAGE_GUARD_PATH
#define GITCAGE_GUARD_PATH "/usr/local/lib/gitcage/gitcage-guard"
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

int verifier_run(const struct verifier_spec *spec, struct check_request *req, int *stop_signal,
		 struct error *err)
{
	char guard[PATH_MAX], guard_dir[PATH_MAX], line[256];
	struct strbuf request = {0}, facts = {0}, errors = {0};
	struct sandbox_result result;
	verifier_guard_path(guard, sizeof(guard));
	xsnprintf(guard_dir, sizeof(guard_dir), "%s", guard);
	*strrchr(guard_dir, '/') = '\0';
	const char *extra[] = {spec->stage_path, NULL, NULL};
	if (strncmp(guard_dir, "/usr/", 5) != 0)
		extra[1] = guard_dir;
	char *argv[] = {guard, "check", (char *)spec->repo_path, (char *)spec->stage_path, NULL};
	struct sandbox_spec sandbox = {
	    .repo_path = spec->repo_path,
	    .repo_fd = spec->repo_fd,
	    .extra_readonly = extra,
	    .etc = guard_etc,
	    .argv = argv,
	    .envp = hygiene_sandbox_env(0, 0),
	    .limits = spec->limits,
	    .pass_fd = -1,
	};
	check_format_request(req, &request);
	sandbox_capture(&sandbox, &request, &facts, &errors, &result);
	*stop_signal = result.stop_signal;
	int status = sandbox_exit_status(&result), rc;
	if (status != 0) {
		first_error_line(&errors, line, sizeof(line));
		rc = error_set(err, "the verifier failed (exit %d): %s", status, line);
	} else {
		rc = check_parse_facts(facts.data ? facts.data : "", facts.len, req, err);
	}
	strbuf_free(&request);
	strbuf_free(&facts);
	strbuf_free(&errors);
	return rc;
}

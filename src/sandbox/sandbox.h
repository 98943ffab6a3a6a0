/* SPDX-License-Identifier: ISC */
/* Run a command in fresh namespaces where only one repository can be written. */
#ifndef GITCAGE_SANDBOX_H
#define GITCAGE_SANDBOX_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/config.h"

struct sandbox_spec {
	/* The repository, or NULL for none. repo_path is absolute and canonical; repo_fd is an
	 * fd (O_PATH is enough) on the same directory, opened and checked by the caller. The
	 * sandbox re-opens the path in its own mount namespace and refuses to go on unless it is
	 * the same inode, so a swapped path component cannot redirect the bind mount. */
	const char *repo_path;
	int repo_fd;
	bool writable;
	/* Host directories that must be visible read-only at their own path (e.g. the trusted
	 * hooks when gitcage lives outside /usr). NULL-terminated; may be NULL. */
	const char *const *extra_readonly;
	char *const *argv; /* argv[0] is looked up in the sandbox's PATH */
	char *const *envp;
	const struct limits *limits;
};

struct sandbox_result {
	int wait_status;  /* as from waitpid() */
	bool timed_out;	  /* the wall-clock timeout killed it */
	int setup_status; /* nonzero: the command never ran; this is gitcage's exit status */
};

/* Run spec->argv in the sandbox and wait for it, enforcing the timeout. Dies if the sandbox
 * cannot be created in the parent; a failure inside the child is reported on stderr and
 * in result->setup_status. */
void sandbox_run(const struct sandbox_spec *spec, struct sandbox_result *result);

/* The exit status gitcage should report for a result: the command's own, 128+N for a
 * signal, EXIT_TIMEOUT, or the setup failure's status. */
int sandbox_exit_status(const struct sandbox_result *result);

#endif

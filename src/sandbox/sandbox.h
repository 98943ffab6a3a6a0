/* SPDX-License-Identifier: ISC */
/* Run a command in fresh namespaces where nothing of the host can be written. */
#ifndef GITCAGE_SANDBOX_SANDBOX_H
#define GITCAGE_SANDBOX_SANDBOX_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/config.h"
#include "sandbox/cgroup.h"

/* The private layer of a writable repository view: an overlayfs whose lower layer is the
 * repository and whose upper and work directories belong to one session. Paths and fds name
 * the same directories; the sandbox re-opens each path in its own mount namespace and refuses
 * to go on unless it is the very inode the caller opened. */
struct sandbox_overlay {
	const char *upper_path;
	int upper_fd;
	const char *work_path; /* NULL: a read-only view, the upper layer over the repository */
	int work_fd;
};

struct sandbox_spec {
	/* The repository, or NULL for none. repo_path is absolute and canonical; repo_fd is an
	 * fd (O_PATH is enough) on the same directory, opened and checked by the caller. */
	const char *repo_path;
	int repo_fd;
	/* NULL: the repository is shown read-only. Otherwise git sees it writable, through an
	 * overlay whose writes land in the session's upper directory: the repository itself is
	 * read-only in every sandbox. */
	const struct sandbox_overlay *overlay;
	/* Host directories shown read-only at their own path (the trusted hooks or gitcage-guard
	 * when they live outside /usr). NULL-terminated; may be NULL. */
	const char *const *extra_readonly;
	/* One host directory shown writable at its own path (the verifier's output), or NULL. */
	const char *writable_dir;
	/* Names under /etc to show (files, directories or links), NULL-terminated; NULL for
	 * sandbox_etc_default. Nothing else of the host's /etc is visible. */
	const char *const *etc;
	char *const *argv; /* argv[0] is looked up in the sandbox's PATH */
	char *const *envp;
	const struct limits *limits;
	/* The command's fds 0, 1 and 2: -1 keeps gitcage's own. */
	int stdio[3];
	/* An fd the command gets as fd 3 (the relay to the trusted side), or -1. */
	int pass_fd;
	/* Where the command starts: NULL for the repository (or HOME without one). */
	const char *workdir;
};

/* /etc as git needs it: name service files, the dynamic loader's cache, the time zone, the
 * system gitconfig. Never /etc/gitcage, /etc/ssh or shadow files. */
extern const char *const sandbox_etc_default[];

struct sandbox_result {
	int wait_status;  /* as from waitpid() */
	bool timed_out;	  /* the wall-clock timeout killed it */
	int stop_signal;  /* SIGTERM, SIGHUP or SIGINT told gitcage to stop, or 0 */
	int setup_status; /* nonzero: the command never ran; this is gitcage's exit status */
};

/* A sandbox that runs while its parent does other work. */
struct sandbox_child {
	pid_t pid;
	int pidfd;     /* readable once the sandbox has exited */
	int status_fd; /* one byte if setup failed; end of file once the command runs */
	const struct limits *limits;
	struct cgroup_leaf cgroup; /* [limits] cgroup: the sandbox's own leaf (fd -1: none) */
};

/* Start spec->argv in the sandbox. Dies if the sandbox cannot be created in the parent; a
 * failure inside the child is reported on stderr and through status_fd. The caller keeps the
 * signals of sandbox_block_signals blocked until sandbox_wait returns. */
void sandbox_spawn(const struct sandbox_spec *spec, struct sandbox_child *child);

/* Called by sandbox_wait when the extra fd is readable. Return 0 to go on waiting, or -1 to
 * stop the sandbox (a stop signal seen by a nested wait, for example). */
typedef int (*sandbox_event_fn)(void *payload, int fd);

/* Wait for the sandbox, enforcing the timeout (setup included) and turning SIGTERM, SIGHUP
 * and SIGINT into a kill of its pid 1, which takes everything inside with it. While it
 * waits, a readable extra_fd (or -1 for none) is handed to on_event. Returns when the sandbox
 * is gone: every process of it has exited. */
void sandbox_wait(struct sandbox_child *child, int extra_fd, sandbox_event_fn on_event,
		  void *payload, struct sandbox_result *result);

/* Spawn and wait, for a sandbox with nothing else to do meanwhile. */
void sandbox_run(const struct sandbox_spec *spec, struct sandbox_result *result);

/* The same, with stdin read from in (NULL: empty) and stdout and stderr captured into out and
 * err (each may be NULL: discarded). Through memfds: no pipe to fill, whatever the sizes.
 * spec->stdio is overridden. */
void sandbox_capture(struct sandbox_spec *spec, const struct strbuf *in, struct strbuf *out,
		     struct strbuf *err, struct sandbox_result *result);

/* The exit status gitcage should report for a result: the command's own, 128+N for a
 * signal, EXIT_TIMEOUT, or the setup failure's status. */
int sandbox_exit_status(const struct sandbox_result *result);

#endif

/* SPDX-License-Identifier: ISC */
/* SSH_ORIGINAL_COMMAND -> {service, path}. Pure functions: no I/O, no globals. */
#ifndef GITCAGE_REQUEST_H
#define GITCAGE_REQUEST_H

#include <limits.h>

#include "common/util.h"

enum service {
	SERVICE_UPLOAD_PACK,
	SERVICE_RECEIVE_PACK,
	SERVICE_UPLOAD_ARCHIVE,
	/* gitcage's own commands, which gitolite users type by habit; git never runs for them */
	SERVICE_INFO,	/* "info": the repositories the user may reach */
	SERVICE_HELP,	/* "help" */
	SERVICE_CREATE, /* "create NAME": a wild repository, where a rule allows it */
};

struct request {
	enum service service;
	/* Relative to [server] repositories: no leading '/', no trailing '/', no "." or ".."
	 * components, no '~', no control characters, no component starting with '-' or '.'.
	 * Empty for info and help. */
	char path[PATH_MAX];
};

/* Parse "git-upload-pack 'path'" or "git upload-pack 'path'" (likewise receive-pack and
 * upload-archive). The argument must be one single-quoted word as git's sq_quote writes it,
 * with the escapes '\'' and '\!'. Also "info", "help" and "create NAME", where NAME is one
 * unquoted word of [A-Za-z0-9._@/+-] starting with a letter or digit (gitolite's repository
 * names), with the same path rules. Returns 0, or -1 with a one-line reason in err. */
int request_parse(const char *command, struct request *out, struct error *err);

/* For the audit record of a command request_parse refused: the service it named
 * ("git-receive-pack", "git-lfs-transfer"), or "unknown"; for Git LFS's commands, out->path is
 * their repository argument when it passes request_parse's path checks, "" otherwise. Pure. */
const char *request_describe_refused(const char *command, struct request *out);

/* "git-upload-pack", "git-receive-pack", "git-upload-archive", "info", "help", "create". */
const char *request_service_name(enum service service);
/* "upload-pack", ...: the git subcommand that serves it; NULL for gitcage's own commands. */
const char *request_service_subcommand(enum service service);
/* Nonzero when the service writes to the repository (create does). */
int request_service_writes(enum service service);
/* Nonzero when git serves it (upload-pack, receive-pack, upload-archive). */
int request_service_is_git(enum service service);

#endif

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
};

struct request {
	enum service service;
	/* Relative to [server] repositories: no leading '/', no trailing '/', no "." or ".."
	 * components, no '~', no control characters, no component starting with '-' or '.'. */
	char path[PATH_MAX];
};

/* Parse "git-upload-pack 'path'" or "git upload-pack 'path'" (likewise receive-pack and
 * upload-archive). The argument must be one single-quoted word as git's sq_quote writes it,
 * with the escapes '\'' and '\!'. Returns 0, or -1 with a one-line reason in err. */
int request_parse(const char *command, struct request *out, struct error *err);

/* For the audit record of a command request_parse refused: the service it named
 * ("git-receive-pack", "git-lfs-transfer"), or "unknown"; for Git LFS's commands, out->path is
 * their repository argument when it passes request_parse's path checks, "" otherwise. Pure. */
const char *request_describe_refused(const char *command, struct request *out);

/* "git-upload-pack", "git-receive-pack", "git-upload-archive". */
const char *request_service_name(enum service service);
/* "upload-pack", ...: the git subcommand that serves it. */
const char *request_service_subcommand(enum service service);
/* Nonzero when the service writes to the repository. */
int request_service_writes(enum service service);

#endif

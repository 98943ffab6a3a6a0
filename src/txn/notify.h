/* SPDX-License-Identifier: ISC */
/* notify = COMMAND: run after a verified push, outside the sandbox, detached from the client. */
#ifndef GITCAGE_NOTIFY_H
#define GITCAGE_NOTIFY_H

#include "common/audit.h"

/* Seconds a notify command may run before its process group is killed. */
#define NOTIFY_TIMEOUT 60

struct notify_request {
	const char *command; /* run with /bin/sh -c, as the admin wrote it */
	const char *user;    /* GITCAGE_USER */
	const char *repo;    /* GITCAGE_REPO: relative to repositories */
	const char *updates; /* its stdin: "old new ref\n" for each accepted update */
	unsigned timeout;    /* seconds, then its whole process group is killed */
	const char *audit;   /* where its own record goes when it ends */
};

/* Start the command and return at once. It runs in its own session, with stdio on /dev/null
 * (an ssh channel held open by it would keep the client waiting), and its outcome goes to
 * the audit log as a record of its own (service "notify"). Returns the pid of the detached
 * supervisor, or -1 if it could not even be started. */
int notify_start(const struct notify_request *request);

#endif

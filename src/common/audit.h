/* SPDX-License-Identifier: ISC */
/* One record per call: to syslog (ident "gitcage") or, one JSON object per line, to a file. */
#ifndef GITCAGE_AUDIT_H
#define GITCAGE_AUDIT_H

#include <stddef.h>

struct audit_ref {
	const char *name;
	const char *old_id;  /* "" or all zeros when created */
	const char *new_id;  /* "" or all zeros when deleted */
	const char *verdict; /* "ok", or why it was rolled back */
};

struct audit_record {
	const char *user;
	const char *key;     /* the key sshd accepted (SSH_USER_AUTH), or NULL */
	const char *client;  /* SSH_CONNECTION, or NULL */
	const char *service; /* "git-upload-pack", "run", ... */
	const char *repo;    /* relative to repositories, or as requested */
	const char *verdict; /* "ok", "refused", "rolled back", "failed" */
	const char *reason;  /* why, for anything but "ok"; NULL otherwise */
	const struct audit_ref *refs;
	size_t ref_count;
	long long duration_ms;
	int exit_status;
};

/* Format the record as one JSON object followed by a newline. Returns the length, or -1 when
 * it does not fit in size bytes. Pure, for tests. */
int audit_format(const struct audit_record *record, long long unix_time, char *buf, size_t size);

/* Write it where `audit` says: "syslog", or an absolute file path opened with O_APPEND and
 * written with a single write(2), so that concurrent calls never interleave. Failures are
 * reported on stderr and otherwise ignored: the audit log never changes a verdict. */
void audit_write(const char *destination, const struct audit_record *record);

/* The key sshd accepted, from the SSH_USER_AUTH file (ExposeAuthInfo yes): "TYPE BLOB".
 * Returns a static string, or NULL. */
const char *audit_read_key(const char *user_auth_path);

#endif

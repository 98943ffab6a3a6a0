/* SPDX-License-Identifier: ISC */
/* One record per call: to syslog (ident "gitcage") or, one JSON object per line, to a file. */
#ifndef GITCAGE_AUDIT_H
#define GITCAGE_AUDIT_H

#include <stddef.h>

/* A verdict, of a call or of one ref update. */
enum audit_verdict {
	AUDIT_OK,
	AUDIT_REFUSED, /* a rule, the verifier or a conflict said no */
	AUDIT_FAILED,  /* something broke: the call could not finish its work */
};

/* "ok", "refused", "failed". */
const char *audit_verdict_name(enum audit_verdict verdict);

struct audit_ref {
	const char *name;
	const char *old_id; /* all zeros when created */
	const char *new_id; /* all zeros when deleted */
	enum audit_verdict verdict;
	const char *reason; /* why, for anything but AUDIT_OK */
};

/* Where a write's time went, in microseconds (for admins and make bench). */
struct audit_phases {
	long long stage_us;   /* sorting and copying what git wrote */
	long long verify_us;  /* the caged verifier, start to end */
	long long publish_us; /* the lock, the decision, the objects moved in, git update-ref */
};

struct audit_record {
	const char *user;
	const char *key;     /* the accepted key's "SHA256:..." fingerprint, as sshd logs it */
	const char *client;  /* SSH_CONNECTION, or NULL */
	const char *service; /* "git-upload-pack", "run", ... */
	const char *repo;    /* relative to repositories, or as requested */
	enum audit_verdict verdict;
	const char *reason; /* why, for anything but AUDIT_OK; NULL otherwise */
	const struct audit_ref *refs;
	size_t ref_count;
	const struct audit_phases *phases; /* NULL: not a write */
	long long duration_ms;
	int exit_status;
};

/* The largest record written whole (a push of RELAY_MAX_COMMANDS refs fits). */
#define AUDIT_MAX_BYTES (64u << 20)

/* Format the record as one JSON object followed by a newline. Returns the length, or -1 when
 * it does not fit in size bytes. Pure, for tests. */
int audit_format(const struct audit_record *record, long long unix_time, char *buf, size_t size);

/* glibc's syslog(3) sends to this socket. */
#define AUDIT_SYSLOG_SOCKET "/dev/log"

/* Write it where `audit` says: "syslog" (ident gitcage, facility auth), or an absolute file
 * path opened with O_APPEND and written with a single write(2), so that concurrent calls
 * never interleave. Returns 0, or -1 when the record could not be written (for syslog: when
 * nothing listens on /dev/log); the caller's stderr then gets one plain line, without server
 * paths, since it reaches the client. The verdict of the call is the caller's to change. */
int audit_write(const char *destination, const struct audit_record *record);

/* Whether a record could be written to destination now: 0, or -1 with errno. Silent. For
 * audit-required, before anything runs. */
int audit_check(const char *destination);

/* The fingerprint of the key sshd accepted, from the SSH_USER_AUTH file (ExposeAuthInfo yes):
 * "SHA256:...". Returns a static string, or NULL. Only gitcage reads sshd's files: defined in
 * src/gitcage/ssh_auth.c, so that nettle is linked into gitcage alone. */
const char *audit_read_key(const char *user_auth_path);

#endif

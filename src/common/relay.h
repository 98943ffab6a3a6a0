/* SPDX-License-Identifier: ISC */
/* The relay between git's hooks inside the sandbox and the trusted publisher outside it.
 *
 * receive-pack asks gitcage's `proc-receive` hook for every ref of a push (receive-pack writes
 * none itself), before it reports to the client. The hook relays the question over the fd the
 * sandbox gives it and relays the answer back, so the client learns each ref's fate in git's
 * own status lines, decided by the publisher.
 *
 * Wire format, lines of text. The request (hook to publisher):
 *     gitcage-relay 1
 *     atomic                               (optional: all or nothing)
 *     option TEXT                          (push options, any number)
 *     command OLD NEW REF                  (one or more; 40 hex digits each)
 *     end
 * The answer (publisher to hook):
 *     message TEXT                         (any number; shown to the client)
 *     ok REF | ng REF REASON               (one per command, in order)
 *     end
 * Everything in a request comes from inside the sandbox: the parser refuses whatever is not
 * exactly this shape. */
#ifndef GITCAGE_COMMON_RELAY_H
#define GITCAGE_COMMON_RELAY_H

#include <stdbool.h>
#include <stddef.h>

#include "common/util.h"

#define RELAY_OID_HEX	   40
#define RELAY_MAX_LINE	   4096
#define RELAY_MAX_COMMANDS 100000
#define RELAY_MAX_OPTIONS  100
/* The largest request or answer read. */
#define RELAY_MAX_BYTES (16u << 20)

/* The fd the hook finds its channel on, inside the sandbox. */
#define RELAY_FD 3

struct relay_command {
	char old_id[RELAY_OID_HEX + 1]; /* all zeros: the ref is created */
	char new_id[RELAY_OID_HEX + 1]; /* all zeros: the ref is deleted */
	char *ref;
};

struct relay_request {
	bool atomic;
	struct relay_command *commands;
	size_t count, cap;
	char **options;
	size_t option_count, option_cap;
};

/* One command's fate: ok, or refused with a reason for git's status line. */
struct relay_verdict {
	bool ok;
	char reason[256];
};

struct relay_answer {
	struct strvec messages;
	struct relay_verdict *verdicts; /* request->count of them */
};

extern const char relay_zero_id[RELAY_OID_HEX + 1];

/* True for exactly 40 lowercase hex digits. */
bool relay_is_oid(const char *text, size_t len);

void relay_add_command(struct relay_request *req, const char *old_id, const char *new_id,
		       const char *ref);
void relay_request_free(struct relay_request *req);
void relay_answer_free(struct relay_answer *answer);

/* Format a request or an answer into out (appended). */
void relay_format_request(const struct relay_request *req, struct strbuf *out);
void relay_format_answer(const struct relay_request *req, const struct relay_answer *answer,
			 struct strbuf *out);

/* Parse a whole request (the bytes up to and including "end\n"). Returns 0, or -1 with a
 * one-line reason in err; out is then empty. */
int relay_parse_request(const char *buf, size_t len, struct relay_request *out, struct error *err);

/* Parse the answer to req. Returns 0, or -1 with a reason in err. */
int relay_parse_answer(const char *buf, size_t len, const struct relay_request *req,
		       struct relay_answer *out, struct error *err);

/* Whether buf holds a whole message: its last line is "end". */
bool relay_complete(const char *buf, size_t len);

#endif

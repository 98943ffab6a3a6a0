/* SPDX-License-Identifier: ISC */
/* max-sessions and max-user-sessions: how many serve sessions run at once, on the whole
 * server and per user. A session holds one slot of each kind: an flock on a file in
 * <state>/slots/, which the kernel drops when the process goes, however it goes (a killed
 * session never leaks its slot). */
#ifndef GITCAGE_GITCAGE_SESSIONS_H
#define GITCAGE_GITCAGE_SESSIONS_H

#include "common/config.h"
#include "common/util.h"

struct session_slots {
	int server_fd; /* -1: no limit, or not taken */
	int user_fd;
};

/* Take a slot for one session of user (a valid config name), waiting up to
 * [limits] max-sessions-wait seconds while every slot is taken. The fds are close-on-exec:
 * the slots go with this process. Returns 0, or -1 with err, one line for the client. */
int sessions_enter(const struct config *cfg, const char *user, struct session_slots *slots,
		   struct error *err);

/* Give the slots back (closing the fds), for a caller that goes on without the session. */
void sessions_leave(struct session_slots *slots);

#endif

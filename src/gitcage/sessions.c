/* SPDX-License-Identifier: ISC */
#include "gitcage/sessions.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "txn/state.h"

/* How often a waiting session looks for a free slot again. */
#define RETRY_MS 50

/* Try every slot "prefix.N" (N < limit) once, starting at a place of our own so that
 * sessions starting together do not all try the same files first. Returns a locked fd, or
 * -1 (errno EWOULDBLOCK when all are taken). */
static int try_slots(int dirfd, const char *prefix, unsigned long long limit)
{
	unsigned long long first = (unsigned long long)getpid() % limit;
	for (unsigned long long i = 0; i < limit; i++) {
		char name[128];
		snprintf(name, sizeof(name), "%s.%llu", prefix, (first + i) % limit);
		int fd = openat(dirfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0)
			return -1;
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return fd;
		int saved = errno;
		close(fd);
		if (saved != EWOULDBLOCK) {
			errno = saved;
			return -1;
		}
	}
	errno = EWOULDBLOCK;
	return -1;
}

static int slot_error(struct error *err, int errnum)
{
	return error_set(err, "cannot take a session slot: %s", strerror(errnum));
}

/* One attempt at both slots; on a partial success nothing is held. 1: taken, 0: full,
 * -1: an error (err set). */
static int try_enter(int dirfd, const struct config *cfg, const char *user,
		     struct session_slots *slots, bool *server_full, struct error *err)
{
	char prefix[96];
	const struct limits *limits = &cfg->limits;
	snprintf(prefix, sizeof(prefix), "user.%s", user);
	if (limits->user_sessions) {
		slots->user_fd = try_slots(dirfd, prefix, limits->user_sessions);
		if (slots->user_fd < 0) {
			*server_full = false;
			return errno == EWOULDBLOCK ? 0 : slot_error(err, errno);
		}
	}
	if (limits->sessions) {
		slots->server_fd = try_slots(dirfd, "server", limits->sessions);
		if (slots->server_fd < 0) {
			int saved = errno;
			sessions_leave(slots);
			*server_full = true;
			return saved == EWOULDBLOCK ? 0 : slot_error(err, saved);
		}
	}
	return 1;
}

static double now_seconds(void)
{
	return (double)clock_ns() / 1e9;
}

static int refuse_full(const struct config *cfg, const char *user, bool server_full,
		       struct error *err)
{
	if (server_full)
		return error_set(
		    err,
		    "this server is busy: %llu sessions at once already (max-sessions); "
		    "try again later",
		    cfg->limits.sessions);
	return error_set(err,
			 "too many sessions for %s at once: %llu already (max-user-sessions); try "
			 "again later",
			 user, cfg->limits.user_sessions);
}

/* <state>/slots: the slot files. Ours alone, reached without following a link: a slot file
 * someone else could replace would be no lock at all. */
static int open_slots(const struct config *cfg, struct error *err)
{
	char buf[PATH_MAX];
	struct state state;
	struct stat st;
	const char *path = state_default_path(cfg->state, cfg->repositories, buf, sizeof(buf));
	if (!path)
		return error_set(err, "[server] state is not set, nor repositories");
	if (state_open(path, &state, err) != 0)
		return -1;
	if (mkdirat(state.fd, "slots", 0700) != 0 && errno != EEXIST) {
		state_close(&state);
		return error_set(err, "cannot create %s/slots: %s", path, strerror(errno));
	}
	int fd = openat(state.fd, "slots", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	state_close(&state);
	if (fd < 0 || fstat(fd, &st) != 0 || st.st_uid != geteuid() || (st.st_mode & 022)) {
		if (fd >= 0)
			close(fd);
		return error_set(err,
				 "refusing %s/slots: it must be a directory of uid %u that nobody "
				 "else can write",
				 path, (unsigned)geteuid());
	}
	return fd;
}

int sessions_enter(const struct config *cfg, const char *user, struct session_slots *slots,
		   struct error *err)
{
	struct error why;
	*slots = (struct session_slots){-1, -1};
	if (!cfg->limits.sessions && !cfg->limits.user_sessions)
		return 0;
	int dirfd = open_slots(cfg, &why);
	if (dirfd < 0)
		return error_set(err, "cannot count sessions: %s", why.message);
	double deadline = now_seconds() + (double)cfg->limits.session_wait;
	bool server_full = false;
	int rc;
	for (;;) {
		rc = try_enter(dirfd, cfg, user, slots, &server_full, err);
		if (rc != 0 || now_seconds() >= deadline)
			break;
		struct timespec pause = {0, RETRY_MS * 1000000L};
		nanosleep(&pause, NULL);
	}
	close(dirfd);
	if (rc == 0)
		return refuse_full(cfg, user, server_full, err);
	return rc < 0 ? -1 : 0;
}

void sessions_leave(struct session_slots *slots)
{
	if (slots->server_fd >= 0)
		close(slots->server_fd);
	if (slots->user_fd >= 0)
		close(slots->user_fd);
	*slots = (struct session_slots){-1, -1};
}

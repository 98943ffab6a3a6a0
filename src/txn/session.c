/* SPDX-License-Identifier: ISC */
#include "txn/session.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/repofs.h"

/* Held shared while a session directory is made and locked, exclusive while sweeping: a
 * sweeper never takes a directory in the instant between its mkdir and its flock. */
#define SWEEP_LOCK "sessions.lock"

static int lock_sweep(struct state *state, int operation)
{
	int fd = openat(state->fd, SWEEP_LOCK, O_RDONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd >= 0 && flock(fd, operation) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* A random name: the overlay's options are visible in the sandbox's mountinfo as fds only,
 * but a guessable name would still let one session find another's directory elsewhere. */
static int random_id(char *out, size_t size)
{
	unsigned char bytes[16];
	if (getrandom(bytes, sizeof(bytes), 0) != (ssize_t)sizeof(bytes))
		return -1;
	for (size_t i = 0; i < sizeof(bytes) && 2 * i + 2 < size; i++)
		snprintf(out + 2 * i, 3, "%02x", bytes[i]);
	return 0;
}

static int make_subdir(struct session *s, const char *name, char *path, int *fd, struct error *err)
{
	xsnprintf(path, PATH_MAX, "%s/sessions/%s/%s", s->state->path, s->name, name);
	if (mkdirat(s->fd, name, 0700) != 0 ||
	    (*fd = openat(s->fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return error_set(err, "cannot create the session's %s: %s", name, strerror(errno));
	return 0;
}

static int create_locked(struct session *s, const char *key, struct error *err)
{
	char id[33];
	if (random_id(id, sizeof(id)) != 0)
		return error_set(err, "no random numbers: %s", strerror(errno));
	xsnprintf(s->name, sizeof(s->name), "%s.%s", key, id);
	if (mkdirat(s->state->sessions_fd, s->name, 0700) != 0)
		return error_set(err, "cannot create a session directory in %s: %s", s->state->path,
				 strerror(errno));
	s->fd =
	    openat(s->state->sessions_fd, s->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (s->fd < 0 || flock(s->fd, LOCK_EX | LOCK_NB) != 0)
		return error_set(err, "cannot lock the session directory: %s", strerror(errno));
	return 0;
}

int session_begin(struct state *state, const char *key, struct session *out, struct error *err)
{
	*out = (struct session){
	    .state = state, .fd = -1, .upper_fd = -1, .work_fd = -1, .stage_fd = -1};
	int sweep = lock_sweep(state, LOCK_SH);
	if (sweep < 0)
		return error_set(err, "cannot lock %s/%s: %s", state->path, SWEEP_LOCK,
				 strerror(errno));
	int rc = create_locked(out, key, err);
	close(sweep);
	if (rc == 0 && make_subdir(out, "upper", out->upper_path, &out->upper_fd, err) == 0 &&
	    make_subdir(out, "work", out->work_path, &out->work_fd, err) == 0 &&
	    make_subdir(out, "stage", out->stage_path, &out->stage_fd, err) == 0 &&
	    make_subdir(out, "checked", out->checked_path, &out->checked_fd, err) == 0)
		return 0;
	session_end(out);
	return -1;
}

void session_end(struct session *s)
{
	int *fds[] = {&s->upper_fd, &s->work_fd, &s->stage_fd, &s->checked_fd};
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
	if (s->name[0] && repofs_remove(s->state->sessions_fd, s->name) != 0)
		log_admin("cannot remove the session directory %s/sessions/%s: %s", s->state->path,
			  s->name, strerror(errno));
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	s->name[0] = '\0';
}

/* A session directory whose lock nobody holds belongs to a session that died. */
static void sweep_one(struct state *state, const char *name)
{
	int fd = openat(state->sessions_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return;
	if (flock(fd, LOCK_EX | LOCK_NB) == 0 && repofs_remove(state->sessions_fd, name) != 0)
		log_admin("cannot remove the stale session %s/sessions/%s: %s", state->path, name,
			  strerror(errno));
	close(fd);
}

void session_sweep(struct state *state)
{
	int sweep = lock_sweep(state, LOCK_EX | LOCK_NB);
	if (sweep < 0)
		return; /* someone else is sweeping, or creating: next time */
	int fd = openat(state->sessions_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *entry;
	while (dir && (entry = readdir(dir))) {
		if (repofs_is_leftover(entry->d_name))
			repofs_remove(state->sessions_fd,
				      entry->d_name); /* nobody's: a cut-short removal */
		else if (entry->d_name[0] != '.')
			sweep_one(state, entry->d_name);
	}
	if (dir)
		closedir(dir);
	else if (fd >= 0)
		close(fd);
	close(sweep);
}

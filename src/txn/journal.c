/* SPDX-License-Identifier: ISC */
#include "txn/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

unsigned long long journal_rotate_bytes = JOURNAL_ROTATE_BYTES;

static void name_of(char *out, size_t size, const char *key, const char *suffix)
{
	xsnprintf(out, size, "%s.%s", key, suffix);
}

int journal_lock(struct state *state, const char *key, int operation, long long wait_ms,
		 struct error *err)
{
	char name[128];
	name_of(name, sizeof(name), key, "lock");
	int fd = openat(state->repos_fd, name, O_RDONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return error_set(err, "cannot open the repository's lock: %s", strerror(errno));
	long long deadline = clock_ms() + wait_ms;
	while (flock(fd, operation | LOCK_NB) != 0) {
		if ((errno != EWOULDBLOCK && errno != EINTR) || clock_ms() >= deadline) {
			close(fd);
			return error_set(err, "the repository is busy: another push is being "
					      "published; try again");
		}
		usleep(2000);
	}
	return fd;
}

#define HEADER_PREFIX "# gitcage journal "
#define HEADER_LEN    (sizeof(HEADER_PREFIX) - 1 + JOURNAL_GENERATION_HEX + 1)

/* A new journal file with a fresh generation, put in place whole: a reader never sees one
 * without its header. Under the lock. An existing one is kept unless replace is set. */
static int create_journal(struct state *state, const char *key, bool replace, struct error *err)
{
	char name[128], tmp[160], header[HEADER_LEN + 1];
	unsigned char bytes[JOURNAL_GENERATION_HEX / 2];
	if (getrandom(bytes, sizeof(bytes), 0) != (ssize_t)sizeof(bytes))
		return error_set(err, "no random numbers: %s", strerror(errno));
	int n = snprintf(header, sizeof(header), HEADER_PREFIX);
	for (size_t i = 0; i < sizeof(bytes); i++)
		n += snprintf(header + n, sizeof(header) - (size_t)n, "%02x", bytes[i]);
	header[n++] = '\n';
	name_of(name, sizeof(name), key, "journal");
	xsnprintf(tmp, sizeof(tmp), "%s.journal.new.%.*s", key, JOURNAL_GENERATION_HEX,
		  header + sizeof(HEADER_PREFIX) - 1);
	int fd = openat(state->repos_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			0600);
	int rc = fd >= 0 && write_all(fd, header, (size_t)n) == 0 ? 0 : -1;
	if (fd >= 0)
		close(fd);
	if (rc == 0)
		rc = renameat2(state->repos_fd, tmp, state->repos_fd, name,
			       replace ? 0 : RENAME_NOREPLACE);
	if (rc != 0 && errno == EEXIST)
		rc = 0; /* another session made it first */
	int saved = errno;
	unlinkat(state->repos_fd, tmp, 0);
	return rc == 0 ? 0 : error_set(err, "cannot create the journal: %s", strerror(saved));
}

/* The journal, opened for appending (created when missing), with its generation. */
static int open_journal(struct state *state, const char *key, char *generation, struct error *err)
{
	char name[128], header[HEADER_LEN + 1];
	name_of(name, sizeof(name), key, "journal");
	int fd = openat(state->repos_fd, name, O_RDWR | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && create_journal(state, key, false, err) == 0)
		fd = openat(state->repos_fd, name, O_RDWR | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return error_set(err, "cannot open the repository's journal: %s", strerror(errno));
	if (pread(fd, header, HEADER_LEN, 0) != (ssize_t)HEADER_LEN ||
	    strncmp(header, HEADER_PREFIX, sizeof(HEADER_PREFIX) - 1) != 0) {
		/* Not a journal of this format (damaged, or older): start a new generation. Every
		 * session with a mark in the old one then counts everything as moved. */
		close(fd);
		if (create_journal(state, key, true, err) != 0)
			return -1;
		return open_journal(state, key, generation, err);
	}
	memcpy(generation, header + sizeof(HEADER_PREFIX) - 1, JOURNAL_GENERATION_HEX);
	generation[JOURNAL_GENERATION_HEX] = '\0';
	return fd;
}

int journal_mark(struct state *state, const char *key, struct journal_mark *out, struct error *err)
{
	struct stat st;
	int fd = open_journal(state, key, out->generation, err);
	if (fd < 0)
		return -1;
	int rc = fstat(fd, &st);
	close(fd);
	if (rc != 0)
		return error_set(err, "cannot stat the repository's journal: %s", strerror(errno));
	out->offset = (uint64_t)st.st_size;
	return 0;
}

static bool parse_line(const char *line, size_t len, struct journal_entry *out, char **ref)
{
	const size_t ids = 2 * RELAY_OID_HEX + 2;
	if (len <= ids || !relay_is_oid(line, RELAY_OID_HEX) || line[RELAY_OID_HEX] != ' ' ||
	    !relay_is_oid(line + RELAY_OID_HEX + 1, RELAY_OID_HEX) || line[ids - 1] != ' ')
		return false;
	memcpy(out->old_id, line, RELAY_OID_HEX);
	out->old_id[RELAY_OID_HEX] = '\0';
	memcpy(out->new_id, line + RELAY_OID_HEX + 1, RELAY_OID_HEX);
	out->new_id[RELAY_OID_HEX] = '\0';
	*ref = xcalloc(len - ids + 1, 1);
	memcpy(*ref, line + ids, len - ids);
	return true;
}

const struct journal_entry *journal_find(const struct journal_changes *changes, const char *ref)
{
	for (size_t i = 0; i < changes->count; i++)
		if (strcmp(changes->items[i].ref, ref) == 0)
			return &changes->items[i];
	return NULL;
}

void journal_parse(const char *buf, size_t len, struct journal_changes *out)
{
	for (const char *p = buf, *end = buf + len; p < end;) {
		const char *newline = memchr(p, '\n', (size_t)(end - p));
		if (!newline)
			break; /* a torn last line: an append that never completed */
		struct journal_entry entry;
		char *ref;
		if (parse_line(p, (size_t)(newline - p), &entry, &ref)) {
			if (journal_find(out, ref)) {
				free(ref); /* a ref seen before keeps its first old value */
			} else {
				entry.ref = ref;
				grow_array(&out->items, &out->cap, out->count + 1,
					   sizeof(*out->items));
				out->items[out->count++] = entry;
			}
		}
		p = newline + 1;
	}
}

void journal_changes_free(struct journal_changes *changes)
{
	for (size_t i = 0; i < changes->count; i++)
		free((char *)changes->items[i].ref);
	free(changes->items);
	*changes = (struct journal_changes){0};
}

/* Read fd from offset to its end, into changes. A mark taken in the middle of an append
 * (marks take no lock) falls inside a line: that line counts, from its start. */
static int read_from(int fd, uint64_t offset, struct journal_changes *changes, struct error *err)
{
	struct stat st;
	char byte;
	if (fstat(fd, &st) != 0)
		return error_set(err, "cannot stat the journal: %s", strerror(errno));
	while (offset > HEADER_LEN && pread(fd, &byte, 1, (off_t)offset - 1) == 1 && byte != '\n')
		offset--;
	if ((uint64_t)st.st_size <= offset)
		return 0;
	size_t len = (size_t)((uint64_t)st.st_size - offset);
	char *buf = xcalloc(len + 1, 1);
	ssize_t got = pread(fd, buf, len, (off_t)offset);
	if (got < 0) {
		free(buf);
		return error_set(err, "cannot read the journal: %s", strerror(errno));
	}
	journal_parse(buf, (size_t)got, changes);
	free(buf);
	return 0;
}

/* KEY.journal.1, if it is the generation named. Returns its fd, or -1. */
static int open_rotated(struct state *state, const char *key, const char *generation)
{
	char name[128], header[HEADER_LEN + 1];
	name_of(name, sizeof(name), key, "journal.1");
	int fd = openat(state->repos_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0 && (pread(fd, header, HEADER_LEN, 0) != (ssize_t)HEADER_LEN ||
			strncmp(header + sizeof(HEADER_PREFIX) - 1, generation,
				JOURNAL_GENERATION_HEX) != 0)) {
		close(fd);
		fd = -1;
	}
	return fd;
}

int journal_since(struct state *state, const char *key, const struct journal_mark *mark,
		  struct journal_changes *out, struct error *err)
{
	char generation[JOURNAL_GENERATION_HEX + 1];
	*out = (struct journal_changes){0};
	int current = open_journal(state, key, generation, err);
	if (current < 0)
		return -1;
	int rc = 0;
	bool same = strcmp(generation, mark->generation) == 0;
	if (!same) {
		/* Rotated since the mark: the older part is in KEY.journal.1, if only once. */
		int old = open_rotated(state, key, mark->generation);
		if (old >= 0) {
			rc = read_from(old, mark->offset, out, err);
			close(old);
		} else {
			out->lost = true;
		}
	}
	if (rc == 0)
		rc = read_from(current, same ? mark->offset : HEADER_LEN, out, err);
	close(current);
	return rc;
}

static int rotate_if_long(struct state *state, const char *key, int fd, struct error *err)
{
	char name[128], rotated[128];
	struct stat st;
	if (fstat(fd, &st) != 0)
		return error_set(err, "cannot stat the journal: %s", strerror(errno));
	if ((unsigned long long)st.st_size < journal_rotate_bytes)
		return 0;
	name_of(name, sizeof(name), key, "journal");
	name_of(rotated, sizeof(rotated), key, "journal.1");
	if (renameat(state->repos_fd, name, state->repos_fd, rotated) != 0)
		return error_set(err, "cannot rotate the journal: %s", strerror(errno));
	return create_journal(state, key, false, err) == 0 ? 1 : -1;
}

int journal_append(struct state *state, const char *key, const struct journal_entry *entries,
		   size_t count, struct error *err)
{
	struct strbuf lines = {0};
	char generation[JOURNAL_GENERATION_HEX + 1];
	int fd = open_journal(state, key, generation, err);
	if (fd < 0)
		return -1;
	int rotated = rotate_if_long(state, key, fd, err);
	if (rotated > 0) {
		close(fd);
		fd = open_journal(state, key, generation, err);
	}
	if (rotated < 0 || fd < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	for (size_t i = 0; i < count; i++)
		strbuf_addf(&lines, "%s %s %s\n", entries[i].old_id, entries[i].new_id,
			    entries[i].ref);
	/* One write on an O_APPEND file: a reader sees the whole line or none of it. No fsync:
	 * the journal matters to live sessions only, and none survives a crash of the machine. */
	int rc = lines.len && write_all(fd, lines.data, lines.len) != 0
		     ? error_set(err, "cannot write the journal: %s", strerror(errno))
		     : 0;
	strbuf_free(&lines);
	close(fd);
	return rc;
}

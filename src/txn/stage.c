/* SPDX-License-Identifier: ISC */
#include "txn/stage.h"

#include <errno.h>
#include <fcntl.h>
#include <nettle/sha1.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/repofs.h"

static bool listed(const struct strvec *list, const char *path)
{
	for (size_t i = 0; i < list->count; i++)
		if (strcmp(list->items[i], path) == 0)
			return true;
	return false;
}

/* The same path with another suffix: objects/pack/pack-X.idx -> .pack */
static void sibling(const char *path, const char *suffix, char *out, size_t size)
{
	const char *dot = strrchr(path, '.');
	xsnprintf(out, size, "%.*s.%s", (int)(dot - path), path, suffix);
}

static int copy_data(int from, int to, unsigned long long max_size, struct error *err)
{
	unsigned long long total = 0;
	for (;;) {
		ssize_t n = copy_file_range(from, NULL, to, NULL, 1 << 24, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return error_set(err, "cannot copy: %s", strerror(errno));
		if (n == 0)
			return 0;
		total += (unsigned long long)n;
		if (max_size && total > max_size)
			return error_set(err, "larger than the filesize limit");
	}
}

static int copy_one(int upper_fd, int stage_fd, const char *path, unsigned long long max_size,
		    struct error *err)
{
	struct stat st;
	int rc = -1, from = repofs_open_file(upper_fd, path), to = -1;
	if (from < 0 || fstat(from, &st) != 0) {
		error_set(err, "%s: %s", path, strerror(errno));
	} else if (!S_ISREG(st.st_mode) || st.st_nlink != 1) {
		error_set(err, "%s is not a plain file", path);
	} else if (repofs_make_parents(stage_fd, path) != 0 ||
		   (to = openat(stage_fd, path,
				O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0444)) < 0) {
		error_set(err, "cannot stage %s: %s", path, strerror(errno));
	} else if (copy_data(from, to, max_size, err) == 0) {
		rc = 0;
	}
	if (rc != 0 && err->message[0] && strncmp(err->message, path, strlen(path)) != 0) {
		char reason[sizeof(err->message)];
		snprintf(reason, sizeof(reason), "%s", err->message);
		error_set(err, "%s: %s", path, reason);
	}
	if (from >= 0)
		close(from);
	if (to >= 0)
		close(to);
	return rc;
}

static bool is_pack(const char *path)
{
	size_t len = strlen(path);
	return len > 5 && strcmp(path + len - 5, ".pack") == 0;
}

int stage_copy(int upper_fd, int stage_fd, const struct upper_scan *scan,
	       unsigned long long max_size, const struct strvec *done, struct strvec *copied,
	       struct error *err)
{
	err->message[0] = '\0';
	const struct strvec *lists[] = {&scan->packs, &scan->loose};
	for (size_t l = 0; l < ARRAY_SIZE(lists); l++) {
		for (size_t i = 0; i < lists[l]->count; i++) {
			const char *path = lists[l]->items[i];
			if (listed(done, path) || (l == 0 && !is_pack(path)))
				continue;
			if (copy_one(upper_fd, stage_fd, path, max_size, err) != 0)
				return -1;
			strvec_push(copied, path);
		}
	}
	return 0;
}

/* The last size bytes of the file at fd, and its length. */
static int read_tail(int fd, unsigned char *out, size_t size, off_t *length)
{
	struct stat st;
	if (fstat(fd, &st) != 0 || st.st_size < (off_t)size)
		return -1;
	*length = st.st_size;
	return pread(fd, out, size, st.st_size - (off_t)size) == (ssize_t)size ? 0 : -1;
}

static bool hex_is(const unsigned char *sum, const char *hex)
{
	char text[2 * SHA1_DIGEST_SIZE + 1];
	for (size_t i = 0; i < SHA1_DIGEST_SIZE; i++)
		snprintf(text + 2 * i, 3, "%02x", sum[i]);
	return strncmp(text, hex, 2 * SHA1_DIGEST_SIZE) == 0;
}

/* What can be checked of an index without parsing a pack: its header (a version 2 index, a
 * fan-out table at least), that it names its pack by the checksum the pack ends with and
 * that is the pack's name (pack-X.pack), and its own checksum. The content of each entry is
 * the verifier's to check (contract.h). */
static int index_sound(int stage_fd, const char *pack, const char *idx, struct error *err)
{
	unsigned char pack_sum[SHA1_DIGEST_SIZE], tail[2 * SHA1_DIGEST_SIZE],
	    digest[SHA1_DIGEST_SIZE];
	unsigned char chunk[65536];
	static const unsigned char v2[8] = {0xff, 't', 'O', 'c', 0, 0, 0, 2};
	const char *name = strrchr(pack, '/') + 1 + 5; /* past "pack-": shape checked */
	off_t pack_len, idx_len, done = 0;
	int p = openat(stage_fd, pack, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), rc = -1;
	int i = openat(stage_fd, idx, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct sha1_ctx sha;
	sha1_init(&sha);
	if (p >= 0 && i >= 0 && read_tail(p, pack_sum, sizeof(pack_sum), &pack_len) == 0 &&
	    read_tail(i, tail, sizeof(tail), &idx_len) == 0 && idx_len >= 8 + 1024 + 40 &&
	    pread(i, chunk, 8, 0) == 8 && memcmp(chunk, v2, 8) == 0 && hex_is(pack_sum, name) &&
	    memcmp(tail, pack_sum, SHA1_DIGEST_SIZE) == 0) {
		ssize_t n = 1;
		while (done < idx_len - SHA1_DIGEST_SIZE && n > 0) {
			size_t want = (size_t)(idx_len - SHA1_DIGEST_SIZE - done);
			n = pread(i, chunk, want < sizeof(chunk) ? want : sizeof(chunk), done);
			if (n > 0) {
				sha1_update(&sha, (size_t)n, chunk);
				done += n;
			}
		}
		sha1_digest(&sha, sizeof(digest), digest);
		rc = done == idx_len - SHA1_DIGEST_SIZE &&
			     memcmp(digest, tail + SHA1_DIGEST_SIZE, SHA1_DIGEST_SIZE) == 0
			 ? 0
			 : -1;
	}
	if (p >= 0)
		close(p);
	if (i >= 0)
		close(i);
	return rc == 0 ? 0 : error_set(err, "the index made of %s does not match it", pack);
}

int stage_import(int from_dir, const char *name, int stage_fd, const char *pack, struct error *err)
{
	char idx[4096];
	sibling(pack, "idx", idx, sizeof(idx));
	if (copy_one(from_dir, stage_fd, name, 0, err) != 0)
		return -1;
	if (renameat(stage_fd, name, stage_fd, idx) != 0)
		return error_set(err, "cannot stage the index of %s: %s", pack, strerror(errno));
	return index_sound(stage_fd, pack, idx, err);
}

/* The stage on another file system than the repository (a `run` with its state in /tmp):
 * copy into an unnamed file in the target directory, then give it its name, so that a copy
 * cut short leaves nothing behind. */
static int copy_in(int stage_fd, int repo_fd, const char *path, struct error *err)
{
	char dir[4096], proc[64];
	const char *name = strrchr(path, '/') + 1;
	xsnprintf(dir, sizeof(dir), "%.*s", (int)(name - path - 1), path);
	int rc = -1, from = openat(stage_fd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), to = -1;
	int parent = repofs_open_dir(repo_fd, dir, O_RDONLY);
	if (from >= 0 && parent >= 0)
		to = openat(parent, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0444);
	if (to < 0)
		error_set(err, "cannot publish %s: %s", path, strerror(errno));
	else if (copy_data(from, to, 0, err) == 0 && fsync(to) == 0) {
		xsnprintf(proc, sizeof(proc), "/proc/self/fd/%d", to);
		if (linkat(AT_FDCWD, proc, parent, name, AT_SYMLINK_FOLLOW) == 0 || errno == EEXIST)
			rc = 0;
		else
			error_set(err, "cannot publish %s: %s", path, strerror(errno));
	}
	int fds[] = {from, to, parent};
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return rc;
}

/* Move one staged file in; it is synced first, so that a ref never points to data the disk
 * may not have yet. */
static int move_in(int stage_fd, int repo_fd, const char *path, struct error *err)
{
	int fd = openat(stage_fd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fsync(fd) != 0) {
		if (fd >= 0)
			close(fd);
		return error_set(err, "cannot sync %s: %s", path, strerror(errno));
	}
	close(fd);
	if (repofs_make_parents(repo_fd, path) != 0)
		return error_set(err, "cannot create the directory of %s: %s", path,
				 strerror(errno));
	if (renameat2(stage_fd, path, repo_fd, path, RENAME_NOREPLACE) == 0 || errno == EEXIST)
		return 0;
	if (errno == EXDEV)
		return copy_in(stage_fd, repo_fd, path, err);
	return error_set(err, "cannot move %s into the repository: %s", path, strerror(errno));
}

/* Publishing order: 0 packs and reverse indexes, 1 indexes, 2 loose objects. */
static int order_of(const char *path)
{
	size_t len = strlen(path);
	if (strncmp(path, "objects/pack/", 13) != 0)
		return 2;
	return len > 4 && strcmp(path + len - 4, ".idx") == 0 ? 1 : 0;
}

int stage_publish(int stage_fd, int repo_fd, const struct strvec *staged, struct error *err)
{
	for (int order = 0; order < 3; order++)
		for (size_t i = 0; i < staged->count; i++)
			if (order_of(staged->items[i]) == order &&
			    move_in(stage_fd, repo_fd, staged->items[i], err) != 0)
				return -1;
	return 0;
}

/* SPDX-License-Identifier: ISC */
#include "common/snapshot.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAGIC		"gitcage-snapshot-1\n"
#define MAX_HEAD	4096
#define MAX_CONFIG	(4 << 20)
#define MAX_LOOSE_REF	4096
#define MAX_PACKED_REFS (1ULL << 31)

const char *const snapshot_protected_dirs[3] = {"hooks", "info", "objects/info"};

/* --- scanning the repository as it is now --- */

struct entry_list {
	struct snapshot_entry *items;
	size_t count, capacity;
};

static void entry_list_add(struct entry_list *list, const char *name,
			   const struct repofs_stamp *stamp)
{
	if (list->count == list->capacity) {
		list->capacity = list->capacity ? list->capacity * 2 : 32;
		list->items = realloc(list->items, list->capacity * sizeof(*list->items));
		if (!list->items)
			die("out of memory");
	}
	list->items[list->count++] = (struct snapshot_entry){xstrdup(name), *stamp};
}

static int compare_entries(const void *a, const void *b)
{
	return strcmp(((const struct snapshot_entry *)a)->name,
		      ((const struct snapshot_entry *)b)->name);
}

/* The entries of one directory, not recursive, with their stamps. A missing directory is
 * empty. prefix is prepended to each name ("" for the top level). */
static int list_directory(int repo_fd, const char *path, const char *prefix,
			  struct entry_list *list)
{
	int fd = repofs_open_dir(repo_fd, path, O_RDONLY);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	DIR *dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return -1;
	}
	struct dirent *entry;
	int rc = 0;
	while (rc == 0 && (entry = readdir(dir))) {
		char name[PATH_MAX];
		struct repofs_stamp stamp;
		if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
			continue;
		if (repofs_stamp(dirfd(dir), entry->d_name, &stamp) != 0)
			rc = -1;
		else if (stamp.exists && snprintf(name, sizeof(name), "%s%s", prefix,
						  entry->d_name) < (int)sizeof(name))
			entry_list_add(list, name, &stamp);
	}
	closedir(dir);
	return rc;
}

static int stamp_entry(const char *path, mode_t type, int parent_fd, const char *name,
		       void *payload)
{
	struct repofs_stamp stamp;
	(void)type;
	if (repofs_stamp(parent_fd, name, &stamp) != 0)
		return -1;
	entry_list_add(payload, path, &stamp);
	return 0;
}

int snapshot_scan_entries(int repo_fd, const char *path, int recursive, struct snapshot_entry **out,
			  size_t *count)
{
	struct entry_list list = {0};
	char prefix[PATH_MAX];
	int rc;
	snprintf(prefix, sizeof(prefix), "%s/", path);
	if (recursive)
		rc = repofs_walk(repo_fd, path, stamp_entry, &list);
	else
		rc = list_directory(repo_fd, path, strcmp(path, ".") == 0 ? "" : prefix, &list);
	if (list.count)
		qsort(list.items, list.count, sizeof(*list.items), compare_entries);
	*out = list.items;
	*count = list.count;
	return rc;
}

void snapshot_entries_free(struct snapshot_entry *entries, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free((char *)entries[i].name);
	free(entries);
}

struct ref_list {
	struct loose_ref *items;
	size_t count, capacity;
};

static void ref_list_add(struct ref_list *list, const char *name, unsigned kind, char *value,
			 size_t value_len)
{
	if (list->count == list->capacity) {
		list->capacity = list->capacity ? list->capacity * 2 : 32;
		list->items = realloc(list->items, list->capacity * sizeof(*list->items));
		if (!list->items)
			die("out of memory");
	}
	list->items[list->count++] = (struct loose_ref){xstrdup(name), value, value_len, kind};
}

static int ends_with(const char *s, const char *suffix)
{
	size_t len = strlen(s), suffix_len = strlen(suffix);
	return len >= suffix_len && strcmp(s + len - suffix_len, suffix) == 0;
}

/* A file, read; a link, its target (never followed); anything else, only its kind. */
static int add_loose_ref(const char *path, mode_t type, int parent_fd, const char *name,
			 void *payload)
{
	char *value = NULL;
	size_t len = 0;
	if (type == S_IFDIR || (type == S_IFREG && ends_with(name, ".lock")))
		return 0;
	if (type == S_IFREG) {
		if (repofs_read(parent_fd, name, MAX_LOOSE_REF, &value, &len) == 0)
			ref_list_add(payload, path, LOOSE_FILE, value, len);
		else if (errno == EFBIG)
			ref_list_add(payload, path, LOOSE_OTHER, xstrdup(""), 0);
		else
			return errno == ENOENT ? 0 : -1;
		return 0;
	}
	if (type == S_IFLNK) {
		char target[PATH_MAX];
		ssize_t n = readlinkat(parent_fd, name, target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = '\0';
		ref_list_add(payload, path, LOOSE_LINK, xstrdup(target), strlen(target));
		return 0;
	}
	ref_list_add(payload, path, LOOSE_OTHER, xstrdup(""), 0);
	return 0;
}

static int compare_refs(const void *a, const void *b)
{
	return strcmp(((const struct loose_ref *)a)->name, ((const struct loose_ref *)b)->name);
}

int snapshot_scan_refs(int repo_fd, struct loose_ref **refs, size_t *count)
{
	struct ref_list list = {0};
	int rc = repofs_walk(repo_fd, "refs", add_loose_ref, &list);
	if (list.count)
		qsort(list.items, list.count, sizeof(*list.items), compare_refs);
	*refs = list.items;
	*count = list.count;
	return rc;
}

void loose_refs_free(struct loose_ref *refs, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		free((char *)refs[i].name);
		free((char *)refs[i].value);
	}
	free(refs);
}

int loose_ref_equal(const struct loose_ref *a, const struct loose_ref *b)
{
	return a->kind == b->kind && a->value_len == b->value_len &&
	       memcmp(a->value, b->value, a->value_len) == 0;
}

/* --- serialization: a flat buffer every loaded pointer points into --- */

struct builder {
	char *data;
	size_t len, capacity;
};

static void put_bytes(struct builder *b, const void *data, size_t len)
{
	if (b->len + len > b->capacity) {
		size_t grown = b->capacity ? b->capacity : 4096;
		while (grown < b->len + len)
			grown *= 2;
		b->data = realloc(b->data, grown);
		if (!b->data)
			die("out of memory");
		b->capacity = grown;
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
}

static void put_u64(struct builder *b, uint64_t value)
{
	put_bytes(b, &value, sizeof(value));
}

/* Length, bytes, then a NUL, so that a loaded string can be used in place. */
static void put_string(struct builder *b, const char *s, size_t len)
{
	put_u64(b, len);
	put_bytes(b, s, len);
	put_bytes(b, "", 1);
}

static void put_entries(struct builder *b, const struct snapshot_entry *entries, size_t count)
{
	put_u64(b, count);
	for (size_t i = 0; i < count; i++) {
		put_string(b, entries[i].name, strlen(entries[i].name));
		put_bytes(b, &entries[i].stamp, sizeof(entries[i].stamp));
	}
}

static void put_refs(struct builder *b, const struct loose_ref *refs, size_t count)
{
	put_u64(b, count);
	for (size_t i = 0; i < count; i++) {
		put_string(b, refs[i].name, strlen(refs[i].name));
		put_u64(b, refs[i].kind);
		put_string(b, refs[i].value, refs[i].value_len);
	}
}

static void put_optional(struct builder *b, const char *data, size_t len)
{
	put_u64(b, data != NULL);
	put_string(b, data ? data : "", data ? len : 0);
}

/* The state gathered by take(), in owned memory, before it is serialized. */
struct gathered {
	struct repofs_stamp start, config, packed, objects, pack_dir;
	char *head, *config_data;
	size_t head_len, config_len;
	int packed_fd; /* copied by the kernel into the memfd, last: never through our memory */
	struct snapshot_entry *top, *protected_entries, *packs;
	size_t top_count, protected_count, pack_count;
	struct loose_ref *refs;
	size_t ref_count;
};

/* The layout: MAGIC, the length of the metadata (all that follows up to the packed-refs
 * bytes), the metadata, then packed-refs and a NUL (write_packed). */
static void serialize(const struct gathered *g, struct builder *b)
{
	put_bytes(b, MAGIC, strlen(MAGIC));
	put_u64(b, 0); /* the metadata's length, known at the end */
	put_u64(b, (uint64_t)g->start.ctime_sec);
	put_u64(b, (uint64_t)g->start.ctime_nsec);
	put_bytes(b, &g->config, sizeof(g->config));
	put_bytes(b, &g->packed, sizeof(g->packed));
	put_bytes(b, &g->objects, sizeof(g->objects));
	put_bytes(b, &g->pack_dir, sizeof(g->pack_dir));
	put_string(b, g->head, g->head_len);
	put_optional(b, g->config_data, g->config_len);
	put_entries(b, g->top, g->top_count);
	put_entries(b, g->protected_entries, g->protected_count);
	put_entries(b, g->packs, g->pack_count);
	put_refs(b, g->refs, g->ref_count);
	put_u64(b, g->packed_fd >= 0);
	put_u64(b, g->packed_fd >= 0 ? g->packed.size : 0);
	uint64_t len = b->len;
	memcpy(b->data + strlen(MAGIC), &len, sizeof(len));
}

struct cursor {
	char *p, *end;
	int bad;
};

static void get_bytes(struct cursor *c, void *out, size_t len)
{
	if (c->bad || (size_t)(c->end - c->p) < len) {
		c->bad = 1;
		memset(out, 0, len);
		return;
	}
	memcpy(out, c->p, len);
	c->p += len;
}

static uint64_t get_u64(struct cursor *c)
{
	uint64_t value;
	get_bytes(c, &value, sizeof(value));
	return value;
}

static char *get_string(struct cursor *c, size_t *len_out)
{
	uint64_t len = get_u64(c);
	if (c->bad || len >= (uint64_t)(c->end - c->p) || c->p[len] != '\0') {
		c->bad = 1;
		return NULL;
	}
	char *s = c->p;
	c->p += len + 1;
	if (len_out)
		*len_out = (size_t)len;
	return s;
}

static struct snapshot_entry *get_entries(struct cursor *c, size_t *count)
{
	uint64_t n = get_u64(c);
	if (c->bad || n > (uint64_t)(c->end - c->p) / 8) {
		c->bad = 1;
		*count = 0;
		return NULL;
	}
	struct snapshot_entry *entries = xcalloc((size_t)n, sizeof(*entries));
	for (uint64_t i = 0; i < n && !c->bad; i++) {
		entries[i].name = get_string(c, NULL);
		get_bytes(c, &entries[i].stamp, sizeof(entries[i].stamp));
	}
	*count = c->bad ? 0 : (size_t)n;
	if (*count)
		qsort(entries, *count, sizeof(*entries), compare_entries);
	return entries;
}

static struct loose_ref *get_refs(struct cursor *c, size_t *count)
{
	uint64_t n = get_u64(c);
	if (c->bad || n > (uint64_t)(c->end - c->p) / 8) {
		c->bad = 1;
		*count = 0;
		return NULL;
	}
	struct loose_ref *refs = xcalloc((size_t)n, sizeof(*refs));
	for (uint64_t i = 0; i < n && !c->bad; i++) {
		refs[i].name = get_string(c, NULL);
		refs[i].kind = (unsigned)get_u64(c);
		refs[i].value = get_string(c, &refs[i].value_len);
	}
	*count = c->bad ? 0 : (size_t)n;
	if (*count)
		qsort(refs, *count, sizeof(*refs), compare_refs);
	return refs;
}

static char *get_optional(struct cursor *c, size_t *len)
{
	uint64_t present = get_u64(c);
	char *s = get_string(c, len);
	return present ? s : NULL;
}

static int load(char *data, size_t len, struct snapshot *out, struct error *err)
{
	struct cursor c = {data + strlen(MAGIC) + sizeof(uint64_t), data + len, 0};
	out->start_sec = (int64_t)get_u64(&c);
	out->start_nsec = (int64_t)get_u64(&c);
	get_bytes(&c, &out->config, sizeof(out->config));
	get_bytes(&c, &out->packed, sizeof(out->packed));
	get_bytes(&c, &out->objects, sizeof(out->objects));
	get_bytes(&c, &out->pack_dir, sizeof(out->pack_dir));
	out->head = get_string(&c, &out->head_len);
	out->config_data = get_optional(&c, &out->config_len);
	out->top = get_entries(&c, &out->top_count);
	out->protected_entries = get_entries(&c, &out->protected_count);
	out->packs = get_entries(&c, &out->pack_count);
	out->refs = get_refs(&c, &out->ref_count);
	out->has_packed = get_u64(&c) != 0;
	out->packed_len = get_u64(&c);
	out->packed_offset = len;
	if (c.bad || c.p != c.end)
		return error_set(err, "the snapshot is truncated or corrupt");
	return 0;
}

/* --- taking a snapshot --- */

/* packed-refs is opened here and copied later: its stamp comes from the same open file, so
 * that both describe one version even if git replaces the file meanwhile. */
static int open_packed(int repo_fd, struct gathered *g, struct error *err)
{
	struct stat st;
	g->packed_fd = repofs_open_file(repo_fd, "packed-refs");
	if (g->packed_fd < 0 && errno == ENOENT)
		return 0;
	if (g->packed_fd < 0 || fstat(g->packed_fd, &st) != 0)
		return error_set(err, "cannot read packed-refs: %s", strerror(errno));
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > MAX_PACKED_REFS)
		return error_set(err, "packed-refs is not a regular file of a sane size");
	repofs_fill_stamp(&st, &g->packed);
	return 0;
}

static int gather_files(int repo_fd, struct gathered *g, struct error *err)
{
	if (repofs_read(repo_fd, "HEAD", MAX_HEAD, &g->head, &g->head_len) != 0)
		return error_set(err, "cannot read HEAD: %s", strerror(errno));
	if (repofs_stamp(repo_fd, "config", &g->config) != 0 ||
	    (g->config.exists &&
	     repofs_read(repo_fd, "config", MAX_CONFIG, &g->config_data, &g->config_len) != 0))
		return error_set(err, "cannot read config: %s", strerror(errno));
	return open_packed(repo_fd, g, err);
}

static int gather_protected(int repo_fd, struct gathered *g)
{
	struct entry_list all = {0};
	for (size_t i = 0; i < ARRAY_SIZE(snapshot_protected_dirs); i++) {
		struct snapshot_entry *entries;
		size_t count;
		if (snapshot_scan_entries(repo_fd, snapshot_protected_dirs[i], 1, &entries,
					  &count) != 0)
			return -1;
		for (size_t j = 0; j < count; j++)
			entry_list_add(&all, entries[j].name, &entries[j].stamp);
		snapshot_entries_free(entries, count);
	}
	g->protected_entries = all.items;
	g->protected_count = all.count;
	return 0;
}

static int gather_objects(int repo_fd, struct gathered *g, struct error *err)
{
	if (repofs_stamp(repo_fd, "objects", &g->objects) != 0 ||
	    repofs_stamp(repo_fd, "objects/pack", &g->pack_dir) != 0 ||
	    snapshot_scan_entries(repo_fd, "objects/pack", 0, &g->packs, &g->pack_count) != 0)
		return error_set(err, "cannot read objects/: %s", strerror(errno));
	return 0;
}

static int gather(int repo_fd, struct gathered *g, struct error *err)
{
	struct timespec now;
	/* First: whatever is written from now on has a ctime at or after this. The coarse
	 * clock lags the one the kernel stamps files with, never leads it. */
	clock_gettime(CLOCK_REALTIME_COARSE, &now);
	g->start.ctime_sec = now.tv_sec;
	g->start.ctime_nsec = now.tv_nsec;
	if (snapshot_scan_entries(repo_fd, ".", 0, &g->top, &g->top_count) != 0)
		return error_set(err, "cannot list the repository: %s", strerror(errno));
	if (gather_files(repo_fd, g, err) != 0 || gather_objects(repo_fd, g, err) != 0)
		return -1;
	if (gather_protected(repo_fd, g) != 0)
		return error_set(err, "cannot read hooks/, info/ or objects/info/: %s",
				 strerror(errno));
	if (snapshot_scan_refs(repo_fd, &g->refs, &g->ref_count) != 0)
		return error_set(err, "cannot read refs/: %s", strerror(errno));
	return 0;
}

static void gathered_free(struct gathered *g)
{
	free(g->head);
	free(g->config_data);
	if (g->packed_fd >= 0)
		close(g->packed_fd);
	snapshot_entries_free(g->top, g->top_count);
	snapshot_entries_free(g->protected_entries, g->protected_count);
	snapshot_entries_free(g->packs, g->pack_count);
	loose_refs_free(g->refs, g->ref_count);
}

static int check_bare(int repo_fd, struct error *err)
{
	struct repofs_stamp head, objects, refs;
	if (repofs_stamp(repo_fd, "HEAD", &head) != 0 || !S_ISREG(head.mode) ||
	    repofs_stamp(repo_fd, "objects", &objects) != 0 || !S_ISDIR(objects.mode) ||
	    repofs_stamp(repo_fd, "refs", &refs) != 0 || !S_ISDIR(refs.mode))
		return error_set(err, "not a bare git repository (HEAD, objects/ and refs/ must "
				      "be a file and directories, not links)");
	return 0;
}

/* The kernel copies packed-refs (megabytes in a large repository) straight into the memfd:
 * reading it into fresh memory first costs a page fault per page. */
static int write_packed(int fd, const struct gathered *g)
{
	off_t offset = 0;
	while (g->packed_fd >= 0 && (uint64_t)offset < g->packed.size) {
		ssize_t n = sendfile(fd, g->packed_fd, &offset, g->packed.size - (uint64_t)offset);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n == 0 ? (errno = EAGAIN, -1) : -1; /* shrank: replaced meanwhile */
	}
	return write_all(fd, "", 1); /* the NUL that ends it, as after every string */
}

static int seal(int fd)
{
	return fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
}

static int write_memfd(const struct gathered *g, const struct builder *b, struct error *err)
{
	int fd = memfd_create("gitcage-snapshot", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	/* Sealed: what the guard reads is what was taken, whoever else holds the fd. */
	if (fd < 0 || write_all(fd, b->data, b->len) != 0 || write_packed(fd, g) != 0 ||
	    seal(fd) != 0) {
		error_set(err, "cannot store the snapshot: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

int snapshot_take_memfd(int repo_fd, struct error *err)
{
	struct gathered g = {.packed_fd = -1};
	struct builder b = {0};
	int fd = -1;
	if (check_bare(repo_fd, err) == 0 && gather(repo_fd, &g, err) == 0) {
		serialize(&g, &b);
		fd = write_memfd(&g, &b, err);
	}
	gathered_free(&g);
	free(b.data);
	return fd;
}

int snapshot_take(int repo_fd, struct snapshot *out, struct error *err)
{
	memset(out, 0, sizeof(*out));
	int fd = snapshot_take_memfd(repo_fd, err);
	if (fd < 0)
		return -1;
	int rc = snapshot_from_fd(fd, out, err);
	close(fd); /* the snapshot keeps its own */
	return rc;
}

static int read_at(int fd, void *buf, size_t len, uint64_t offset)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = pread(fd, (char *)buf + done, len - done, (off_t)(offset + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n == 0 ? (errno = EIO, -1) : -1;
		done += (size_t)n;
	}
	return 0;
}

/* The metadata's length, from the fixed header; 0 when this is no snapshot. */
static uint64_t metadata_length(int fd, uint64_t file_size)
{
	char header[sizeof(MAGIC) - 1 + sizeof(uint64_t)];
	uint64_t len;
	if (file_size < sizeof(header) || read_at(fd, header, sizeof(header), 0) != 0 ||
	    memcmp(header, MAGIC, strlen(MAGIC)) != 0)
		return 0;
	memcpy(&len, header + strlen(MAGIC), sizeof(len));
	return len >= sizeof(header) && len < file_size && len <= (64 << 20) ? len : 0;
}

int snapshot_from_fd(int fd, struct snapshot *out, struct error *err)
{
	struct stat st;
	memset(out, 0, sizeof(*out));
	out->fd = -1;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		return error_set(err, "the snapshot fd is not a readable file");
	uint64_t len = metadata_length(fd, (uint64_t)st.st_size);
	if (!len)
		return error_set(err, "not a gitcage snapshot, or a truncated one");
	out->storage = xcalloc(1, (size_t)len);
	out->storage_len = (size_t)len;
	out->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (out->fd < 0 || read_at(fd, out->storage, (size_t)len, 0) != 0 ||
	    load(out->storage, (size_t)len, out, err) != 0 ||
	    (uint64_t)st.st_size != len + out->packed_len + 1) {
		snapshot_free(out);
		return error_set(err, "the snapshot is truncated or corrupt");
	}
	return 0;
}

int snapshot_load_packed(struct snapshot *snapshot)
{
	if (!snapshot->has_packed || snapshot->packed_data)
		return 0;
	char *data = xcalloc(1, (size_t)snapshot->packed_len + 1);
	if (read_at(snapshot->fd, data, (size_t)snapshot->packed_len, snapshot->packed_offset) !=
	    0) {
		free(data);
		return -1;
	}
	snapshot->packed_data = data;
	return 0;
}

int snapshot_find_packed(struct snapshot *snapshot, const char *name, struct packed_ref *out)
{
	if (!snapshot->has_packed)
		return 0;
	if (!snapshot->packed_data) {
		int found = packed_find_in_file(snapshot->fd, snapshot->packed_offset,
						snapshot->packed_len, name, out);
		if (found >= 0)
			return found;
		if (snapshot_load_packed(snapshot) != 0) /* an unsorted file: search it whole */
			return -1;
	}
	return packed_find(snapshot->packed_data, (size_t)snapshot->packed_len, name, out);
}

void snapshot_free(struct snapshot *snapshot)
{
	free(snapshot->top);
	free(snapshot->protected_entries);
	free(snapshot->packs);
	free(snapshot->refs);
	free(snapshot->packed_data);
	if (snapshot->storage && snapshot->fd >= 0)
		close(snapshot->fd);
	free(snapshot->storage);
	memset(snapshot, 0, sizeof(*snapshot));
}

const struct snapshot_entry *snapshot_find_entry(const struct snapshot_entry *entries, size_t count,
						 const char *name)
{
	struct snapshot_entry key = {.name = name};
	if (!count)
		return NULL;
	return bsearch(&key, entries, count, sizeof(*entries), compare_entries);
}

const struct loose_ref *snapshot_find_ref(const struct snapshot *snapshot, const char *name)
{
	struct loose_ref key = {.name = name};
	if (!snapshot->ref_count)
		return NULL;
	return bsearch(&key, snapshot->refs, snapshot->ref_count, sizeof(*snapshot->refs),
		       compare_refs);
}

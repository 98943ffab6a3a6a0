/* SPDX-License-Identifier: ISC */
#include "guard/verify.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <git2.h>
#include <git2/sys/odb_backend.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/repofs.h"
#include "common/rollback.h"
#include "common/util.h"

/* --- a set of object ids: open addressing, ids are uniform hashes already --- */

struct oidset {
	git_oid *slots;
	unsigned char *used;
	size_t capacity, count;
};

static size_t oid_hash(const git_oid *id)
{
	size_t hash;
	memcpy(&hash, id->id, sizeof(hash));
	return hash;
}

static void oidset_grow(struct oidset *set);

/* Returns 1 when added, 0 when it was there. */
static int oidset_add(struct oidset *set, const git_oid *id)
{
	if (set->count * 2 >= set->capacity)
		oidset_grow(set);
	size_t i = oid_hash(id) & (set->capacity - 1);
	while (set->used[i]) {
		if (git_oid_equal(&set->slots[i], id))
			return 0;
		i = (i + 1) & (set->capacity - 1);
	}
	set->used[i] = 1;
	git_oid_cpy(&set->slots[i], id);
	set->count++;
	return 1;
}

static int oidset_contains(const struct oidset *set, const git_oid *id)
{
	if (!set->capacity)
		return 0;
	for (size_t i = oid_hash(id) & (set->capacity - 1); set->used[i];
	     i = (i + 1) & (set->capacity - 1))
		if (git_oid_equal(&set->slots[i], id))
			return 1;
	return 0;
}

static void oidset_grow(struct oidset *set)
{
	struct oidset bigger = {.capacity = set->capacity ? set->capacity * 2 : 64};
	bigger.slots = xcalloc(bigger.capacity, sizeof(*bigger.slots));
	bigger.used = xcalloc(bigger.capacity, 1);
	for (size_t i = 0; i < set->capacity; i++)
		if (set->used[i])
			oidset_add(&bigger, &set->slots[i]);
	free(set->slots);
	free(set->used);
	*set = bigger;
}

static void oidset_free(struct oidset *set)
{
	free(set->slots);
	free(set->used);
	memset(set, 0, sizeof(*set));
}

/* --- libgit2 --- */

void verify_init(void)
{
	static int done;
	if (done++)
		return;
	git_libgit2_init();
	/* The repository's verdict must not depend on /etc/gitconfig or ~/.gitconfig. */
	static const int levels[] = {GIT_CONFIG_LEVEL_SYSTEM, GIT_CONFIG_LEVEL_XDG,
				     GIT_CONFIG_LEVEL_GLOBAL, GIT_CONFIG_LEVEL_PROGRAMDATA};
	for (size_t i = 0; i < ARRAY_SIZE(levels); i++)
		git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, levels[i], "");
	/* gitcage checks ownership itself; the admin's `verify` reads others' repositories. */
	git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, 0);
	git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 1);
}

static const char *last_error(void)
{
	const git_error *e = git_error_last();
	return e && e->message ? e->message : "unknown libgit2 error";
}

struct store {
	git_odb *odb;
	git_repository *repo; /* a wrapper around odb, for object parsing */
	/* new: in a new pack, or a loose file written since the snapshot; bad: a loose "object"
	 * that is a link or a special file */
	struct oidset new_objects, bad_objects, visited;
	unsigned char fanout_read[256];
	int objects_fd;
	int64_t start_sec, start_nsec;
	git_oid *stack;
	size_t depth, stack_capacity;
	char objects_path[64];
	const struct policy *policy; /* NULL: no branch protection, no blob limit */
	size_t large_size;	     /* the size of the blob a walk found over the limit */
};

/* The repository's own object store, with its alternates: those were checked unchanged,
 * and beneath the repositories root, before this runs. Through /proc/self/fd, the path is
 * the very directory the fd holds, whatever its name. */
static int open_store(int repo_fd, struct store *store, struct error *err)
{
	snprintf(store->objects_path, sizeof(store->objects_path), "/proc/self/fd/%d/objects",
		 repo_fd);
	if (git_odb_open(&store->odb, store->objects_path) != 0 ||
	    git_repository_wrap_odb(&store->repo, store->odb) != 0)
		return error_set(err, "cannot open the object store: %s", last_error());
	store->objects_fd = repofs_open_dir(repo_fd, "objects", O_PATH);
	if (store->objects_fd < 0)
		return error_set(err, "cannot open objects/: %s", strerror(errno));
	return 0;
}

static void close_store(struct store *store)
{
	git_repository_free(store->repo);
	git_odb_free(store->odb);
	if (store->objects_fd >= 0)
		close(store->objects_fd);
	oidset_free(&store->new_objects);
	oidset_free(&store->bad_objects);
	oidset_free(&store->visited);
	free(store->stack);
}

static int add_new_object(const git_oid *id, void *payload)
{
	oidset_add(payload, id);
	return 0;
}

static int add_pack_objects(struct store *store, const char *idx, struct error *err)
{
	char path[PATH_MAX];
	git_odb_backend *backend = NULL;
	git_odb *one = NULL;
	snprintf(path, sizeof(path), "%s/%s", store->objects_path, idx + strlen("objects/"));
	int rc = git_odb_backend_one_pack(&backend, path);
	if (rc == 0 && (rc = git_odb_new(&one)) == 0 &&
	    (rc = git_odb_add_backend(one, backend, 1)) == 0)
		backend = NULL; /* owned by one */
	if (rc == 0)
		rc = git_odb_foreach(one, add_new_object, &store->new_objects);
	if (backend)
		backend->free(backend);
	git_odb_free(one);
	if (rc != 0)
		return error_set(err, "cannot read the new pack %s: %s", idx, last_error());
	return 0;
}

static int collect_new_packs(struct store *store, const struct changes *changes, struct error *err)
{
	for (size_t i = 0; i < changes->new_pack_count; i++)
		if (add_pack_objects(store, changes->new_packs[i], err) != 0)
			return -1;
	return 0;
}

static int written_since_start(const struct store *store, const struct stat *st)
{
	return st->st_ctim.tv_sec > store->start_sec ||
	       (st->st_ctim.tv_sec == store->start_sec && st->st_ctim.tv_nsec >= store->start_nsec);
}

static void note_loose(struct store *store, int dir_fd, const char *dir, const char *name)
{
	struct stat st;
	char hex[GIT_OID_HEXSZ + 1];
	git_oid id;
	if (strlen(name) != GIT_OID_HEXSZ - 2 || strspn(name, "0123456789abcdef") != strlen(name) ||
	    fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return; /* a temporary file, or gone */
	memcpy(hex, dir, 2);
	memcpy(hex + 2, name, GIT_OID_HEXSZ - 2);
	hex[GIT_OID_HEXSZ] = '\0';
	if (git_oid_fromstr(&id, hex) != 0)
		return;
	if (!S_ISREG(st.st_mode))
		oidset_add(&store->bad_objects, &id);
	else if (written_since_start(store, &st))
		oidset_add(&store->new_objects, &id);
}

/* The loose objects of one fan-out directory written since the snapshot, read the first time
 * the walk meets an id of that directory, and only if the directory changed since then:
 * O(new objects), plus one stat per directory the walk touches. */
static void read_fanout(struct store *store, unsigned index)
{
	char dir[3];
	struct stat st;
	store->fanout_read[index] = 1;
	snprintf(dir, sizeof(dir), "%02x", index);
	if (fstatat(store->objects_fd, dir, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
	    !S_ISDIR(st.st_mode) || !written_since_start(store, &st))
		return;
	int fd = openat(store->objects_fd, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	struct dirent *entry;
	while ((entry = readdir(d)))
		note_loose(store, dirfd(d), dir, entry->d_name);
	closedir(d);
}

static void push(struct store *store, const git_oid *id)
{
	if (store->depth == store->stack_capacity) {
		store->stack_capacity = store->stack_capacity ? store->stack_capacity * 2 : 256;
		store->stack = realloc(store->stack, store->stack_capacity * sizeof(*store->stack));
		if (!store->stack)
			die("out of memory");
	}
	git_oid_cpy(&store->stack[store->depth++], id);
}

/* Push what an object refers to: a commit's tree and parents, a tree's entries (not
 * submodule commits: those live elsewhere), a tag's target. */
static int push_children(struct store *store, const git_object *object)
{
	switch (git_object_type(object)) {
	case GIT_OBJECT_COMMIT: {
		const git_commit *commit = (const git_commit *)object;
		push(store, git_commit_tree_id(commit));
		for (unsigned i = 0; i < git_commit_parentcount(commit); i++)
			push(store, git_commit_parent_id(commit, i));
		return 0;
	}
	case GIT_OBJECT_TREE:
		for (size_t i = 0; i < git_tree_entrycount((const git_tree *)object); i++) {
			const git_tree_entry *entry =
			    git_tree_entry_byindex((const git_tree *)object, i);
			if (git_tree_entry_filemode(entry) != GIT_FILEMODE_COMMIT)
				push(store, git_tree_entry_id(entry));
		}
		return 0;
	case GIT_OBJECT_TAG:
		push(store, git_tag_target_id((const git_tag *)object));
		return 0;
	default:
		return 0;
	}
}

#define VISIT_TOO_LARGE (-2)

/* One object of the walk. An object that existed before the write only has to exist; a new
 * one is parsed and its references followed (blobs are never read: only their presence and
 * size matter). Returns 0, -1 with the missing or unreadable id in *bad, or VISIT_TOO_LARGE
 * with a new blob over max-blob-size in *bad. */
static int visit(struct store *store, const git_oid *id, git_oid *bad)
{
	if (!oidset_add(&store->visited, id))
		return 0;
	if (!store->fanout_read[id->id[0]])
		read_fanout(store, id->id[0]);
	if (oidset_contains(&store->bad_objects, id)) {
		git_oid_cpy(bad, id);
		return -1;
	}
	if (!oidset_contains(&store->new_objects, id)) {
		if (git_odb_exists(store->odb, id))
			return 0;
		git_oid_cpy(bad, id);
		return -1;
	}
	size_t size;
	git_object_t type;
	git_object *object = NULL;
	if (git_odb_read_header(&size, &type, store->odb, id) != 0 ||
	    (type != GIT_OBJECT_BLOB &&
	     git_object_lookup(&object, store->repo, id, GIT_OBJECT_ANY) != 0)) {
		git_oid_cpy(bad, id);
		return -1;
	}
	if (object)
		push_children(store, object);
	git_object_free(object);
	/* max-blob-size holds even when a compromised git skipped the pre-receive hook. */
	if (type == GIT_OBJECT_BLOB && store->policy && store->policy->max_blob_size &&
	    size > store->policy->max_blob_size) {
		git_oid_cpy(bad, id);
		store->large_size = size;
		return VISIT_TOO_LARGE;
	}
	return 0;
}

static int walk(struct store *store, const git_oid *tip, git_oid *bad)
{
	store->depth = 0;
	push(store, tip);
	while (store->depth > 0) {
		git_oid id;
		git_oid_cpy(&id, &store->stack[--store->depth]);
		int rc = visit(store, &id, bad);
		if (rc != 0) {
			/* What this walk marked visited is not known good: another ref that
			 * reaches it must walk it again, and meet the same hole. */
			oidset_free(&store->visited);
			return rc;
		}
	}
	return 0;
}

static void fail(struct ref_change *change, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void fail(struct ref_change *change, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(change->failure_buf, sizeof(change->failure_buf), fmt, ap);
	va_end(ap);
	change->failure = change->failure_buf;
}

/* What is wrong with the kind of file a ref now is, if anything. No libgit2. */
static const char *check_kind(const struct ref_change *change)
{
	switch (change->new_state.kind) {
	case STATE_LINK:
		return "is a symbolic link";
	case STATE_OTHER:
		return "is not a regular file";
	case STATE_SYMREF:
		return "is a symbolic ref";
	case STATE_GARBAGE:
		return "does not hold an object id";
	default:
		return NULL;
	}
}

static const char *check_state(const struct ref_change *change)
{
	int valid = 0;
	if (strncmp(change->name, "refs/", 5) != 0 ||
	    git_reference_name_is_valid(&valid, change->name) != 0 || !valid)
		return "not a valid ref name";
	return check_kind(change);
}

static int check_peel(struct store *store, const struct ref_change *change, const git_oid *tip)
{
	git_oid peeled;
	git_object *object = NULL, *target = NULL;
	if (!change->new_state.packed || !change->new_state.peeled[0] || !change->packed_changed)
		return 0;
	int rc = git_oid_fromstr(&peeled, change->new_state.peeled) != 0 ||
		 git_object_lookup(&object, store->repo, tip, GIT_OBJECT_ANY) != 0 ||
		 git_object_peel(&target, object, GIT_OBJECT_ANY) != 0 ||
		 !git_oid_equal(git_object_id(target), &peeled);
	git_object_free(target);
	git_object_free(object);
	return rc ? -1 : 0;
}

/* A protected ref may only move forward: its new commit must descend from the old one. */
static int rewinds_protected(struct store *store, const struct ref_change *change,
			     const git_oid *tip)
{
	git_oid old;
	if (!store->policy || change->old_state.kind != STATE_OID ||
	    !policy_protects(store->policy, change->name))
		return 0;
	git_oid_fromstr(&old, change->old_state.oid);
	return !git_oid_equal(&old, tip) && git_graph_descendant_of(store->repo, tip, &old) != 1;
}

static void check_ref(struct store *store, struct ref_change *change)
{
	git_oid tip, bad;
	size_t size;
	git_object_t type;
	char hex[GIT_OID_HEXSZ + 1];
	if (change->failure || change->new_state.kind == STATE_ABSENT)
		return; /* already failed, or deleted: nothing to point anywhere */
	if ((change->failure = check_state(change)))
		return;
	/* The walk first: it refuses a linked object file before anything reads it. The hex
	 * was checked by changes_resolve. */
	git_oid_fromstr(&tip, change->new_state.oid);
	int walked = walk(store, &tip, &bad);
	if (walked == VISIT_TOO_LARGE) {
		fail(change, "pushes blob %s of %zu bytes, over max-blob-size",
		     git_oid_tostr(hex, sizeof(hex), &bad), store->large_size);
	} else if (walked != 0) {
		if (git_oid_equal(&bad, &tip))
			change->failure = "points to a missing object";
		else
			fail(change, "reaches object %s, which is missing or unreadable",
			     git_oid_tostr(hex, sizeof(hex), &bad));
	} else if (git_odb_read_header(&size, &type, store->odb, &tip) != 0) {
		change->failure = "points to a missing object";
	} else if (strncmp(change->name, "refs/heads/", 11) == 0 && type != GIT_OBJECT_COMMIT) {
		fail(change, "points to a %s, not to a commit", git_object_type2string(type));
	} else if (check_peel(store, change, &tip) != 0) {
		change->failure = "packed-refs gives it a false peeled value";
	} else if (rewinds_protected(store, change, &tip)) {
		change->failure = "protected: no force-push";
	}
}

int verify_refs(int repo_fd, struct changes *changes, const struct policy *policy,
		struct error *err)
{
	struct store store = {.objects_fd = -1,
			      .start_sec = changes->start_sec,
			      .start_nsec = changes->start_nsec,
			      .policy = policy};
	verify_init();
	int rc = open_store(repo_fd, &store, err);
	if (rc == 0)
		rc = collect_new_packs(&store, changes, err);
	for (size_t i = 0; i < changes->ref_count; i++) {
		if (rc != 0 && !changes->refs[i].failure &&
		    changes->refs[i].new_state.kind != STATE_ABSENT)
			changes->refs[i].failure = "the repository's objects could not be read";
		else if (rc == 0)
			check_ref(&store, &changes->refs[i]);
	}
	close_store(&store);
	return rc;
}

static void lap(const struct verify_hooks *hooks, int step)
{
	if (hooks && hooks->lap)
		hooks->lap(hooks->payload, step);
}

/* Every changed ref fails when the layout was tampered with; otherwise libgit2 decides. A
 * write that changed nothing, or only deleted, never initialises libgit2. */
static void decide(int repo_fd, struct changes *changes, const struct policy *policy,
		   const struct verify_hooks *hooks, struct error *err)
{
	int needs_objects = 0;
	for (size_t i = 0; i < changes->ref_count; i++) {
		struct ref_change *change = &changes->refs[i];
		if (changes->tampered && change->new_state.kind != STATE_ABSENT &&
		    (change->failure = check_kind(change)))
			continue; /* its own reason first: it may be what tampered */
		if (changes->tampered)
			change->failure = VERIFY_TAMPERED;
		else if (change->new_state.kind != STATE_ABSENT)
			needs_objects = 1;
		else if (policy && change->old_state.kind != STATE_ABSENT &&
			 policy_protects(policy, change->name))
			change->failure = "protected: no deletion";
	}
	if (!needs_objects)
		return;
	if (hooks && hooks->before_libgit2)
		hooks->before_libgit2(hooks->payload);
	verify_init();
	lap(hooks, 2);
	verify_refs(repo_fd, changes, policy, err);
	lap(hooks, 3);
}

int verify_write(int repo_fd, struct snapshot *snapshot, const struct policy *policy,
		 struct changes *out, const struct verify_hooks *hooks, struct error *err)
{
	struct error objects_err = {""};
	if (changes_layout(repo_fd, snapshot, out, err) != 0)
		return -1;
	rollback_layout(repo_fd, snapshot, out);
	lap(hooks, 0);
	if (changes_refs(repo_fd, snapshot, out, err) != 0)
		return -1;
	lap(hooks, 1);
	decide(repo_fd, out, policy, hooks, &objects_err);
	rollback_refs(repo_fd, snapshot, out);
	lap(hooks, 4);
	if (objects_err.message[0])
		return error_set(err, "%s", objects_err.message);
	return 0;
}

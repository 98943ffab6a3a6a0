/* SPDX-License-Identifier: ISC */
/* `gitcage-guard check`: the facts about what a push brought, established in a cage (gitcage
 * runs this in a sandbox with the repository and the stage read-only, no network, and nothing
 * writable at all). The packs are read through the indexes gitcage-index made.
 *
 * Every object of every staged pack is read, which verifies its hash, and every new one is
 * parsed; each of its links (a commit's
 * tree and parents, a tree's entries, a tag's target) must name an object of the right type
 * among the new and the existing ones. Nothing unverified is ever published, so the existing
 * objects are closed already, and this check of the new ones is enough: it costs O(new
 * objects), never O(history) or O(refs). */
#include <git2.h>
#include <git2/sys/odb_backend.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "common/contract.h"
#include "common/util.h"
#include "guard/verify.h"

struct checker {
	git_odb *real; /* the repository's objects alone */
	git_odb *all;  /* the repository's, then the stage's */
	git_repository *repo;
	git_oid *fresh; /* the new objects, sorted */
	size_t fresh_count, fresh_cap;
	const struct check_request *req;
	char *why; /* where a failure is described */
	size_t why_size;
};

static const char *last_error(void)
{
	const git_error *e = git_error_last();
	return e && e->message ? e->message : "unknown libgit2 error";
}

void guard_libgit2_init(void)
{
	static int done;
	if (done++)
		return;
	git_libgit2_init();
	/* The verdict must not depend on /etc/gitconfig or ~/.gitconfig. */
	static const int levels[] = {GIT_CONFIG_LEVEL_SYSTEM, GIT_CONFIG_LEVEL_XDG,
				     GIT_CONFIG_LEVEL_GLOBAL, GIT_CONFIG_LEVEL_PROGRAMDATA};
	for (size_t i = 0; i < ARRAY_SIZE(levels); i++)
		git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, levels[i], "");
	/* gitcage checks ownership itself; the admin's `verify` reads others' repositories. */
	git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, 0);
	git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 1);
}

static int add_fresh(const git_oid *id, void *payload)
{
	struct checker *c = payload;
	grow_array(&c->fresh, &c->fresh_cap, c->fresh_count + 1, sizeof(*c->fresh));
	git_oid_cpy(&c->fresh[c->fresh_count++], id);
	return 0;
}

static int compare_oids(const void *a, const void *b)
{
	return git_oid_cmp(a, b);
}

static bool is_fresh(const struct checker *c, const git_oid *id)
{
	return bsearch(id, c->fresh, c->fresh_count, sizeof(*c->fresh), compare_oids) != NULL;
}

struct pack_listing {
	struct checker *c;
	git_odb *one; /* the pack alone */
};

/* An entry of a staged pack's index. A new object is read later, with its links; one the
 * repository has is read now, from this pack: the read verifies that the content the index
 * names by that id is the object, so that no index can give an existing id other content. */
static int list_entry(const git_oid *id, void *payload)
{
	struct pack_listing *list = payload;
	git_odb_object *object;
	if (!git_odb_exists(list->c->real, id))
		return add_fresh(id, list->c);
	if (git_odb_read(&object, list->one, id) != 0)
		return -1;
	git_odb_object_free(object);
	return 0;
}

/* The stage's backends go below the repository's (priority 0 against its 1 and 2): an object
 * the repository has is always read from the repository, never from a copy in the push. The
 * pack is read through the index gitcage-index made in another cage, which gitcage
 * copied beside it. */
static int add_pack(struct checker *c, const char *stage, const char *pack)
{
	char idx[4200];
	git_odb_backend *backend, *listing;
	struct pack_listing list = {c};
	snprintf(idx, sizeof(idx), "%s/%.58s.idx", stage, pack);
	if (git_odb_backend_one_pack(&backend, idx) != 0 ||
	    git_odb_add_backend(c->all, backend, 0) != 0)
		return -1;
	/* The pack's own object list, from a private odb of its own. */
	if (git_odb_new(&list.one) != 0 || git_odb_backend_one_pack(&listing, idx) != 0 ||
	    git_odb_add_backend(list.one, listing, 1) != 0)
		return -1;
	int rc = git_odb_foreach(list.one, list_entry, &list);
	git_odb_free(list.one);
	return rc;
}

/* Each loose object read through the stage's own loose backend, alone: the read verifies its
 * hash, whatever copy of the same id the repository or a pack has. */
static int add_loose(struct checker *c, const char *stage, const struct strvec *loose)
{
	char dir[4200], hex[GIT_OID_HEXSZ + 1];
	git_odb_backend *backend, *alone;
	git_odb *own;
	git_odb_object *object;
	git_oid id;
	if (!loose->count)
		return 0;
	snprintf(dir, sizeof(dir), "%s/objects", stage);
	if (git_odb_backend_loose(&backend, dir, -1, 0, 0, 0) != 0 ||
	    git_odb_add_backend(c->all, backend, 0) != 0 || git_odb_new(&own) != 0 ||
	    git_odb_backend_loose(&alone, dir, -1, 0, 0, 0) != 0 ||
	    git_odb_add_backend(own, alone, 1) != 0)
		return -1;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < loose->count; i++) {
		const char *path = loose->items[i]; /* objects/ab/cdef...: shape checked */
		snprintf(hex, sizeof(hex), "%.2s%.38s", path + 8, path + 11);
		if (git_oid_fromstr(&id, hex) != 0 || git_odb_read(&object, own, &id) != 0) {
			rc = -1;
			break;
		}
		git_odb_object_free(object);
		add_fresh(&id, c);
	}
	git_odb_free(own);
	return rc;
}

/* The objects the push brings that the repository does not have yet, sorted, each once. */
static void keep_only_new(struct checker *c)
{
	size_t kept = 0;
	qsort(c->fresh, c->fresh_count, sizeof(*c->fresh), compare_oids);
	for (size_t i = 0; i < c->fresh_count; i++) {
		if (kept && git_oid_equal(&c->fresh[kept - 1], &c->fresh[i]))
			continue;
		if (git_odb_exists(c->real, &c->fresh[i]))
			continue;
		git_oid_cpy(&c->fresh[kept++], &c->fresh[i]);
	}
	c->fresh_count = kept;
}

static int open_stores(struct checker *c, const char *repo, const char *stage)
{
	char objects[4200];
	snprintf(objects, sizeof(objects), "%s/objects", repo);
	if (git_odb_open(&c->real, objects) != 0 || git_odb_open(&c->all, objects) != 0 ||
	    git_repository_wrap_odb(&c->repo, c->all) != 0) {
		fprintf(stderr, "cannot open the repository's objects: %s\n", last_error());
		return -1;
	}
	for (size_t i = 0; i < c->req->packs.count; i++) {
		const char *pack = c->req->packs.items[i];
		if (add_pack(c, stage, pack) != 0) {
			snprintf(c->why, c->why_size, "the pushed pack %s cannot be read: %s",
				 strrchr(pack, '/') + 1, last_error());
			return 1;
		}
	}
	if (add_loose(c, stage, &c->req->loose) != 0) {
		snprintf(c->why, c->why_size, "the pushed objects cannot be read: %s",
			 last_error());
		return 1;
	}
	keep_only_new(c);
	return 0;
}

/* A link must name an object of the type its place says. */
static bool link_ok(struct checker *c, const git_oid *id, git_object_t want, const char *what,
		    const git_oid *from)
{
	size_t size;
	git_object_t type;
	char hex[GIT_OID_HEXSZ + 1], from_hex[GIT_OID_HEXSZ + 1];
	if (git_odb_read_header(&size, &type, c->all, id) == 0 && type == want)
		return true;
	snprintf(c->why, c->why_size, "object %s links to %s %s, which is %s",
		 git_oid_tostr(from_hex, sizeof(from_hex), from), what,
		 git_oid_tostr(hex, sizeof(hex), id),
		 git_odb_exists(c->all, id) ? "of another type" : "missing");
	return false;
}

static bool commit_links_ok(struct checker *c, const git_commit *commit)
{
	const git_oid *self = git_commit_id(commit);
	if (!link_ok(c, git_commit_tree_id(commit), GIT_OBJECT_TREE, "tree", self))
		return false;
	for (unsigned i = 0; i < git_commit_parentcount(commit); i++)
		if (!link_ok(c, git_commit_parent_id(commit, i), GIT_OBJECT_COMMIT, "parent", self))
			return false;
	return true;
}

static bool tree_links_ok(struct checker *c, const git_tree *tree)
{
	for (size_t i = 0; i < git_tree_entrycount(tree); i++) {
		const git_tree_entry *entry = git_tree_entry_byindex(tree, i);
		git_filemode_t mode = git_tree_entry_filemode(entry);
		if (mode == GIT_FILEMODE_COMMIT)
			continue; /* a submodule's commit lives in another repository */
		git_object_t want = mode == GIT_FILEMODE_TREE ? GIT_OBJECT_TREE : GIT_OBJECT_BLOB;
		if (!link_ok(c, git_tree_entry_id(entry), want, "entry", git_tree_id(tree)))
			return false;
	}
	return true;
}

static bool object_ok(struct checker *c, const git_oid *id, git_oid *large, size_t *large_size)
{
	git_object *object;
	char hex[GIT_OID_HEXSZ + 1];
	/* The read verifies the object's hash (strict verification is on). */
	if (git_object_lookup(&object, c->repo, id, GIT_OBJECT_ANY) != 0) {
		snprintf(c->why, c->why_size, "object %s is corrupt: %s",
			 git_oid_tostr(hex, sizeof(hex), id), last_error());
		return false;
	}
	bool ok = true;
	switch (git_object_type(object)) {
	case GIT_OBJECT_COMMIT:
		ok = commit_links_ok(c, (const git_commit *)object);
		break;
	case GIT_OBJECT_TREE:
		ok = tree_links_ok(c, (const git_tree *)object);
		break;
	case GIT_OBJECT_TAG:
		ok = link_ok(c, git_tag_target_id((const git_tag *)object),
			     git_tag_target_type((const git_tag *)object), "target", id);
		break;
	case GIT_OBJECT_BLOB: {
		git_object_size_t size = git_blob_rawsize((const git_blob *)object);
		if (c->req->max_blob_size && size > c->req->max_blob_size && !*large_size) {
			git_oid_cpy(large, id);
			*large_size = (size_t)size;
		}
		break;
	}
	default:
		break;
	}
	git_object_free(object);
	return ok;
}

/* A name for a blob a person can act on: its path in a new tree, searched from the new
 * commits' trees (an existing tree cannot hold a new blob). */
static bool find_path(struct checker *c, const git_oid *tree_id, const git_oid *blob, char *path,
		      size_t size, int depth)
{
	git_tree *tree;
	if (depth > 64 || !is_fresh(c, tree_id) || git_tree_lookup(&tree, c->repo, tree_id) != 0)
		return false;
	bool found = false;
	size_t len = strlen(path);
	for (size_t i = 0; i < git_tree_entrycount(tree) && !found; i++) {
		const git_tree_entry *entry = git_tree_entry_byindex(tree, i);
		snprintf(path + len, size - len, "%s%s", len ? "/" : "",
			 git_tree_entry_name(entry));
		if (git_oid_equal(git_tree_entry_id(entry), blob))
			found = true;
		else if (git_tree_entry_filemode(entry) == GIT_FILEMODE_TREE)
			found = find_path(c, git_tree_entry_id(entry), blob, path, size, depth + 1);
		if (!found)
			path[len] = '\0';
	}
	git_tree_free(tree);
	return found;
}

static void describe_large(struct checker *c, const git_oid *blob, size_t size)
{
	char hex[GIT_OID_HEXSZ + 1], path[1024] = "";
	git_commit *commit;
	for (size_t i = 0; i < c->fresh_count && !path[0]; i++)
		if (git_commit_lookup(&commit, c->repo, &c->fresh[i]) == 0) {
			find_path(c, git_commit_tree_id(commit), blob, path, sizeof(path), 0);
			git_commit_free(commit);
		}
	git_oid_tostr(hex, sizeof(hex), blob);
	if (path[0])
		snprintf(c->why, c->why_size,
			 "%s (blob %.12s) is %zu bytes, over max-blob-size (%llu)", path, hex, size,
			 c->req->max_blob_size);
	else
		snprintf(c->why, c->why_size, "blob %s is %zu bytes, over max-blob-size (%llu)",
			 hex, size, c->req->max_blob_size);
}

static bool objects_ok(struct checker *c)
{
	git_oid large;
	size_t large_size = 0;
	for (size_t i = 0; i < c->fresh_count; i++)
		if (!object_ok(c, &c->fresh[i], &large, &large_size))
			return false;
	if (large_size) {
		describe_large(c, &large, large_size);
		return false;
	}
	return true;
}

static void command_facts(struct checker *c, struct check_command *cmd)
{
	git_oid new_id, old_id;
	size_t size;
	git_object_t type;
	int valid = 0;
	cmd->name_valid = strncmp(cmd->ref, "refs/", 5) == 0 &&
			  git_reference_name_is_valid(&valid, cmd->ref) == 0 && valid;
	if (strcmp(cmd->new_id, relay_zero_id) == 0) {
		cmd->exists = true; /* a deletion points nowhere */
		return;
	}
	git_oid_fromstr(&new_id, cmd->new_id);
	cmd->exists = git_odb_read_header(&size, &type, c->all, &new_id) == 0;
	if (cmd->exists)
		snprintf(cmd->type, sizeof(cmd->type), "%s", git_object_type2string(type));
	if (!cmd->ask_ff || !cmd->exists)
		return;
	git_oid_fromstr(&old_id, cmd->old_id);
	cmd->ff = git_oid_equal(&old_id, &new_id) ||
			  git_graph_descendant_of(c->repo, &new_id, &old_id) == 1
		      ? CHECK_FF_YES
		      : CHECK_FF_NO;
}

int guard_check(const char *repo, const char *stage)
{
	struct strbuf out = {0};
	struct check_request req;
	/* Before the request: gitcage starts the guard ahead of need, while git receives. */
	guard_libgit2_init();
	int got = guard_read_request(&req);
	if (got <= 0)
		return got < 0 ? GUARD_EXIT_USAGE : 0;
	struct checker c = {
	    .req = &req, .why = req.objects_reason, .why_size = sizeof(req.objects_reason)};
	int opened = open_stores(&c, repo, stage);
	if (opened < 0)
		return GUARD_EXIT_FAILED;
	req.objects_ok = opened == 0 && objects_ok(&c);
	for (size_t i = 0; i < req.count; i++)
		command_facts(&c, &req.commands[i]);
	check_format_facts(&req, &out);
	int rc = write_all(STDOUT_FILENO, out.data, out.len) == 0 ? 0 : GUARD_EXIT_FAILED;
	strbuf_free(&out);
	free(c.fresh);
	git_repository_free(c.repo);
	git_odb_free(c.all);
	git_odb_free(c.real);
	check_request_free(&req);
	return rc;
}

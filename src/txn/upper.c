/* SPDX-License-Identifier: ISC */
#include "txn/upper.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/repofs.h"

static bool under(const char *path, const char *dir)
{
	size_t len = strlen(dir);
	return strncmp(path, dir, len) == 0 && (path[len] == '\0' || path[len] == '/');
}

/* objects/pack/pack-<40 hex>.<suffix>, for one of the suffixes given. */
static bool is_pack_file(const char *path, const char *const *suffixes)
{
	if (strncmp(path, "objects/pack/pack-", 18) != 0 || !hex_lower(path + 18, 40) ||
	    path[58] != '.')
		return false;
	for (; *suffixes; suffixes++)
		if (strcmp(path + 59, *suffixes) == 0)
			return true;
	return false;
}

static bool is_loose(const char *path)
{
	return strlen(path) == 49 && strncmp(path, "objects/", 8) == 0 && hex_lower(path + 8, 2) &&
	       path[10] == '/' && hex_lower(path + 11, 38);
}

static bool is_object_dir(const char *path)
{
	return strcmp(path, "objects") == 0 || strcmp(path, "objects/pack") == 0 ||
	       (strlen(path) == 10 && strncmp(path, "objects/", 8) == 0 && hex_lower(path + 8, 2));
}

/* Where git keeps refs: loose refs, packed-refs, reflogs. */
static bool is_ref_path(const char *path)
{
	return under(path, "refs") || under(path, "logs") || strcmp(path, "packed-refs") == 0;
}

static enum upper_kind refused(const char **why, const char *text)
{
	*why = text;
	return UPPER_REFUSED;
}

static enum upper_kind classify_marker(const char *path, const struct upper_facts *f,
				       const char **why)
{
	if (under(path, "objects")) {
		*why = "deletes or hides existing objects";
		return UPPER_DELETES;
	}
	if (is_ref_path(path))
		return UPPER_GIT_REFS;
	return refused(why, f->whiteout ? "deletes a file of the repository"
					: "hides a directory of the repository");
}

static enum upper_kind classify_file(const char *path, const struct upper_facts *f,
				     const char **why)
{
	static const char *const published[] = {"pack", "idx", "rev", NULL};
	static const char *const keep[] = {"keep", NULL};
	if (f->mode & (S_ISUID | S_ISGID | S_ISVTX | S_IWGRP | S_IWOTH))
		return refused(why, "has an unsafe mode");
	if (f->nlink > 1)
		return refused(why, "is a hard link");
	if (is_pack_file(path, published) || is_loose(path))
		return f->in_lower ? UPPER_COPY_UP : is_loose(path) ? UPPER_LOOSE : UPPER_PACK;
	if (is_pack_file(path, keep))
		return UPPER_NOISE;
	if (is_ref_path(path)) {
		size_t len = strlen(path);
		if (len > 5 && strcmp(path + len - 5, ".lock") == 0)
			return refused(why, "is a stale lock");
		return UPPER_GIT_REFS;
	}
	return refused(why, "is neither an object nor a ref");
}

enum upper_kind upper_classify(const char *path, const struct upper_facts *f, const char **why)
{
	*why = "";
	if (f->whiteout || (S_ISDIR(f->mode) && f->opaque))
		return classify_marker(path, f, why);
	if (S_ISDIR(f->mode)) {
		if (is_object_dir(path) || is_ref_path(path))
			return UPPER_DIR;
		return refused(why, "is a directory git does not write");
	}
	if (S_ISLNK(f->mode))
		return refused(why, "is a symbolic link");
	if (!S_ISREG(f->mode))
		return refused(why, "is a special file");
	return classify_file(path, f, why);
}

struct scan_walk {
	struct upper_scan *scan;
	int repo_fd;
};

static void facts_of(int parent_fd, const char *name, const char *path, int repo_fd,
		     const struct stat *st, struct upper_facts *f)
{
	char proc[64 + 256], value[8];
	*f = (struct upper_facts){.mode = st->st_mode, .nlink = st->st_nlink};
	f->whiteout = S_ISCHR(st->st_mode) && major(st->st_rdev) == 0 && minor(st->st_rdev) == 0;
	if (S_ISDIR(st->st_mode)) {
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d/%s", parent_fd, name);
		f->opaque = lgetxattr(proc, "user.overlay.opaque", value, sizeof(value)) > 0;
	}
	struct stat lower;
	f->in_lower = fstatat(repo_fd, path, &lower, AT_SYMLINK_NOFOLLOW) == 0;
}

static int scan_entry(const char *walked, mode_t type, int parent_fd, const char *name,
		      void *payload)
{
	struct scan_walk *w = payload;
	struct stat st;
	struct upper_facts f;
	const char *why, *path = walked + 2; /* past "./" */
	(void)type;
	if (fstatat(parent_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT ? 0 : -1;
	facts_of(parent_fd, name, path, w->repo_fd, &st, &f);
	switch (upper_classify(path, &f, &why)) {
	case UPPER_PACK:
		strvec_push(&w->scan->packs, path);
		break;
	case UPPER_LOOSE:
		strvec_push(&w->scan->loose, path);
		break;
	case UPPER_COPY_UP:
		strvec_push(&w->scan->copy_ups, path);
		break;
	case UPPER_GIT_REFS:
		strvec_push(&w->scan->refs, path);
		break;
	case UPPER_DELETES:
		strvec_push(&w->scan->deletes, path);
		break;
	case UPPER_REFUSED:
		strvec_pushf(&w->scan->refused, "%s %s", path, why);
		return REPOFS_WALK_SKIP; /* what is under it changes nothing */
	default:
		break;
	}
	return 0;
}

int upper_scan(int upper_fd, int repo_fd, struct upper_scan *out, struct error *err)
{
	struct scan_walk w = {out, repo_fd};
	*out = (struct upper_scan){0};
	if (repofs_walk(upper_fd, ".", scan_entry, &w) != 0) {
		upper_scan_free(out);
		if (errno == ELOOP)
			return error_set(err, "git wrote directories nested too deep to read");
		return error_set(err, "cannot read what git wrote: %s", strerror(errno));
	}
	return 0;
}

void upper_scan_free(struct upper_scan *scan)
{
	strvec_free(&scan->packs);
	strvec_free(&scan->loose);
	strvec_free(&scan->refused);
	strvec_free(&scan->deletes);
	strvec_free(&scan->refs);
	strvec_free(&scan->copy_ups);
	*scan = (struct upper_scan){0};
}

/* SPDX-License-Identifier: ISC */
/* `gitcage verify DIR...`: the admin's offline audit of a repository. The same layout and
 * ref checks as after a write, over all refs (O(all refs) is fine here), plus the keys of
 * the repository's own config that would make git run something or look elsewhere. */
#include "guard/verify.h"

#include <errno.h>
#include <fcntl.h>
#include <git2.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guard/gitconfig.h"
#include "common/packed.h"
#include "common/repofs.h"
#include "common/util.h"

struct offline {
	const char *dir;
	const char *root; /* the repositories root, or NULL */
	FILE *out;
	int repo_fd;
	int findings;
	git_odb *odb;
};

static void finding(struct offline *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void finding(struct offline *o, const char *fmt, ...)
{
	va_list ap;
	fprintf(o->out, "%s: ", o->dir);
	va_start(ap, fmt);
	vfprintf(o->out, fmt, ap);
	va_end(ap);
	fputc('\n', o->out);
	o->findings++;
}

/* --- layout --- */

struct expected {
	const char *name;
	mode_t type;
	int required;
};

static const struct expected expected_entries[] = {
    {"HEAD", S_IFREG, 1},
    {"objects", S_IFDIR, 1},
    {"refs", S_IFDIR, 1},
    {"config", S_IFREG, 0},
    {"packed-refs", S_IFREG, 0},
    {"hooks", S_IFDIR, 0},
    {"info", S_IFDIR, 0},
    {"logs", S_IFDIR, 0},
    {"objects/info", S_IFDIR, 0},
    {"objects/pack", S_IFDIR, 0},
    {"objects/info/alternates", S_IFREG, 0},
};

static int check_entries(struct offline *o)
{
	struct repofs_stamp stamp;
	int sound = 1;
	if (repofs_stamp(o->repo_fd, ".git", &stamp) == 0 && stamp.exists)
		finding(o, "has a .git: not a bare repository");
	if (repofs_stamp(o->repo_fd, "commondir", &stamp) == 0 && stamp.exists)
		finding(o, "has a commondir file: git would use another repository's refs");
	for (size_t i = 0; i < ARRAY_SIZE(expected_entries); i++) {
		const struct expected *e = &expected_entries[i];
		if (repofs_stamp(o->repo_fd, e->name, &stamp) != 0 ||
		    (!stamp.exists && e->required)) {
			finding(o, "%s is missing or unreadable", e->name);
			sound = 0;
		} else if (stamp.exists && (stamp.mode & S_IFMT) != e->type) {
			finding(o, "%s is %s", e->name,
				S_ISLNK(stamp.mode) ? "a symbolic link" : "of the wrong type");
			sound = 0;
		}
	}
	return sound;
}

static void check_alternate(struct offline *o, const char *line)
{
	char path[PATH_MAX], real[PATH_MAX];
	/* git reads a relative alternate relative to objects/ */
	if (*line == '/')
		snprintf(path, sizeof(path), "%s", line);
	else
		snprintf(path, sizeof(path), "%s/objects/%s", o->dir, line);
	size_t root_len = o->root ? strlen(o->root) : 0;
	if (!realpath(path, real))
		finding(o, "alternate %s does not exist", line);
	else if (o->root && (strncmp(real, o->root, root_len) != 0 || real[root_len] != '/'))
		finding(o, "alternate %s is outside the repositories root %s", line, o->root);
}

static void check_alternates(struct offline *o)
{
	char *data;
	size_t len;
	if (repofs_read(o->repo_fd, "objects/info/alternates", 1 << 20, &data, &len) != 0)
		return; /* absent, or a link: reported with the entries */
	for (char *line = strtok(data, "\n"); line; line = strtok(NULL, "\n"))
		if (*line && *line != '#')
			check_alternate(o, line);
	free(data);
}

static int note_link(const char *path, mode_t type, int parent_fd, const char *name, void *payload)
{
	(void)parent_fd, (void)name;
	if (type == S_IFLNK)
		finding(payload, "%s is a symbolic link", path);
	else if (type != S_IFDIR && type != S_IFREG)
		finding(payload, "%s is a special file", path);
	return 0;
}

/* Links under logs/ and objects/ (fan-out directories, loose objects, packs): git would
 * read whatever they point to. refs/ is checked with the refs. */
static void check_links(struct offline *o)
{
	repofs_walk(o->repo_fd, "logs", note_link, o);
	repofs_walk(o->repo_fd, "objects/pack", note_link, o);
	for (unsigned i = 0; i < 256; i++) {
		char dir[16];
		struct repofs_stamp stamp;
		snprintf(dir, sizeof(dir), "objects/%02x", i);
		if (repofs_stamp(o->repo_fd, dir, &stamp) != 0 || !stamp.exists)
			continue;
		if (!S_ISDIR(stamp.mode))
			note_link(dir, stamp.mode & S_IFMT, -1, NULL, o);
		else
			repofs_walk(o->repo_fd, dir, note_link, o);
	}
}

/* --- config --- */

struct risky {
	const char *section; /* lowercase */
	const char *key;     /* lowercase, or NULL for any key */
	int subsection;	     /* -1: must have none, 1: must have one, 0: either */
};

static const struct risky risky_keys[] = {
    {"core", "hookspath", -1},
    {"core", "fsmonitor", -1},
    {"core", "sshcommand", -1},
    {"core", "alternaterefscommand", -1},
    {"core", "gitproxy", -1},
    {"core", "askpass", -1},
    {"uploadpack", "packobjectshook", -1},
    {"receive", "procreceiverefs", -1},
    {"include", "path", -1},
    {"includeif", "path", 1},
    {"tar", "command", 1},
    {"filter", NULL, 1},
    {"diff", "external", -1},
    {"diff", "command", 1},
    {"diff", "textconv", 1},
    {"merge", "driver", 1},
    {"gpg", "program", 0},
    {"credential", "helper", 0},
};

static int is_false(const char *value)
{
	static const char *const falses[] = {"false", "no", "off", "0", ""};
	for (size_t i = 0; value && i < ARRAY_SIZE(falses); i++)
		if (strcasecmp(value, falses[i]) == 0)
			return 1;
	return 0;
}

static int risky(const char *section, const char *subsection, const char *key, const char *value)
{
	for (size_t i = 0; i < ARRAY_SIZE(risky_keys); i++) {
		const struct risky *r = &risky_keys[i];
		if (strcmp(section, r->section) != 0 || (r->key && strcmp(key, r->key) != 0) ||
		    (r->subsection < 0 && subsection) || (r->subsection > 0 && !subsection))
			continue;
		/* core.fsmonitor=false is the safe setting, not a risk */
		return !(strcmp(key, "fsmonitor") == 0 && is_false(value));
	}
	return 0;
}

static int supported_extension(const char *key, const char *value)
{
	git_strarray supported = {0};
	int found = 0;
	git_libgit2_opts(GIT_OPT_GET_EXTENSIONS, &supported);
	for (size_t i = 0; i < supported.count && !found; i++)
		found = strcasecmp(supported.strings[i], key) == 0;
	git_strarray_dispose(&supported);
	/* libgit2 1.5 knows the objectformat key, but only for SHA-1 */
	if (found && strcmp(key, "objectformat") == 0)
		found = value && strcasecmp(value, "sha1") == 0;
	return found;
}

static int config_entry(const char *section, const char *subsection, const char *key,
			const char *value, int line, void *payload)
{
	struct offline *o = payload;
	char name[512];
	snprintf(name, sizeof(name), "%s%s%s.%s", section, subsection ? "." : "",
		 subsection ? subsection : "", key);
	if (risky(section, subsection, key, value))
		finding(o, "config line %d sets %s: it makes git run a program or read elsewhere",
			line, name);
	else if (strcmp(section, "extensions") == 0 && !subsection &&
		 !supported_extension(key, value))
		finding(o,
			"config line %d sets %s = %s: libgit2 does not support it, so gitcage "
			"cannot verify writes to this repository",
			line, name, value ? value : "true");
	else if (strcmp(section, "core") == 0 && !subsection &&
		 strcmp(key, "repositoryformatversion") == 0 && value && atoi(value) > 1)
		finding(o, "config line %d: repository format version %s is unknown", line, value);
	return 0;
}

static void check_config(struct offline *o)
{
	char *data;
	size_t len;
	struct error err;
	if (repofs_read(o->repo_fd, "config", 4 << 20, &data, &len) != 0) {
		if (errno != ENOENT && errno != ELOOP) /* a link is reported with the entries */
			finding(o, "config cannot be read: %s", strerror(errno));
		return;
	}
	if (gitconfig_parse(data, len, config_entry, o, &err) < 0)
		finding(o, "config: %s", err.message);
	free(data);
}

/* --- refs --- */

static void check_target(struct offline *o, const char *name, const char *hex)
{
	git_oid id;
	size_t size;
	git_object_t type;
	if (git_oid_fromstr(&id, hex) != 0 || git_odb_read_header(&size, &type, o->odb, &id) != 0)
		finding(o, "%s points to a missing object %s", name, hex);
	else if (strncmp(name, "refs/heads/", 11) == 0 && type != GIT_OBJECT_COMMIT)
		finding(o, "%s points to a %s, not to a commit", name,
			git_object_type2string(type));
}

static int valid_name(const char *name)
{
	int valid = 0;
	return git_reference_name_is_valid(&valid, name) == 0 && valid;
}

/* What a ref file holds: an object id, or "ref: NAME". A symbolic ref is fine in HEAD and,
 * as in mirrors, under refs/ when it names a ref. */
static void check_ref_value(struct offline *o, const char *name, const char *data, size_t len)
{
	char hex[OID_HEX_LEN + 1], target[PATH_MAX];
	const char *symbolic;
	size_t symbolic_len;
	switch (packed_parse_loose(data, len, hex, &symbolic, &symbolic_len)) {
	case PACKED_LOOSE_SYMBOLIC:
		snprintf(target, sizeof(target), "%.*s", (int)symbolic_len, symbolic);
		if (strncmp(target, "refs/", 5) != 0 || !valid_name(target))
			finding(o, "%s is a symbolic ref to an invalid name", name);
		break;
	case PACKED_LOOSE_OID:
		check_target(o, name, hex);
		break;
	default:
		finding(o, "%s does not hold an object id", name);
	}
}

struct loose_walk {
	struct offline *o;
	struct strvec names;
};

static int check_loose(const char *path, mode_t type, int parent_fd, const char *name,
		       void *payload)
{
	struct loose_walk *w = payload;
	char *data;
	size_t len;
	if (type == S_IFDIR)
		return 0;
	strvec_push(&w->names, path);
	if (type == S_IFLNK) {
		finding(w->o, "%s is a symbolic link", path);
	} else if (type != S_IFREG) {
		finding(w->o, "%s is not a regular file", path);
	} else if (!valid_name(path)) {
		finding(w->o, "%s is not a valid ref name", path);
	} else if (repofs_read(parent_fd, name, 4096, &data, &len) != 0) {
		finding(w->o, "%s cannot be read: %s", path, strerror(errno));
	} else {
		check_ref_value(w->o, path, data, len);
		free(data);
	}
	return 0;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void check_packed(struct offline *o, const struct strvec *loose)
{
	char *data;
	size_t len;
	struct packed_refs packed;
	if (repofs_read(o->repo_fd, "packed-refs", 1ULL << 31, &data, &len) != 0)
		return; /* absent, or reported with the entries */
	if (packed_parse(data, len, &packed) != 0)
		die("out of memory");
	if (packed.malformed)
		finding(o, "packed-refs has %zu malformed lines (the first is line %zu)",
			packed.malformed, packed.first_malformed_line);
	for (size_t i = 0; i < packed.count; i++) {
		const char *name = packed.refs[i].name;
		if (bsearch(&name, loose->items, loose->count, sizeof(char *), compare_names))
			continue; /* a loose ref of the same name wins */
		if (strncmp(name, "refs/", 5) != 0 || !valid_name(name))
			finding(o, "packed-refs holds an invalid ref name");
		else
			check_target(o, name, packed.refs[i].oid);
	}
	packed_free(&packed);
	free(data);
}

static void check_head(struct offline *o)
{
	char *data;
	size_t len;
	if (repofs_read(o->repo_fd, "HEAD", 4096, &data, &len) != 0)
		return; /* reported with the entries */
	if (strncmp(data, "ref:", 4) == 0 ||
	    (len >= GIT_OID_HEXSZ && strspn(data, "0123456789abcdef") == GIT_OID_HEXSZ))
		check_ref_value(o, "HEAD", data, len);
	else
		finding(o, "HEAD holds neither a ref nor an object id");
	free(data);
}

static void check_refs(struct offline *o)
{
	char objects[64];
	struct loose_walk walk = {o, {0}};
	snprintf(objects, sizeof(objects), "/proc/self/fd/%d/objects", o->repo_fd);
	if (git_odb_open(&o->odb, objects) != 0) {
		const git_error *e = git_error_last();
		finding(o, "cannot open the object store: %s", e ? e->message : "unknown error");
		return;
	}
	check_head(o);
	if (repofs_walk(o->repo_fd, "refs", check_loose, &walk) != 0)
		finding(o, "refs/ cannot be read: %s", strerror(errno));
	if (walk.names.count)
		qsort(walk.names.items, walk.names.count, sizeof(char *), compare_names);
	check_packed(o, &walk.names);
	strvec_free(&walk.names);
	git_odb_free(o->odb);
}

/* A repository gitcage serve would refuse: not the service account's. */
static void check_owner(struct offline *o)
{
	struct stat st;
	if (getuid() != 0 && fstat(o->repo_fd, &st) == 0 && st.st_uid != getuid())
		finding(o, "cannot be served: owned by uid %u, not by the service account (uid %u)",
			(unsigned)st.st_uid, (unsigned)getuid());
}

int verify_offline(const char *dir, const char *root, FILE *out)
{
	struct offline o = {.dir = dir, .root = root, .out = out};
	guard_libgit2_init();
	o.repo_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (o.repo_fd < 0) {
		finding(&o, "cannot open: %s", strerror(errno));
		return o.findings;
	}
	check_owner(&o);
	int sound = check_entries(&o);
	check_config(&o);
	check_alternates(&o);
	check_links(&o);
	/* With refs/ or objects/ misplaced, the ref checks would read the wrong things. */
	if (sound)
		check_refs(&o);
	close(o.repo_fd);
	if (!o.findings)
		fprintf(out, "%s: ok\n", dir);
	return o.findings;
}

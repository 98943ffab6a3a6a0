/* SPDX-License-Identifier: ISC */
/* gitcage keys: authorized_keys lines from the keys directory (keys.h), as a whole file or,
 * for sshd's AuthorizedKeysCommand (%t %k), the one matching line. */
#include "gitcage/keys.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/repofs.h"
#include "common/util.h"
#include "gitcage/keyline.h"
#include "gitcage/verbs.h"

/* A key file larger than this is refused rather than read. */
#define KEYS_FILE_MAX (1u << 20)
/* Subdirectories searched, at most. */
#define KEYS_DEPTH 8

static void problem(struct keys_scan *scan, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void problem(struct keys_scan *scan, const char *fmt, ...)
{
	char *line;
	va_list ap;
	va_start(ap, fmt);
	int len = vasprintf(&line, fmt, ap);
	va_end(ap);
	if (len < 0)
		die("out of memory");
	scan->problems = array_append(scan->problems, scan->problem_count, sizeof(*scan->problems));
	scan->problems[scan->problem_count++] = line;
}

int keys_user_of_file(const char *name, char *user, size_t size)
{
	size_t len = strlen(name);
	if (len < 5 || strcmp(name + len - 4, ".pub") != 0)
		return -1;
	len -= 4;
	/* gitolite: s/(\@[^.]+)?\.pub$// */
	const char *at = memrchr(name, '@', len);
	if (at && !memchr(at, '.', (size_t)(name + len - at)))
		len = (size_t)(at - name);
	if (len == 0 || len >= size)
		return -1;
	memcpy(user, name, len);
	user[len] = '\0';
	return config_valid_user(user) ? 0 : -1;
}

/* Root, as a file's owner looks from here: in a user namespace (check-config may run in one),
 * root's files show as the overflow uid, which nobody inside can be. */
static bool owned_by_root(uid_t uid)
{
	static int nested = -1;
	static unsigned long overflow = 65534;
	if (nested < 0) {
		unsigned long inside, outside, count;
		FILE *map = fopen("/proc/self/uid_map", "re");
		FILE *over = fopen("/proc/sys/kernel/overflowuid", "re");
		nested = !map || fscanf(map, "%lu %lu %lu", &inside, &outside, &count) != 3 ||
			 inside != 0 || outside != 0 || count != 4294967295UL;
		if (over && fscanf(over, "%lu", &overflow) != 1)
			overflow = 65534;
		if (map)
			fclose(map);
		if (over)
			fclose(over);
	}
	return uid == 0 || (nested && uid == overflow && geteuid() != overflow);
}

/* sshd's rule for authorized_keys and the directories above it: owned by root or by us, and
 * writable by nobody else; a sticky directory of root's (/tmp) lets nobody else rename ours. */
static const char *unsafe_mode(const struct stat *st, bool sticky_ok)
{
	bool root = owned_by_root(st->st_uid);
	if (!root && st->st_uid != geteuid())
		return "owned by someone else";
	if ((st->st_mode & 022) && !(sticky_ok && (st->st_mode & S_ISVTX) && root))
		return "writable by group or others";
	return NULL;
}

/* The directory and every directory above it; bad gets the one that is not safe. */
static const char *unsafe_path(const char *real, char *bad, size_t size)
{
	struct stat st;
	snprintf(bad, size, "%s", real);
	for (bool first = true;; first = false) {
		const char *why =
		    stat(bad, &st) != 0 ? "cannot be examined" : unsafe_mode(&st, !first);
		if (why)
			return why;
		char *slash = strrchr(bad, '/');
		if (!slash || slash == bad)
			return strcmp(bad, "/") == 0 ? NULL : unsafe_path("/", bad, size);
		*slash = '\0';
	}
}

static void add_key(struct keys_scan *scan, const char *user, const struct key_line *key,
		    const char *file)
{
	scan->keys = array_append(scan->keys, scan->count, sizeof(*scan->keys));
	scan->keys[scan->count++] = (struct key_entry){
	    .user = xstrdup(user),
	    .type = key->type,
	    .blob = strndup(key->blob, key->blob_len),
	    .file = xstrdup(file),
	};
	if (!scan->keys[scan->count - 1].blob)
		die("out of memory");
}

/* Every line of a key file, of any length; each refused line is one problem. */
static void read_lines(struct keys_scan *scan, const char *user, const char *file, char *data,
		       size_t len)
{
	size_t number = 0, taken = 0;
	for (size_t pos = 0; pos < len; number++) {
		char *newline = memchr(data + pos, '\n', len - pos);
		size_t line_len = newline ? (size_t)(newline - (data + pos)) : len - pos;
		struct key_line key = {0};
		struct error err;
		int rc = keys_parse_line(data + pos, line_len, &key, &err);
		if (rc > 0)
			add_key(scan, user, &key, file), taken++;
		else if (rc < 0)
			problem(scan, "%s:%zu: %s: line skipped", file, number + 1, err.message);
		pos += line_len + 1;
	}
	if (!taken)
		problem(scan, "%s: no key in it: skipped", file);
}

static void read_key_file(struct keys_scan *scan, int dir_fd, const char *name, const char *file)
{
	char user[256];
	struct stat st;
	char *data;
	size_t len;
	if (keys_user_of_file(name, user, sizeof(user)) != 0) {
		problem(scan, "%s: not named USER.pub or USER@HOST.pub: skipped", file);
		return;
	}
	cleanup_fd int fd = repofs_open_file(dir_fd, name);
	const char *why = fd < 0 || fstat(fd, &st) != 0 ? "cannot be read"
			  : !S_ISREG(st.st_mode)	? "not a regular file"
							: unsafe_mode(&st, false);
	if (!why && repofs_read(dir_fd, name, KEYS_FILE_MAX, &data, &len) != 0)
		why = errno == EFBIG ? "larger than 1 MiB" : "cannot be read";
	if (why) {
		problem(scan, "%s: %s: refused", file, why);
		return;
	}
	read_lines(scan, user, file, data, len);
	free(data);
}

static void scan_dir(struct keys_scan *scan, int dir_fd, const char *prefix, int depth);

static void scan_entry(struct keys_scan *scan, int dir_fd, const char *name, const char *prefix,
		       int depth)
{
	char file[PATH_MAX];
	struct stat st;
	if (snprintf(file, sizeof(file), "%s%s", prefix, name) >= (int)sizeof(file))
		return problem(scan, "%s...: the path is too long: skipped", prefix);
	if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return problem(scan, "%s: cannot be examined: skipped", file);
	if (S_ISLNK(st.st_mode))
		return problem(scan, "%s: a symlink: refused", file);
	if (!S_ISDIR(st.st_mode))
		return read_key_file(scan, dir_fd, name, file);
	const char *why = depth <= 1 ? "nested too deep" : unsafe_mode(&st, false);
	if (why)
		return problem(scan, "%s/: %s: refused with every key in it", file, why);
	cleanup_fd int sub = repofs_open_dir(dir_fd, name, O_RDONLY);
	char sub_prefix[PATH_MAX + 1];
	snprintf(sub_prefix, sizeof(sub_prefix), "%.*s/", PATH_MAX - 1, file);
	if (sub >= 0)
		scan_dir(scan, sub, sub_prefix, depth - 1);
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* Sorted, so that the output (and what a duplicate warning names first) is stable. */
static void scan_dir(struct keys_scan *scan, int dir_fd, const char *prefix, int depth)
{
	struct dirent **entries;
	cleanup_fd int fd = fcntl(dir_fd, F_DUPFD_CLOEXEC, 0);
	DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
	if (!dir)
		return problem(scan, "%s: cannot be read", *prefix ? prefix : ".");
	fd = -1; /* the DIR owns it now */
	int count = scandirat(dirfd(dir), ".", &entries, NULL, by_name);
	for (int i = 0; i < count; i++) {
		const char *name = entries[i]->d_name;
		if (name[0] != '.')
			scan_entry(scan, dirfd(dir), name, prefix, depth);
		else if (strcmp(name, ".") && strcmp(name, ".."))
			problem(scan, "%s%s: hidden: skipped", prefix, name);
		free(entries[i]);
	}
	if (count >= 0)
		free(entries);
	closedir(dir);
}

static int by_key(const void *a, const void *b)
{
	const struct key_entry *x = *(struct key_entry *const *)a,
			       *y = *(struct key_entry *const *)b;
	int rc = strcmp(x->type, y->type);
	return rc ? rc : strcmp(x->blob, y->blob);
}

/* One key under two users: whoever holds it could log in as either, and sshd would take the
 * first line it sees. Refused for all of them, so that the mistake shows. */
static void refuse_shared_keys(struct keys_scan *scan)
{
	struct key_entry **sorted = xcalloc(scan->count + 1, sizeof(*sorted));
	for (size_t i = 0; i < scan->count; i++)
		sorted[i] = &scan->keys[i];
	qsort(sorted, scan->count, sizeof(*sorted), by_key);
	for (size_t start = 0, end; start < scan->count; start = end) {
		bool shared = false;
		for (end = start + 1;
		     end < scan->count && by_key(&sorted[start], &sorted[end]) == 0; end++)
			shared = shared || strcmp(sorted[start]->user, sorted[end]->user) != 0;
		for (size_t i = start; shared && i < end; i++) {
			problem(scan,
				"%s: its %s key is also another user's: refused for every one",
				sorted[i]->file, sorted[i]->type);
			free(sorted[i]->user);
			sorted[i]->user = NULL; /* dropped below */
		}
	}
	size_t kept = 0;
	for (size_t i = 0; i < scan->count; i++) {
		if (scan->keys[i].user) {
			scan->keys[kept++] = scan->keys[i];
		} else {
			free(scan->keys[i].blob);
			free(scan->keys[i].file);
		}
	}
	scan->count = kept;
	free(sorted);
}

int keys_scan_dir(const char *dir, struct keys_scan *out)
{
	char real[PATH_MAX];
	*out = (struct keys_scan){0};
	if (!realpath(dir, real)) {
		problem(out, "%s: %s", dir, strerror(errno));
		return -1;
	}
	char bad[PATH_MAX];
	const char *why = unsafe_path(real, bad, sizeof(bad));
	cleanup_fd int fd = why ? -1 : open(real, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (why || fd < 0) {
		problem(out, "%s: %s%s%s: refusing every key in it", real,
			why && strcmp(bad, real) ? bad : "", why && strcmp(bad, real) ? " is " : "",
			why ? why : strerror(errno));
		return -1;
	}
	scan_dir(out, fd, "", KEYS_DEPTH);
	refuse_shared_keys(out);
	return 0;
}

void keys_scan_free(struct keys_scan *scan)
{
	for (size_t i = 0; i < scan->count; i++) {
		free(scan->keys[i].user);
		free(scan->keys[i].blob);
		free(scan->keys[i].file);
	}
	free(scan->keys);
	for (size_t i = 0; i < scan->problem_count; i++)
		free(scan->problems[i]);
	free(scan->problems);
	*scan = (struct keys_scan){0};
}

/* ---- gitcage keys ---- */

/* Paths go inside command="...": a quote or a space there would change the forced command. */
static void resolve_path(const char *path, char *out, const char *what)
{
	if (!realpath(path, out))
		die_errno("keys: cannot resolve the %s %s", what, path);
	if (strpbrk(out, "\"\\ \t\n"))
		die("keys: the %s path %s has a character that cannot be quoted in authorized_keys",
		    what, out);
}

int verb_keys(const struct global_options *options, int argc, char **argv)
{
	char exe[PATH_MAX], config[PATH_MAX];
	struct config cfg;
	struct keys_scan scan;
	int printed = 0;
	if (argc != 1 && argc != 3)
		die("usage: gitcage [--config FILE] keys [TYPE BLOB]");
	verbs_load_config(options, 0, &cfg);
	if (!cfg.keys)
		die("%s: [server] keys is not set", options->config_path);
	resolve_path("/proc/self/exe", exe, "gitcage binary");
	resolve_path(options->config_path, config, "config");
	int rc = keys_scan_dir(cfg.keys, &scan);
	for (size_t i = 0; i < scan.problem_count; i++)
		warn_line("keys: %s", scan.problems[i]);
	for (size_t i = 0; i < scan.count; i++) {
		const struct key_entry *key = &scan.keys[i];
		if (argc == 3 && (strcmp(key->type, argv[1]) || strcmp(key->blob, argv[2])))
			continue;
		/* restrict: no forwarding, no pty, no ~/.ssh/rc; the command is all that runs. */
		printf("restrict,command=\"%s --config %s serve %s\" %s %s %s\n", exe, config,
		       key->user, key->type, key->blob, key->user);
		printed++;
	}
	keys_scan_free(&scan);
	config_free(&cfg);
	if (rc != 0)
		exit(EXIT_GITCAGE);
	/* For AuthorizedKeysCommand, no line means "no such key": sshd then refuses it. */
	return argc == 3 && !printed ? 1 : 0;
}

/* SPDX-License-Identifier: ISC */
/* gitcage import-gitolite [--keydir DIR] GITOLITE_CONF: an equivalent gitcage.conf on stdout.
 *
 * gitolite's rules keep their meaning in gitcage (acl.h), so the translation is mostly a
 * change of syntax: each "repo" line becomes a [repo] section in the same order, each rule a
 * key, each @group a [group]. What has no equivalent (VREFs, M, roles, config, most options,
 * include) is left out with one warning naming its line, and the exit status is then 1. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <regex.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/config.h"
#include "common/repofs.h"
#include "common/util.h"
#include "gitcage/keys.h"
#include "gitcage/verbs.h"

/* What inih takes on one line (config/gitcage.conf says 199). */
#define LINE_MAX_INI 199

struct group_def {
	char *name; /* without '@' */
	struct words members;
	bool used_for_repos;
};

struct import {
	const char *file;
	int line;
	int left_out; /* warnings */
	struct group_def *groups;
	size_t group_count;
	char *out; /* the [repo] sections, in order */
	size_t out_len;
	FILE *sections;
	bool in_repo;
};

static void left_out(struct import *im, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void left_out(struct import *im, const char *fmt, ...)
{
	va_list ap;
	/* Line 0: not about a line of the file (keys, groups once all are read). */
	if (im->line)
		fprintf(stderr, "gitcage: %s:%d: ", im->file, im->line);
	else
		fputs("gitcage: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	im->left_out++;
}

/* gitolite's $REPONAME_PATT: a name; anything else on a repo line is a pattern. */
static bool plain_name(const char *word)
{
	static const char first[] =
	    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
	return strchr(first, word[0]) &&
	       strspn(word, "-0123456789abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ._@/+") == strlen(word);
}

/* Perl's \d is not POSIX: the one escape worth translating; the rest must compile as is. */
static char *posix_regex(const char *perl)
{
	size_t len = strlen(perl);
	char *out = xcalloc(len * 5 + 1, 1), *o = out;
	for (const char *p = perl; *p; p++) {
		if (p[0] == '\\' && p[1] == 'd') {
			o = stpcpy(o, "[0-9]");
			p++;
		} else {
			*o++ = *p;
		}
	}
	regex_t regex;
	if (regcomp(&regex, out, REG_EXTENDED | REG_NOSUB) != 0 || strstr(out, "(?")) {
		free(out);
		return NULL;
	}
	regfree(&regex);
	return out;
}

static struct group_def *find_group(struct import *im, const char *name)
{
	for (size_t i = 0; i < im->group_count; i++)
		if (strcmp(im->groups[i].name, name) == 0)
			return &im->groups[i];
	return NULL;
}

static void add_member(struct group_def *group, const char *member)
{
	for (size_t i = 0; i < group->members.count; i++)
		if (strcmp(group->members.items[i], member) == 0)
			return;
	group->members.items =
	    array_append(group->members.items, group->members.count, sizeof(char *));
	group->members.items[group->members.count++] = xstrdup(member);
}

/* "@g = a @h": gitolite expands @h as it is at this line, so later additions to @h do not
 * reach @g; so does this. */
static void define_group(struct import *im, const char *name, const struct words *words)
{
	struct group_def *group = find_group(im, name);
	if (!group) {
		im->groups = array_append(im->groups, im->group_count, sizeof(*im->groups));
		group = &im->groups[im->group_count++];
		group->name = xstrdup(name);
	}
	for (size_t i = 0; i < words->count; i++) {
		const char *word = words->items[i];
		struct group_def *nested =
		    word[0] == '@' && strcmp(word, "@all") ? find_group(im, word + 1) : NULL;
		if (word[0] == '@' && strcmp(word, "@all") && !nested)
			left_out(im, "undefined group '%s' left out of @%s", word, name);
		for (size_t j = 0; nested && j < nested->members.count; j++)
			add_member(group, nested->members.items[j]);
		if (!nested && (word[0] != '@' || !strcmp(word, "@all")))
			add_member(group, word);
	}
}

/* One word of a repo line, as a [repo] header word; NULL when it has no equivalent. */
static char *repo_word(struct import *im, const char *word)
{
	char *out = NULL, *regex;
	if (strcmp(word, "@all") == 0)
		return xstrdup(word);
	if (word[0] == '@') {
		struct group_def *group = find_group(im, word + 1);
		if (group)
			group->used_for_repos = true;
		else
			left_out(im, "undefined group '%s' left out of the repo line", word);
		return group ? xstrdup(word) : NULL;
	}
	if (plain_name(word) && !config_repo_word_problem(word))
		return xstrdup(word);
	if (plain_name(word)) {
		left_out(im, "repository '%s' left out: %s", word, config_repo_word_problem(word));
	} else if (!(regex = posix_regex(word))) {
		left_out(im, "pattern '%s' left out: not a POSIX extended regular expression",
			 word);
	} else if (asprintf(&out, "~%s", regex) < 0) {
		die("out of memory");
	}
	return out;
}

static void start_repo(struct import *im, const struct words *words)
{
	char *header = NULL;
	size_t len = 0;
	FILE *h = open_memstream(&header, &len);
	if (!h)
		die("out of memory");
	for (size_t i = 1; i < words->count; i++) {
		char *word = repo_word(im, words->items[i]);
		if (word)
			fprintf(h, "%s%s", ftell(h) ? " " : "", word);
		free(word);
	}
	fclose(h);
	im->in_repo = len > 0;
	if (im->in_repo)
		fprintf(im->sections, "\n[repo %s]\n", header);
	else
		left_out(im,
			 "a repo line that names nothing gitcage can take: its rules are left out");
	free(header);
}

/* The users of a rule that gitcage can take; roles and undefined groups are left out. */
static void rule_users(struct import *im, const struct words *words, size_t first,
		       struct words *out)
{
	*out = (struct words){0};
	for (size_t i = first; i < words->count; i++) {
		const char *word = words->items[i];
		bool group = word[0] == '@' && strcmp(word, "@all") != 0;
		if (strcmp(word, "READERS") == 0 || strcmp(word, "WRITERS") == 0)
			left_out(im,
				 "role %s left out (gitolite's perms command has no equivalent)",
				 word);
		else if (group && !find_group(im, word + 1))
			left_out(im, "undefined group '%s' left out of the rule", word);
		else if (!group && strcmp(word, "@all") && !config_valid_user(word))
			left_out(im, "user '%s' left out: not a name gitcage takes", word);
		else {
			out->items = array_append(out->items, out->count, sizeof(char *));
			out->items[out->count++] = xstrdup(word);
		}
	}
}

/* KEY = users, in as many lines as inih's limit needs (each repeats the key: same rule). */
static void emit_rule(struct import *im, const char *key, const struct words *users)
{
	size_t width = 0;
	for (size_t i = 0; i < users->count; i++) {
		size_t word = strlen(users->items[i]);
		if (width && width + 1 + word > LINE_MAX_INI) {
			fputc('\n', im->sections);
			width = 0;
		}
		if (!width)
			width = (size_t)fprintf(im->sections, "%s =", key);
		width += (size_t)fprintf(im->sections, " %s", users->items[i]);
	}
	fputc('\n', im->sections);
}

static bool is_perm(const char *word, bool *merge)
{
	static const char *const perms[] = {"R",    "RW",   "RW+",   "RWC",   "RW+C", "RWD", "RW+D",
					    "RWCD", "RWDC", "RW+CD", "RW+DC", "-",    "C"};
	size_t len = strlen(word);
	for (size_t i = 0; i < ARRAY_SIZE(perms); i++)
		if (strcmp(word, perms[i]) == 0)
			return !(*merge = false);
	*merge = len > 2 && strncmp(word, "RW", 2) == 0 && word[len - 1] == 'M' &&
		 strspn(word + 2, "+CD") == len - 3;
	return *merge;
}

/* The ref patterns of a rule; false (with a warning) when one has no equivalent. */
static bool rule_refs(struct import *im, const struct words *words, size_t eq, struct words *refs)
{
	*refs = (struct words){0};
	for (size_t i = 1; i < eq; i++) {
		const char *ref = words->items[i];
		char *regex = NULL;
		if (strncmp(ref, "VREF/", 5) == 0 || strncmp(ref, "NAME/", 5) == 0)
			left_out(im, "VREF rule left out (%s): what it refuses is not refused",
				 ref);
		else if (!(regex = posix_regex(ref)))
			left_out(im,
				 "rule left out: '%s' is not a POSIX extended regular expression",
				 ref);
		if (!regex) {
			config_words_free(refs);
			return false;
		}
		refs->items = array_append(refs->items, refs->count, sizeof(char *));
		refs->items[refs->count++] = regex;
	}
	return true;
}

static char *join(const char *first, const struct words *words, size_t from, size_t to)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	if (!f)
		die("out of memory");
	fputs(first, f);
	for (size_t i = from; i < to && i < words->count; i++)
		fprintf(f, " %s", words->items[i]);
	fclose(f);
	return out;
}

static void import_rule(struct import *im, const struct words *words, size_t eq, bool merge)
{
	struct words refs, users;
	if (merge)
		return left_out(im, "rule left out: %s (merge checks) has no equivalent",
				words->items[0]);
	if (!im->in_repo)
		return left_out(im, "a rule outside a usable repo line: left out");
	if (!rule_refs(im, words, eq, &refs))
		return;
	rule_users(im, words, eq + 1, &users);
	/* R and C rules are asked about with ref "any" only: their refs never mattered. */
	bool drop_refs = strcmp(words->items[0], "R") == 0 || strcmp(words->items[0], "C") == 0;
	char *key = join(words->items[0], &refs, 0, drop_refs ? 0 : refs.count);
	if (users.count && strlen(key) <= LINE_MAX_INI / 2) {
		emit_rule(im, key, &users);
	} else if (users.count) { /* one rule per ref, in order: the same for every user */
		for (size_t i = 0; i < refs.count; i++) {
			char *one = join(words->items[0], &refs, i, i + 1);
			emit_rule(im, one, &users);
			free(one);
		}
	}
	free(key);
	config_words_free(&refs);
	config_words_free(&users);
}

static void import_option(struct import *im, const struct words *words)
{
	if (words->count == 4 && strcmp(words->items[1], "deny-rules") == 0 && im->in_repo &&
	    (strcmp(words->items[3], "1") == 0 || strcmp(words->items[3], "0") == 0))
		fprintf(im->sections, "deny-rules = %s\n",
			strcmp(words->items[3], "1") == 0 ? "yes" : "no");
	else
		left_out(im, "option %s left out: no equivalent",
			 words->count > 1 ? words->items[1] : "");
}

/* gitolite's cleanup_conf_line: no comment, blanks around the first '=', single blanks. */
static void clean_line(char *line)
{
	bool quoted = false;
	for (char *c = line; *c; c++) {
		if (*c == '"')
			quoted = !quoted;
		if (*c == '#' && !quoted) {
			*c = '\0';
			break;
		}
	}
	line[strcspn(line, "\r\n")] = '\0';
}

static void import_line(struct import *im, char *line)
{
	struct words words;
	clean_line(line);
	char *eq = strchr(line, '='), *spaced = NULL;
	if (eq && asprintf(&spaced, "%.*s = %s", (int)(eq - line), line, eq + 1) < 0)
		die("out of memory");
	config_words_split(spaced ? spaced : line, &words);
	free(spaced);
	size_t at = 0;
	while (at < words.count && strcmp(words.items[at], "=") != 0)
		at++;
	bool merge = false, has_eq = at < words.count;
	const char *first = words.count ? words.items[0] : "";
	if (!words.count)
		;
	else if (first[0] == '@' && at == 1)
		define_group(im, first + 1, &(struct words){words.items + 2, words.count - 2});
	else if (strcmp(first, "repo") == 0)
		start_repo(im, &words);
	else if (has_eq && is_perm(first, &merge))
		import_rule(im, &words, at, merge);
	else if (strcmp(first, "option") == 0)
		import_option(im, &words);
	else if (!strcmp(first, "config") || !strcmp(first, "desc") || !strcmp(first, "owner") ||
		 !strcmp(first, "category"))
		left_out(im, "%s line left out: gitcage sets no git config from its rules", first);
	else if (!strcmp(first, "include") || !strcmp(first, "subconf"))
		left_out(im, "%s left out: import each file on its own", first);
	else
		left_out(im, "not understood: left out");
	config_words_free(&words);
}

/* A member as a [group] takes it: patterns become ~REGEX. */
static void emit_groups(struct import *im, FILE *out)
{
	for (size_t i = 0; i < im->group_count; i++) {
		struct group_def *group = &im->groups[i];
		size_t width = 0;
		if (!config_valid_name(group->name)) {
			im->line = 0;
			left_out(im, "group @%s left out: not a name gitcage takes", group->name);
			continue;
		}
		fprintf(out, "\n[group %s]\n", group->name);
		for (size_t j = 0; j < group->members.count; j++) {
			const char *member = group->members.items[j];
			bool pattern = !plain_name(member) && member[0] != '@';
			char *regex = pattern ? posix_regex(member) : NULL, *word = NULL;
			if (regex && asprintf(&word, "~%s", regex) < 0)
				die("out of memory");
			if (pattern && !regex) {
				im->line = 0;
				left_out(im,
					 "'%s' left out of @%s: not a POSIX extended regular "
					 "expression",
					 member, group->name);
				continue;
			}
			const char *shown = word ? word : member;
			if (width && width + 1 + strlen(shown) > LINE_MAX_INI)
				fputc('\n', out), width = 0;
			if (!width)
				width = (size_t)fprintf(out, "members =");
			width += (size_t)fprintf(out, " %s", shown);
			free(regex);
			free(word);
		}
		if (width)
			fputc('\n', out);
	}
}

/* ---- keys ---- */

struct key_copy {
	struct import *im;
	int dest_fd;
	int copied;
};

/* gitolite takes a key file only when it holds exactly one line. */
static bool one_line(const char *data, size_t len)
{
	const char *newline = memchr(data, '\n', len);
	return len > 0 && (!newline || (size_t)(newline - data) == len - 1);
}

static int copy_key(const char *path, mode_t type, int parent_fd, const char *name, void *payload)
{
	struct key_copy *copy = payload;
	char user[256], *data;
	size_t len;
	if (strncmp(path, "./", 2) == 0)
		path += 2;
	if (type != S_IFREG || strlen(name) < 5 || strcmp(name + strlen(name) - 4, ".pub"))
		return 0;
	if (keys_user_of_file(name, user, sizeof(user)) != 0)
		return left_out(copy->im, "key %s left out: not a user name gitcage takes", path),
		       0;
	if (repofs_read(parent_fd, name, 1 << 20, &data, &len) != 0)
		return left_out(copy->im, "key %s left out: %s", path, strerror(errno)), 0;
	if (!one_line(data, len)) {
		free(data);
		return left_out(copy->im, "key %s left out: gitolite ignores it too (not one line)",
				path),
		       0;
	}
	int fd = -1;
	if (repofs_make_parents(copy->dest_fd, path) == 0)
		fd = openat(copy->dest_fd, path,
			    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0 || write_all(fd, data, len) != 0)
		left_out(copy->im, "key %s left out: %s", path,
			 errno == EEXIST ? "one of that name is there already" : strerror(errno));
	else
		copy->copied++;
	if (fd >= 0)
		close(fd);
	free(data);
	return 0;
}

/* gitolite-admin's layout: conf/gitolite.conf beside keydir/. */
static void keydir_of(const char *conf, char *out, size_t size)
{
	char real[PATH_MAX];
	if (!realpath(conf, real))
		die_errno("import-gitolite: %s", conf);
	char *dir = dirname(real);
	bool in_conf = strcmp(basename(dir), "conf") == 0;
	snprintf(out, size, "%s%s/keydir", dir, in_conf ? "/.." : "");
}

static void copy_keys(struct import *im, const char *conf, const char *dest)
{
	char source[PATH_MAX];
	keydir_of(conf, source, sizeof(source));
	if (mkdir(dest, 0755) != 0 && errno != EEXIST)
		die_errno("import-gitolite: cannot make %s", dest);
	cleanup_fd int src_fd = open(source, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cleanup_fd int dest_fd = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (src_fd < 0 || dest_fd < 0)
		die_errno("import-gitolite: cannot open %s", src_fd < 0 ? source : dest);
	struct key_copy copy = {im, dest_fd, 0};
	im->line = 0;
	if (repofs_walk(src_fd, ".", copy_key, &copy) != 0)
		die_errno("import-gitolite: cannot read %s", source);
	fprintf(stderr, "gitcage: %d key file%s copied from %s to %s\n", copy.copied,
		copy.copied == 1 ? "" : "s", source, dest);
}

/* ---- the verb ---- */

static void read_conf(struct import *im, const char *path)
{
	FILE *in = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;
	if (!in)
		die_errno("import-gitolite: %s", path);
	im->sections = open_memstream(&im->out, &im->out_len);
	if (!im->sections)
		die("out of memory");
	for (im->line = 1; getline(&line, &cap, in) >= 0; im->line++)
		import_line(im, line);
	free(line);
	fclose(in);
	fclose(im->sections);
}

int verb_import_gitolite(const struct global_options *options, int argc, char **argv)
{
	const char *keydir = NULL;
	char dest[PATH_MAX];
	(void)options;
	if (argc == 4 && strcmp(argv[1], "--keydir") == 0)
		keydir = argv[2];
	else if (argc != 2)
		die("usage: gitcage import-gitolite [--keydir DIR] GITOLITE_CONF");
	const char *conf = argv[argc - 1];
	struct import im = {.file = conf};
	read_conf(&im, conf);
	if (keydir)
		copy_keys(&im, conf, keydir);
	printf("; gitcage.conf imported from %s by gitcage import-gitolite\n\n[server]\n"
	       "; the directory of the repositories (gitolite's ~/repositories)\n"
	       "#repositories = /srv/git\n",
	       conf);
	if (keydir && realpath(keydir, dest))
		printf("keys = %s\n", dest);
	emit_groups(&im, stdout);
	fwrite(im.out, 1, im.out_len, stdout);
	free(im.out);
	for (size_t i = 0; i < im.group_count; i++)
		free(im.groups[i].name), config_words_free(&im.groups[i].members);
	free(im.groups);
	if (im.left_out)
		fprintf(stderr, "gitcage: %d construct%s left out (see above)\n", im.left_out,
			im.left_out == 1 ? "" : "s");
	return im.left_out ? 1 : 0;
}

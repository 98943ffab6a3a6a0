/* The INI config -> struct config.
 *
 * inih splits "key = value" lines; this file feeds it one line at a time through a reader of
 * its own. That reader is what keeps every error exact and every line honest:
 * - it counts lines, since Debian's inih is built without INI_HANDLER_LINENO;
 * - it parses [section] headers itself, because inih silently cuts them at 49 bytes, and a
 *   cut "[repo team/long-name...]" would be a rule for some other repository;
 * - it strips leading blanks, so that no line becomes an inih "continuation" of the last key;
 * - it refuses a line too long for inih's buffer instead of letting it be split in two;
 * - it notices a key line for which inih never called the handler: a syntax error, which inih
 *   would only report once, for the first such line. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <ini.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#ifndef GITCAGE_HOOKS_DIR
#define GITCAGE_HOOKS_DIR "/usr/local/lib/gitcage/hooks"
#endif

/* A config file larger than this is refused rather than read into memory. */
#define CONFIG_MAX_BYTES (16u << 20)
/* The most keys any one section has (for duplicate detection). */
#define SECTION_MAX_KEYS 16

static const struct limits default_limits = {
    .timeout = 3600,
    .cpu = 600,
    .memory = 8ULL << 30,
    .processes = 512,
    .files = 4096,
    .filesize = 16ULL << 30,
    .tmp = 256ULL << 20,
};

enum section_kind {
	SECTION_NONE, /* before the first header */
	SECTION_SKIP, /* a bad header: its error is reported once, its keys are ignored */
	SECTION_SERVER,
	SECTION_LIMITS,
	SECTION_GROUP,
	SECTION_REPO,
};

enum value_kind {
	VALUE_PATH,	      /* an absolute path */
	VALUE_AUDIT,	      /* "syslog" or an absolute path */
	VALUE_COMMAND,	      /* an absolute program path, then arguments */
	VALUE_PRINCIPALS,     /* users and @groups */
	VALUE_REFS,	      /* ref patterns */
	VALUE_BOOL,	      /* stored as int */
	VALUE_NUMBER,	      /* 0 allowed */
	VALUE_NONZERO_NUMBER, /* a limit of 0 would make the sandbox unusable */
	VALUE_SIZE,	      /* 0 allowed */
	VALUE_NONZERO_SIZE,   /* tmpfs reads size=0 as "unlimited": never write that by accident */
};

/* What a bad value should have looked like, for the error message. */
static const char *const value_expected[] = {
    [VALUE_PATH] = "an absolute path",
    [VALUE_AUDIT] = "syslog or an absolute file path",
    [VALUE_COMMAND] = "an absolute path to a program, then its arguments",
    [VALUE_PRINCIPALS] = "user names and @groups",
    [VALUE_REFS] = "ref patterns starting with refs/",
    [VALUE_BOOL] = "yes, no, true, false, on, off, 1 or 0",
    [VALUE_NUMBER] = "a whole number",
    [VALUE_NONZERO_NUMBER] = "a whole number of at least 1",
    [VALUE_SIZE] = "a size such as 0, 512K, 10M or 2G",
    [VALUE_NONZERO_SIZE] = "a size of at least 1, such as 512K, 10M or 2G",
};

struct key_spec {
	const char *name;
	enum value_kind kind;
	size_t offset; /* of the field in the section's struct */
};

#define KEY(name, kind, type, field)                                                               \
	{                                                                                          \
		name, kind, offsetof(type, field)                                                  \
	}

static const struct key_spec server_keys[] = {
    KEY("repositories", VALUE_PATH, struct config, repositories),
    KEY("git", VALUE_PATH, struct config, git),
    KEY("audit", VALUE_AUDIT, struct config, audit),
    KEY("keys", VALUE_PATH, struct config, keys),
    KEY("hooks", VALUE_PATH, struct config, hooks),
    KEY("protect", VALUE_REFS, struct config, protect),
    KEY("max-blob-size", VALUE_SIZE, struct config, max_blob_size),
    KEY("repo-hooks", VALUE_BOOL, struct config, repo_hooks),
    KEY("notify", VALUE_COMMAND, struct config, notify),
};

static const struct key_spec limits_keys[] = {
    KEY("timeout", VALUE_NUMBER, struct limits, timeout),
    KEY("cpu", VALUE_NONZERO_NUMBER, struct limits, cpu),
    KEY("memory", VALUE_NONZERO_SIZE, struct limits, memory),
    KEY("processes", VALUE_NONZERO_NUMBER, struct limits, processes),
    KEY("files", VALUE_NONZERO_NUMBER, struct limits, files),
    KEY("filesize", VALUE_NONZERO_SIZE, struct limits, filesize),
    KEY("tmp", VALUE_NONZERO_SIZE, struct limits, tmp),
};

static const struct key_spec group_keys[] = {
    KEY("members", VALUE_PRINCIPALS, struct group, members),
};

static const struct key_spec repo_keys[] = {
    KEY("read", VALUE_PRINCIPALS, struct repo_rule, read),
    KEY("write", VALUE_PRINCIPALS, struct repo_rule, write),
    KEY("protect", VALUE_REFS, struct repo_rule, protect),
    KEY("max-blob-size", VALUE_SIZE, struct repo_rule, max_blob_size),
    KEY("repo-hooks", VALUE_BOOL, struct repo_rule, repo_hooks),
    KEY("notify", VALUE_COMMAND, struct repo_rule, notify),
};

struct section_spec {
	const struct key_spec *keys;
	size_t key_count;
};

static const struct section_spec section_specs[] = {
    [SECTION_SERVER] = {server_keys, ARRAY_SIZE(server_keys)},
    [SECTION_LIMITS] = {limits_keys, ARRAY_SIZE(limits_keys)},
    [SECTION_GROUP] = {group_keys, ARRAY_SIZE(group_keys)},
    [SECTION_REPO] = {repo_keys, ARRAY_SIZE(repo_keys)},
};

/* An @group named in a list; checked once the whole file is read, as groups may come later. */
struct group_ref {
	char *name;
	int line;
};

struct parser {
	struct config *cfg;
	struct config_errors *errors;
	size_t error_count; /* errors found by this parse */
	const char *name;   /* the file name errors start with */
	const char *data;
	size_t len, pos;
	int line;	  /* the line last handed to inih */
	int pending_line; /* a key line inih has not (yet) called the handler for */
	enum section_kind section;
	char *title;  /* "repo demo.git": the current section, for messages */
	size_t index; /* of the current group or repo in cfg */
	int seen_line[SECTION_MAX_KEYS];
	int server_line, limits_line; /* where [server] and [limits] were opened */
	struct group_ref *refs;
	size_t ref_count;
};

/* [server] has the most keys. */
_Static_assert(ARRAY_SIZE(server_keys) <= SECTION_MAX_KEYS, "raise SECTION_MAX_KEYS");

/* ---- small helpers ---- */

/* Grow array by one zeroed element of size bytes; returns the new array. */
static void *append_zeroed(void *array, size_t count, size_t size)
{
	char *grown = reallocarray(array, count + 1, size);
	if (!grown)
		die("out of memory");
	memset(grown + count * size, 0, size);
	return grown;
}

static char *copy_bytes(const char *s, size_t len)
{
	char *copy = strndup(s, len);
	if (!copy)
		die("out of memory");
	return copy;
}

static void errors_add(struct config_errors *errors, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void errors_add(struct config_errors *errors, const char *fmt, ...)
{
	char *line;
	va_list ap;
	va_start(ap, fmt);
	int len = vasprintf(&line, fmt, ap);
	va_end(ap);
	if (len < 0)
		die("out of memory");
	errors->lines = append_zeroed(errors->lines, errors->count, sizeof(*errors->lines));
	errors->lines[errors->count++] = line;
}

/* Record "FILE:LINE: message". */
static void parse_error(struct parser *p, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void parse_error(struct parser *p, int line, const char *fmt, ...)
{
	char *message;
	va_list ap;
	va_start(ap, fmt);
	int len = vasprintf(&message, fmt, ap);
	va_end(ap);
	if (len < 0)
		die("out of memory");
	errors_add(p->errors, "%s:%d: %s", p->name, line, message);
	free(message);
	p->error_count++;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static bool has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/* User and group names: [A-Za-z0-9._-]+, not starting with '-' (it would read as an option
 * wherever the name reaches a command line) or '.' (hidden files, "." and ".."). */
bool config_valid_name(const char *s)
{
	if (*s == '\0' || *s == '-' || *s == '.')
		return false;
	for (; *s; s++) {
		char c = *s;
		bool alnum =
		    (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (!alnum && c != '.' && c != '_' && c != '-')
			return false;
	}
	return true;
}

/* Why a [repo PATH] is unsafe or unreachable, or NULL. The request parser never produces
 * such a path, so a rule written this way would be dead or would point outside the root. */
static const char *repo_path_problem(const char *path)
{
	if (*path == '\0')
		return "it is empty";
	if (*path == '/')
		return "it must be relative to repositories (no leading '/')";
	if (strlen(path) >= PATH_MAX)
		return "it is too long";
	if (strchr(path, '~'))
		return "it must not contain '~'";
	if (has_control(path))
		return "it must not contain control characters";
	for (const char *part = path;; part++) {
		size_t len = strcspn(part, "/");
		if (len == 0)
			return "it must not contain empty components ('//' or a trailing '/')";
		if ((len == 1 && part[0] == '.') || (len == 2 && part[0] == '.' && part[1] == '.'))
			return "it must not contain '.' or '..' components";
		part += len;
		if (*part == '\0')
			return NULL;
	}
}

static void words_free(struct words *words)
{
	for (size_t i = 0; i < words->count; i++)
		free(words->items[i]);
	free(words->items);
	*words = (struct words){0};
}

static void words_split(const char *value, struct words *out)
{
	char *copy = xstrdup(value);
	char *save = NULL;
	*out = (struct words){0};
	for (char *word = strtok_r(copy, " \t", &save); word; word = strtok_r(NULL, " \t", &save)) {
		out->items = append_zeroed(out->items, out->count, sizeof(*out->items));
		out->items[out->count++] = xstrdup(word);
	}
	free(copy);
}

/* ---- sizes and numbers ---- */

/* Exactly len decimal digits, no sign, no blanks: strtoull would take "-1" as a huge limit. */
static int parse_digits(const char *text, size_t len, unsigned long long *out)
{
	unsigned long long value = 0;
	if (len == 0)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (text[i] < '0' || text[i] > '9')
			return -1;
		if (__builtin_mul_overflow(value, 10ULL, &value) ||
		    __builtin_add_overflow(value, (unsigned long long)(text[i] - '0'), &value))
			return -1;
	}
	*out = value;
	return 0;
}

/* K, M, G, T (either case) as a power-of-two shift; 0 for anything else. */
static unsigned suffix_shift(char c)
{
	switch (c) {
	case 'K':
	case 'k':
		return 10;
	case 'M':
	case 'm':
		return 20;
	case 'G':
	case 'g':
		return 30;
	case 'T':
	case 't':
		return 40;
	default:
		return 0;
	}
}

int config_parse_size(const char *text, unsigned long long *out)
{
	size_t len = strlen(text);
	unsigned shift = len ? suffix_shift(text[len - 1]) : 0;
	unsigned long long value;
	if (shift)
		len--;
	if (parse_digits(text, len, &value) < 0 || value > (ULLONG_MAX >> shift))
		return -1;
	*out = value << shift;
	return 0;
}

static int parse_bool(const char *text, int *out)
{
	static const char *const truths[] = {"yes", "true", "on", "1"};
	static const char *const lies[] = {"no", "false", "off", "0"};
	for (size_t i = 0; i < ARRAY_SIZE(truths); i++) {
		if (strcasecmp(text, truths[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(text, lies[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

/* ---- values ---- */

static void value_error(struct parser *p, const struct key_spec *key, const char *value)
{
	parse_error(p, p->line, "invalid %s '%s' in [%s]: expected %s", key->name, value, p->title,
		    value_expected[key->kind]);
}

/* Absolute paths keep the result independent of the working directory sshd gives us. */
static bool text_ok(enum value_kind kind, const char *value)
{
	if (has_control(value))
		return false;
	if (kind == VALUE_AUDIT && strcmp(value, "syslog") == 0)
		return true;
	return value[0] == '/';
}

static void set_text(struct parser *p, const struct key_spec *key, char **field, const char *value)
{
	if (!text_ok(key->kind, value)) {
		value_error(p, key, value);
		return;
	}
	free(*field);
	*field = xstrdup(value);
}

static void add_group_ref(struct parser *p, const char *name)
{
	p->refs = append_zeroed(p->refs, p->ref_count, sizeof(*p->refs));
	p->refs[p->ref_count++] = (struct group_ref){xstrdup(name), p->line};
}

/* Users and @groups; @all is every user. Each bad word is its own error. */
static bool check_principals(struct parser *p, const struct key_spec *key,
			     const struct words *words)
{
	bool ok = true;
	for (size_t i = 0; i < words->count; i++) {
		const char *word = words->items[i];
		const char *name = word[0] == '@' ? word + 1 : word;
		if (!config_valid_name(name)) {
			parse_error(p, p->line,
				    "invalid %s in [%s]: '%s' is not a user name or @group",
				    key->name, p->title, word);
			ok = false;
		} else if (word[0] == '@' && strcmp(name, "all") != 0) {
			add_group_ref(p, name);
		}
	}
	return ok;
}

/* A pattern outside refs/ would never match, and the admin would believe a branch protected. */
static bool check_refs(struct parser *p, const struct key_spec *key, const struct words *words)
{
	bool ok = true;
	for (size_t i = 0; i < words->count; i++) {
		const char *word = words->items[i];
		if (strncmp(word, "refs/", 5) != 0 || has_control(word)) {
			parse_error(p, p->line,
				    "invalid %s in [%s]: '%s' is not a ref pattern (%s)", key->name,
				    p->title, word, "it must start with refs/");
			ok = false;
		}
	}
	return ok;
}

static void set_words(struct parser *p, const struct key_spec *key, struct words *field,
		      const char *value)
{
	struct words words;
	words_split(value, &words);
	bool ok =
	    key->kind == VALUE_REFS ? check_refs(p, key, &words) : check_principals(p, key, &words);
	if (!ok) {
		words_free(&words);
		return;
	}
	words_free(field);
	*field = words;
}

static void set_number(struct parser *p, const struct key_spec *key, unsigned long long *field,
		       const char *value)
{
	bool size = key->kind == VALUE_SIZE || key->kind == VALUE_NONZERO_SIZE;
	bool nonzero = key->kind == VALUE_NONZERO_NUMBER || key->kind == VALUE_NONZERO_SIZE;
	unsigned long long number;
	int rc =
	    size ? config_parse_size(value, &number) : parse_digits(value, strlen(value), &number);
	if (rc < 0 || (nonzero && number == 0)) {
		value_error(p, key, value);
		return;
	}
	*field = number;
}

static void set_value(struct parser *p, const struct key_spec *key, void *field, const char *value)
{
	switch (key->kind) {
	case VALUE_PATH:
	case VALUE_AUDIT:
	case VALUE_COMMAND:
		set_text(p, key, field, value);
		break;
	case VALUE_PRINCIPALS:
	case VALUE_REFS:
		set_words(p, key, field, value);
		break;
	case VALUE_BOOL:
		if (parse_bool(value, field) < 0)
			value_error(p, key, value);
		break;
	default:
		set_number(p, key, field, value);
		break;
	}
}

/* ---- sections and keys ---- */

#define BLANKS " \t\r\v\f"

static void *section_target(struct parser *p)
{
	switch (p->section) {
	case SECTION_SERVER:
		return p->cfg;
	case SECTION_LIMITS:
		return &p->cfg->limits;
	case SECTION_GROUP:
		return &p->cfg->groups[p->index];
	case SECTION_REPO:
		return &p->cfg->repos[p->index];
	default:
		return NULL;
	}
}

static void set_key(struct parser *p, const char *name, const char *value)
{
	if (p->section == SECTION_NONE) {
		parse_error(p, p->line, "key '%s' comes before any [section]", name);
		return;
	}
	if (p->section == SECTION_SKIP)
		return; /* the section's header already has its error */
	const struct section_spec *spec = &section_specs[p->section];
	size_t i = 0;
	while (i < spec->key_count && strcmp(spec->keys[i].name, name) != 0)
		i++;
	if (i == spec->key_count) {
		parse_error(p, p->line, "unknown key '%s' in [%s]", name, p->title);
		return;
	}
	if (p->seen_line[i]) {
		parse_error(p, p->line, "duplicate key '%s' in [%s] (first set at line %d)", name,
			    p->title, p->seen_line[i]);
		return;
	}
	p->seen_line[i] = p->line;
	set_value(p, &spec->keys[i], (char *)section_target(p) + spec->keys[i].offset, value);
}

static void open_once(struct parser *p, enum section_kind kind, int *first_line)
{
	if (*first_line) {
		parse_error(p, p->line, "duplicate section [%s] (first at line %d)", p->title,
			    *first_line);
		return;
	}
	*first_line = p->line;
	p->section = kind;
}

static void open_group(struct parser *p, const char *name)
{
	struct config *cfg = p->cfg;
	if (!config_valid_name(name) || strcmp(name, "all") == 0) {
		parse_error(p, p->line, "invalid group name '%s': %s", name,
			    "use [A-Za-z0-9._-], not starting with '-' or '.'; 'all' is reserved");
		return;
	}
	for (size_t i = 0; i < cfg->group_count; i++) {
		if (strcmp(cfg->groups[i].name, name) == 0) {
			parse_error(p, p->line, "duplicate section [%s] (first at line %d)",
				    p->title, cfg->groups[i].line);
			return;
		}
	}
	cfg->groups = append_zeroed(cfg->groups, cfg->group_count, sizeof(*cfg->groups));
	cfg->groups[cfg->group_count] = (struct group){.name = xstrdup(name), .line = p->line};
	p->index = cfg->group_count++;
	p->section = SECTION_GROUP;
}

static void open_repo(struct parser *p, const char *path)
{
	struct config *cfg = p->cfg;
	const char *problem = repo_path_problem(path);
	if (problem) {
		parse_error(p, p->line, "invalid repository path '%s': %s", path, problem);
		return;
	}
	for (size_t i = 0; i < cfg->repo_count; i++) {
		if (strcmp(cfg->repos[i].path, path) == 0) {
			parse_error(p, p->line, "duplicate section [%s] (first at line %d)",
				    p->title, cfg->repos[i].line);
			return;
		}
	}
	cfg->repos = append_zeroed(cfg->repos, cfg->repo_count, sizeof(*cfg->repos));
	cfg->repos[cfg->repo_count] =
	    (struct repo_rule){.path = xstrdup(path), .repo_hooks = -1, .line = p->line};
	p->index = cfg->repo_count++;
	p->section = SECTION_REPO;
}

static void trim_end(char *text)
{
	size_t len = strlen(text);
	while (len && is_blank(text[len - 1]))
		text[--len] = '\0';
}

/* inih's rule for values, applied to headers too: a ';' after a blank starts a comment. */
static void cut_inline_comment(char *text)
{
	for (char *c = text; *c; c++) {
		if (*c == ';' && c > text && is_blank(c[-1])) {
			*c = '\0';
			break;
		}
	}
	trim_end(text);
}

/* inner: what is between the brackets, e.g. " repo  team/demo.git ". */
static void open_section(struct parser *p, char *inner)
{
	char *kind = inner + strspn(inner, BLANKS);
	char *arg = kind + strcspn(kind, BLANKS);
	if (*arg)
		*arg++ = '\0';
	arg += strspn(arg, BLANKS);
	trim_end(arg);
	int rc = *arg ? asprintf(&p->title, "%s %s", kind, arg) : asprintf(&p->title, "%s", kind);
	if (rc < 0)
		die("out of memory");

	if (strcmp(kind, "server") == 0 && !*arg)
		open_once(p, SECTION_SERVER, &p->server_line);
	else if (strcmp(kind, "limits") == 0 && !*arg)
		open_once(p, SECTION_LIMITS, &p->limits_line);
	else if (strcmp(kind, "group") == 0 && *arg)
		open_group(p, arg);
	else if (strcmp(kind, "repo") == 0 && *arg)
		open_repo(p, arg);
	else
		parse_error(p, p->line, "unknown section [%s] (expected %s)", p->title,
			    "[server], [limits], [group NAME] or [repo PATH]");
}

/* line: a whole trimmed line starting with '['. Everything after the last ']' must be blank
 * or an inline comment; the last one, so that globs such as [repo team/[ab]*.git] work. */
static void begin_section(struct parser *p, const char *line, size_t len)
{
	char *header = copy_bytes(line, len);
	cut_inline_comment(header);
	size_t end = strlen(header);

	p->section = SECTION_SKIP;
	free(p->title);
	p->title = NULL;
	memset(p->seen_line, 0, sizeof(p->seen_line));
	if (end < 2 || header[end - 1] != ']') {
		parse_error(p, p->line, "malformed section header '%s': expected [NAME]", header);
	} else {
		header[end - 1] = '\0';
		open_section(p, header + 1);
	}
	free(header);
}

/* ---- the line feeder and inih's handler ---- */

/* A key line handed to inih that never reached the handler is one inih could not parse. */
static void finish_pending(struct parser *p)
{
	if (p->pending_line)
		parse_error(p, p->pending_line,
			    "expected 'key = value', a [section] header or a comment");
	p->pending_line = 0;
}

/* The next raw line, without its '\n'. False at the end of the text. */
static bool next_raw_line(struct parser *p, const char **line, size_t *len)
{
	if (p->pos >= p->len)
		return false;
	const char *start = p->data + p->pos;
	const char *newline = memchr(start, '\n', p->len - p->pos);
	*line = start;
	*len = newline ? (size_t)(newline - start) : p->len - p->pos;
	p->pos += *len + (newline ? 1 : 0);
	return true;
}

static void trim(const char **line, size_t *len)
{
	while (*len && is_blank((*line)[*len - 1]))
		(*len)--;
	while (*len && is_blank(**line)) {
		(*line)++;
		(*len)--;
	}
}

/* Hand inih a key line as it is, if its buffer can hold it: a longer line would be split, and
 * its tail read as a line of its own. */
static void hand_key_line(struct parser *p, const char *line, size_t len, char *out, int size)
{
	if (len >= (size_t)size) {
		parse_error(p, p->line, "line is too long (%zu characters; inih takes at most %d)",
			    len, size - 1);
		return;
	}
	memcpy(out, line, len);
	out[len] = '\0';
	p->pending_line = p->line;
}

/* inih's reader: one call per line of the file, so that its line count and ours agree.
 * Blank, comment and header lines reach inih as empty lines. */
static char *feed_line(char *out, int size, void *stream)
{
	struct parser *p = stream;
	const char *line;
	size_t len;
	finish_pending(p);
	if (!next_raw_line(p, &line, &len))
		return NULL;
	p->line++;
	if (size < 1) {
		parse_error(p, p->line, "inih offers no line buffer"); /* fail closed */
		return NULL;
	}
	if (p->line == 1 && len >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0) {
		line += 3; /* a UTF-8 byte order mark */
		len -= 3;
	}
	trim(&line, &len); /* no leading blank: inih would take the line as a continuation */
	out[0] = '\0';
	if (memchr(line, '\0', len))
		parse_error(p, p->line, "line contains a NUL byte");
	else if (len == 0 || line[0] == ';' || line[0] == '#')
		; /* blank or comment */
	else if (line[0] == '[')
		begin_section(p, line, len);
	else
		hand_key_line(p, line, len, out, size);
	return out;
}

static int on_key(void *user, const char *section, const char *name, const char *value)
{
	struct parser *p = user;
	(void)section; /* inih's copy is cut at 49 bytes; the feeder keeps the whole header */
	p->pending_line = 0;
	if (*name == '\0')
		parse_error(p, p->line, "missing key name before '='");
	else
		set_key(p, name, value);
	return 1; /* never stop inih: every error is reported at once */
}

static bool group_defined(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->group_count; i++)
		if (strcmp(cfg->groups[i].name, name) == 0)
			return true;
	return false;
}

/* A misspelt @group would silently grant nothing, or hide whom a rule was meant for. */
static void check_group_refs(struct parser *p)
{
	for (size_t i = 0; i < p->ref_count; i++) {
		if (!group_defined(p->cfg, p->refs[i].name))
			parse_error(p, p->refs[i].line,
				    "unknown group '@%s': there is no [group %s]", p->refs[i].name,
				    p->refs[i].name);
	}
}

static void parser_free(struct parser *p)
{
	for (size_t i = 0; i < p->ref_count; i++)
		free(p->refs[i].name);
	free(p->refs);
	free(p->title);
}

/* cfg must have been through config_init: a parse changes only what the file sets, so what it
 * leaves out keeps its default. */
static size_t parse_text(const char *data, size_t len, const char *name, struct config *cfg,
			 struct config_errors *errors)
{
	struct parser p = {.cfg = cfg, .errors = errors, .name = name, .data = data, .len = len};
	cfg->file = name;
	int rc = ini_parse_stream(feed_line, &p, on_key, &p);
	finish_pending(&p);
	/* Our handler never fails, so inih can only have stopped at a line the feeder already
	 * reported; never report success when it did not. */
	if (rc != 0 && p.error_count == 0)
		parse_error(&p, rc > 0 ? rc : p.line, "inih could not parse this file (%d)", rc);
	check_group_refs(&p);
	parser_free(&p);
	return p.error_count;
}

/* ---- public ---- */

void config_init(struct config *cfg)
{
	*cfg = (struct config){
	    .git = xstrdup("/usr/bin/git"),
	    .audit = xstrdup("syslog"),
	    .hooks = xstrdup(GITCAGE_HOOKS_DIR),
	    .limits = default_limits,
	};
}

void config_free(struct config *cfg)
{
	free(cfg->repositories);
	free(cfg->git);
	free(cfg->audit);
	free(cfg->keys);
	free(cfg->hooks);
	free(cfg->notify);
	words_free(&cfg->protect);
	for (size_t i = 0; i < cfg->group_count; i++) {
		free(cfg->groups[i].name);
		words_free(&cfg->groups[i].members);
	}
	free(cfg->groups);
	for (size_t i = 0; i < cfg->repo_count; i++) {
		struct repo_rule *rule = &cfg->repos[i];
		free(rule->path);
		free(rule->notify);
		words_free(&rule->read);
		words_free(&rule->write);
		words_free(&rule->protect);
	}
	free(cfg->repos);
	*cfg = (struct config){0};
}

void config_errors_free(struct config_errors *errors)
{
	for (size_t i = 0; i < errors->count; i++)
		free(errors->lines[i]);
	free(errors->lines);
	*errors = (struct config_errors){0};
}

/* Double *buf, up to CONFIG_MAX_BYTES. Returns 0, or -1 with errno EFBIG. */
static int grow_buffer(char **buf, size_t *cap)
{
	if (*cap >= CONFIG_MAX_BYTES) {
		errno = EFBIG;
		return -1;
	}
	char *grown = realloc(*buf, *cap * 2);
	if (!grown)
		die("out of memory");
	*buf = grown;
	*cap *= 2;
	return 0;
}

/* The whole file, NUL-terminated. Returns 0, or -1 with errno. */
static int read_all(int fd, char **out, size_t *out_len)
{
	size_t len = 0, cap = 8192;
	char *buf = xcalloc(cap, 1);
	for (;;) {
		if (len + 1 == cap && grow_buffer(&buf, &cap) < 0)
			goto fail;
		ssize_t n = read(fd, buf + len, cap - len - 1);
		if (n == 0)
			break;
		if (n > 0)
			len += (size_t)n;
		else if (errno != EINTR)
			goto fail;
	}
	buf[len] = '\0';
	*out = buf;
	*out_len = len;
	return 0;
fail:;
	int saved = errno;
	free(buf);
	errno = saved;
	return -1;
}

size_t config_parse_fd(int fd, const char *name, struct config *cfg, struct config_errors *errors)
{
	char *text;
	size_t len;
	cfg->file = name;
	if (read_all(fd, &text, &len) < 0) {
		if (errno == EFBIG)
			errors_add(errors, "%s: larger than %u MiB; refusing it", name,
				   CONFIG_MAX_BYTES >> 20);
		else
			errors_add(errors, "%s: %s", name, strerror(errno));
		return 1;
	}
	size_t count = parse_text(text, len, name, cfg, errors);
	free(text);
	return count;
}

size_t config_parse_string(const char *text, const char *name, struct config *cfg,
			   struct config_errors *errors)
{
	return parse_text(text, strlen(text), name, cfg, errors);
}

/* The config decides who may write which repository: trust it only if nobody but root or the
 * service account can have written it. */
static bool file_trusted(const char *path, const struct stat *st, uid_t service_uid,
			 struct config_errors *errors)
{
	unsigned mode = st->st_mode & 07777;
	if (!S_ISREG(st->st_mode))
		errors_add(errors, "%s: refusing a config file that is not a regular file", path);
	else if (mode & S_IWOTH)
		errors_add(errors, "%s: refusing a config file that others can write (mode %04o)",
			   path, mode);
	else if ((mode & S_IWGRP) && st->st_gid != 0)
		errors_add(errors, "%s: refusing a config file that group %u can write (mode %04o)",
			   path, (unsigned)st->st_gid, mode);
	else if (st->st_uid != 0 && st->st_uid != service_uid)
		errors_add(errors,
			   "%s: refusing a config file owned by uid %u (not root or uid %u)", path,
			   (unsigned)st->st_uid, (unsigned)service_uid);
	else
		return true;
	return false;
}

size_t config_load(const char *path, uid_t service_uid, struct config *cfg,
		   struct config_errors *errors)
{
	/* O_NONBLOCK: a FIFO at the path must not hang us before fstat can refuse it. */
	cleanup_fd int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	struct stat st;
	cfg->file = path;
	if (fd < 0 || fstat(fd, &st) < 0) {
		errors_add(errors, "%s: %s", path, strerror(errno));
		return 1;
	}
	/* fstat on the open fd: a rename between a check and the open cannot swap the file. */
	if (!file_trusted(path, &st, service_uid, errors))
		return 1;
	return config_parse_fd(fd, path, cfg, errors);
}

const struct repo_rule *config_find_repo(const struct config *cfg, const char *relpath)
{
	if (!cfg || !relpath)
		return NULL;
	for (size_t i = 0; i < cfg->repo_count; i++)
		if (strcmp(cfg->repos[i].path, relpath) == 0)
			return &cfg->repos[i];
	/* FNM_PATHNAME: a "*" in a glob must not reach into subdirectories. */
	for (size_t i = 0; i < cfg->repo_count; i++)
		if (fnmatch(cfg->repos[i].path, relpath, FNM_PATHNAME) == 0)
			return &cfg->repos[i];
	return NULL;
}

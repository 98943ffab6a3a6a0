/* SPDX-License-Identifier: ISC */
/* The config schema: sections, keys, their values and defaults (struct config). The INI
 * syntax around it is config_ini.c's: that file hands over headers and key lines, and this one
 * decides what they mean. Pure: no I/O. */
#include "common/config.h"
#include "common/config_parse.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* The most keys any one section has (for duplicate detection). */
#define SECTION_MAX_KEYS 32

static const struct limits default_limits = {
    .timeout = 3600,
    .cpu = 600,
    .memory = 8ULL << 30,
    .processes = 512,
    .files = 4096,
    .filesize = 16ULL << 30,
    .tmp = 256ULL << 20,
    .sessions = 64,
    .user_sessions = 8,
    .session_wait = 10,
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
	VALUE_MEMBERS,	      /* users, @groups, or repository names and patterns */
	VALUE_RULE,	      /* users and @groups, for a shorthand rule (read, write) */
	VALUE_BRANCH,	      /* a branch name */
	VALUE_REFS,	      /* ref patterns */
	VALUE_FSCK_IDS,	      /* git fsck message ids: letters */
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
    [VALUE_MEMBERS] = "user names, @groups, or repository names and patterns",
    [VALUE_RULE] = "user names, @groups and CREATOR",
    [VALUE_BRANCH] = "a branch name such as main",
    [VALUE_REFS] = "ref patterns starting with refs/",
    [VALUE_FSCK_IDS] = "git fsck message ids such as badTimezone",
    [VALUE_BOOL] = "yes, no, true, false, on, off, 1 or 0",
    [VALUE_NUMBER] = "a whole number",
    [VALUE_NONZERO_NUMBER] = "a whole number of at least 1",
    [VALUE_SIZE] = "a size such as 0, 512K, 10M or 2G",
    [VALUE_NONZERO_SIZE] = "a size of at least 1, such as 512K, 10M or 2G",
};

struct key_spec {
	const char *name;
	enum value_kind kind;
	size_t offset;	    /* of the field in the section's struct */
	size_t line_offset; /* of an int that records the key's line, or NO_LINE */
	bool repeats;	    /* may be given more than once: each adds to the last */
};

#define NO_LINE ((size_t)-1)

#define KEY(name, kind, type, field)                                                               \
	{                                                                                          \
		name, kind, offsetof(type, field), NO_LINE, false                                  \
	}
/* A key whose line is kept, for messages that name the line that decided. */
#define KEY_LINE(name, kind, type, field, line_field)                                              \
	{                                                                                          \
		name, kind, offsetof(type, field), offsetof(type, line_field), false               \
	}

static const struct key_spec server_keys[] = {
    KEY("repositories", VALUE_PATH, struct config, repositories),
    KEY("git", VALUE_PATH, struct config, git),
    KEY("audit", VALUE_AUDIT, struct config, audit),
    KEY("audit-required", VALUE_BOOL, struct config, audit_required),
    KEY("keys", VALUE_PATH, struct config, keys),
    KEY("hooks", VALUE_PATH, struct config, hooks),
    KEY("state", VALUE_PATH, struct config, state),
    KEY("default-branch", VALUE_BRANCH, struct config, default_branch),
    KEY_LINE("protect", VALUE_REFS, struct config, protect, protect_line),
    KEY("max-blob-size", VALUE_SIZE, struct config, max_blob_size),
    KEY("repo-hooks", VALUE_BOOL, struct config, repo_hooks),
    KEY("notify", VALUE_COMMAND, struct config, notify),
    KEY("allow-filter", VALUE_BOOL, struct config, features.allow_filter),
    KEY("push-options", VALUE_BOOL, struct config, features.push_options),
    KEY("archive-unreachable", VALUE_BOOL, struct config, features.archive_unreachable),
    KEY("fsck-ignore", VALUE_FSCK_IDS, struct config, features.fsck_ignore),
    KEY("push-cert-seed", VALUE_PATH, struct config, push_cert_seed),
};

static const struct key_spec limits_keys[] = {
    KEY("timeout", VALUE_NUMBER, struct limits, timeout),
    KEY("cpu", VALUE_NONZERO_NUMBER, struct limits, cpu),
    KEY("memory", VALUE_NONZERO_SIZE, struct limits, memory),
    KEY("processes", VALUE_NONZERO_NUMBER, struct limits, processes),
    KEY("files", VALUE_NONZERO_NUMBER, struct limits, files),
    KEY("filesize", VALUE_NONZERO_SIZE, struct limits, filesize),
    KEY("tmp", VALUE_NONZERO_SIZE, struct limits, tmp),
    KEY("max-sessions", VALUE_NUMBER, struct limits, sessions),
    KEY("max-user-sessions", VALUE_NUMBER, struct limits, user_sessions),
    KEY("max-sessions-wait", VALUE_NUMBER, struct limits, session_wait),
    KEY("cgroup", VALUE_PATH, struct limits, cgroup),
};

/* members may repeat, so that a long list fits inih's line limit. */
static const struct key_spec group_keys[] = {
    {"members", VALUE_MEMBERS, offsetof(struct config_group, members), NO_LINE, true},
};

/* Besides these, a [repo] section takes access rules (parse_rule); read and write are
 * shorthand for the rules "R" and "RW+" (the field is unused: the rule is what counts). */
static const struct key_spec repo_keys[] = {
    KEY("read", VALUE_RULE, struct repo_rule, rules),
    KEY("write", VALUE_RULE, struct repo_rule, rules),
    KEY_LINE("protect", VALUE_REFS, struct repo_rule, protect, protect_line),
    KEY("max-blob-size", VALUE_SIZE, struct repo_rule, max_blob_size),
    KEY("repo-hooks", VALUE_BOOL, struct repo_rule, repo_hooks),
    KEY("deny-rules", VALUE_BOOL, struct repo_rule, deny_rules),
    KEY("notify", VALUE_COMMAND, struct repo_rule, notify),
    KEY("allow-filter", VALUE_BOOL, struct repo_rule, features.allow_filter),
    KEY("push-options", VALUE_BOOL, struct repo_rule, features.push_options),
    KEY("archive-unreachable", VALUE_BOOL, struct repo_rule, features.archive_unreachable),
    KEY("fsck-ignore", VALUE_FSCK_IDS, struct repo_rule, features.fsck_ignore),
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

struct config_schema {
	enum section_kind section;
	char *title;  /* "repo demo.git": the current section, for messages */
	size_t index; /* of the current group or repo in cfg */
	int seen_line[SECTION_MAX_KEYS];
	int server_line, limits_line; /* where [server] and [limits] were opened */
	struct group_ref *refs;
	size_t ref_count;
};

_Static_assert(ARRAY_SIZE(server_keys) <= SECTION_MAX_KEYS, "raise SECTION_MAX_KEYS");
_Static_assert(ARRAY_SIZE(limits_keys) <= SECTION_MAX_KEYS, "raise SECTION_MAX_KEYS");

/* ---- small helpers ---- */

void config_errors_add(struct config_errors *errors, const char *fmt, ...)
{
	char *line;
	va_list ap;
	va_start(ap, fmt);
	int len = vasprintf(&line, fmt, ap);
	va_end(ap);
	if (len < 0)
		die("out of memory");
	errors->lines = array_append(errors->lines, errors->count, sizeof(*errors->lines));
	errors->lines[errors->count++] = line;
}

/* Record "FILE:LINE: message". */
void config_parser_error(struct config_parser *p, int line, const char *fmt, ...)
{
	char *message;
	va_list ap;
	va_start(ap, fmt);
	int len = vasprintf(&message, fmt, ap);
	va_end(ap);
	if (len < 0)
		die("out of memory");
	config_errors_add(p->errors, "%s:%d: %s", p->name, line, message);
	free(message);
	p->error_count++;
}

bool config_has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

static bool name_char(char c, bool user)
{
	bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
	return alnum || c == '.' || c == '_' || c == '-' || (user && (c == '@' || c == '+'));
}

/* Names never start with '-' (it would read as an option wherever the name reaches a command
 * line) or '.' (hidden files, "." and ".."); a user name never starts with '@' (a group) or
 * '+'. */
static bool valid_name(const char *s, bool user)
{
	if (*s == '\0' || *s == '-' || *s == '.' || *s == '@' || *s == '+')
		return false;
	for (; *s; s++)
		if (!name_char(*s, user))
			return false;
	return true;
}

bool config_valid_name(const char *s)
{
	return valid_name(s, false);
}

bool config_valid_user(const char *s)
{
	return valid_name(s, true);
}

/* Why a [repo PATH] is unsafe or unreachable, or NULL. The request parser never produces
 * such a path, so a rule written this way would be dead or would point outside the root. */
const char *config_repo_path_problem(const char *path)
{
	if (*path == '\0')
		return "it is empty";
	if (*path == '/')
		return "it must be relative to repositories (no leading '/')";
	if (strlen(path) >= PATH_MAX)
		return "it is too long";
	if (strchr(path, '~'))
		return "it must not contain '~'";
	if (config_has_control(path))
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

void config_words_free(struct words *words)
{
	for (size_t i = 0; i < words->count; i++)
		free(words->items[i]);
	free(words->items);
	*words = (struct words){0};
}

void config_words_split(const char *value, struct words *out)
{
	char *copy = xstrdup(value);
	char *save = NULL;
	*out = (struct words){0};
	for (char *word = strtok_r(copy, " \t", &save); word; word = strtok_r(NULL, " \t", &save)) {
		out->items = array_append(out->items, out->count, sizeof(*out->items));
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

static void value_error(struct config_parser *p, const struct key_spec *key, const char *value)
{
	config_parser_error(p, p->line, "invalid %s '%s' in [%s]: expected %s", key->name, value,
			    p->schema->title, value_expected[key->kind]);
}

/* Absolute paths keep the result independent of the working directory sshd gives us. */
static bool text_ok(enum value_kind kind, const char *value)
{
	if (config_has_control(value))
		return false;
	if ((kind == VALUE_AUDIT && strcmp(value, "syslog") == 0) || kind == VALUE_BRANCH)
		return true;
	return value[0] == '/';
}

static void set_text(struct config_parser *p, const struct key_spec *key, char **field,
		     const char *value)
{
	if (!text_ok(key->kind, value)) {
		value_error(p, key, value);
		return;
	}
	free(*field);
	*field = xstrdup(value);
}

void config_schema_group_ref(struct config_parser *p, const char *name)
{
	p->schema->refs =
	    array_append(p->schema->refs, p->schema->ref_count, sizeof(*p->schema->refs));
	p->schema->refs[p->schema->ref_count++] = (struct group_ref){xstrdup(name), p->line};
}

/* One word of a principal list: a user, @group or @all, and CREATOR where rules allow it.
 * An @group is remembered, to be checked once the whole file is read. */
bool config_schema_principal(struct config_parser *p, const char *word, bool creator_ok)
{
	if (word[0] != '@')
		return config_valid_user(word) && (creator_ok || strcmp(word, "CREATOR") != 0);
	if (!config_valid_name(word + 1))
		return false;
	if (strcmp(word + 1, "all") != 0)
		config_schema_group_ref(p, word + 1);
	return true;
}

/* Users and @groups; @all is every user. Each bad word is its own error. Group members may
 * also be repositories, for [repo @group]. */
static bool check_principals(struct config_parser *p, const struct key_spec *key,
			     const struct words *words)
{
	bool ok = true;
	for (size_t i = 0; i < words->count; i++) {
		const char *word = words->items[i];
		if (config_schema_principal(p, word, key->kind == VALUE_RULE))
			continue;
		if (key->kind == VALUE_MEMBERS && config_repo_word_problem(word) == NULL)
			continue;
		config_parser_error(p, p->line, "invalid %s in [%s]: '%s' is not %s", key->name,
				    p->schema->title, word,
				    key->kind == VALUE_MEMBERS
					? "a user name, @group, or repository name or pattern"
					: "a user name or @group");
		ok = false;
	}
	return ok;
}

/* A pattern outside refs/ would never match, and the admin would believe a branch protected. */
static bool check_refs(struct config_parser *p, const struct key_spec *key,
		       const struct words *words)
{
	bool ok = true;
	for (size_t i = 0; i < words->count; i++) {
		const char *word = words->items[i];
		if (strncmp(word, "refs/", 5) != 0 || config_has_control(word)) {
			config_parser_error(
			    p, p->line, "invalid %s in [%s]: '%s' is not a ref pattern (%s)",
			    key->name, p->schema->title, word, "it must start with refs/");
			ok = false;
		}
	}
	return ok;
}

/* git's fsck message ids are camelCase words (badTimezone, missingEmail); each becomes the
 * name of a -c setting, so nothing else may be in one. */
static bool check_fsck_ids(struct config_parser *p, const struct key_spec *key,
			   const struct words *words)
{
	bool ok = true;
	for (size_t i = 0; i < words->count; i++) {
		const char *word = words->items[i];
		bool letters = *word != '\0';
		for (const char *c = word; *c; c++)
			letters = letters && ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z'));
		if (!letters) {
			config_parser_error(p, p->line, "invalid %s in [%s]: '%s' is not %s",
					    key->name, p->schema->title, word,
					    "a git fsck message id such as badTimezone");
			ok = false;
		}
	}
	return ok;
}

static void set_words(struct config_parser *p, const struct key_spec *key, struct words *field,
		      const char *value)
{
	struct words words;
	config_words_split(value, &words);
	bool ok = key->kind == VALUE_REFS	? check_refs(p, key, &words)
		  : key->kind == VALUE_FSCK_IDS ? check_fsck_ids(p, key, &words)
						: check_principals(p, key, &words);
	if (!ok) {
		config_words_free(&words);
		return;
	}
	if (!key->repeats || !field->count) {
		config_words_free(field);
		*field = words;
		return;
	}
	for (size_t i = 0; i < words.count; i++) {
		field->items = array_append(field->items, field->count, sizeof(char *));
		field->items[field->count++] = words.items[i];
	}
	free(words.items);
}

/* The branch gitcage create points HEAD at: a name git would take for a new branch (a
 * subset of git check-ref-format's rules, enough to keep it out of options and paths). */
static bool branch_ok(const char *name)
{
	if (!*name || name[0] == '-' || name[0] == '.' || name[0] == '/' || strstr(name, "..") ||
	    strstr(name, "//") || strstr(name, "@{") || strstr(name, "/.") ||
	    name[strlen(name) - 1] == '/' || name[strlen(name) - 1] == '.')
		return false;
	if (strlen(name) >= 5 && strcmp(name + strlen(name) - 5, ".lock") == 0)
		return false;
	return !config_has_control(name) && !strpbrk(name, " ~^:?*[\\");
}

static void set_number(struct config_parser *p, const struct key_spec *key,
		       unsigned long long *field, const char *value)
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

static void set_value(struct config_parser *p, const struct key_spec *key, void *field,
		      const char *value)
{
	switch (key->kind) {
	case VALUE_PATH:
	case VALUE_AUDIT:
	case VALUE_COMMAND:
		set_text(p, key, field, value);
		break;
	case VALUE_BRANCH:
		if (branch_ok(value))
			set_text(p, key, field, value);
		else
			value_error(p, key, value);
		break;
	case VALUE_PRINCIPALS:
	case VALUE_MEMBERS:
	case VALUE_REFS:
	case VALUE_FSCK_IDS:
		set_words(p, key, field, value);
		break;
	case VALUE_RULE:
		config_repo_shorthand(p, &p->cfg->repos[p->schema->index], key->name, value);
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

static void *section_target(struct config_parser *p)
{
	switch (p->schema->section) {
	case SECTION_SERVER:
		return p->cfg;
	case SECTION_LIMITS:
		return &p->cfg->limits;
	case SECTION_GROUP:
		return &p->cfg->groups[p->schema->index];
	case SECTION_REPO:
		return &p->cfg->repos[p->schema->index];
	default:
		return NULL;
	}
}

void config_schema_key(struct config_parser *p, const char *name, const char *value)
{
	if (p->schema->section == SECTION_NONE) {
		config_parser_error(p, p->line, "key '%s' comes before any [section]", name);
		return;
	}
	if (p->schema->section == SECTION_SKIP)
		return; /* the section's header already has its error */
	const struct section_spec *spec = &section_specs[p->schema->section];
	size_t i = 0;
	while (i < spec->key_count && strcmp(spec->keys[i].name, name) != 0)
		i++;
	if (i == spec->key_count) {
		if (p->schema->section == SECTION_REPO &&
		    config_repo_rule(p, &p->cfg->repos[p->schema->index], name, value))
			return;
		config_parser_error(p, p->line, "unknown key '%s' in [%s]", name, p->schema->title);
		return;
	}
	const struct key_spec *key = &spec->keys[i];
	if (p->schema->seen_line[i] && !key->repeats) {
		config_parser_error(p, p->line, "duplicate key '%s' in [%s] (first set at line %d)",
				    name, p->schema->title, p->schema->seen_line[i]);
		return;
	}
	p->schema->seen_line[i] = p->line;
	char *target = section_target(p);
	set_value(p, key, target + key->offset, value);
	if (key->line_offset != NO_LINE)
		*(int *)(target + key->line_offset) = p->line;
}

static void open_once(struct config_parser *p, enum section_kind kind, int *first_line)
{
	if (*first_line) {
		config_parser_error(p, p->line, "duplicate section [%s] (first at line %d)",
				    p->schema->title, *first_line);
		return;
	}
	*first_line = p->line;
	p->schema->section = kind;
}

static void open_group(struct config_parser *p, const char *name)
{
	struct config *cfg = p->cfg;
	if (!config_valid_name(name) || strcmp(name, "all") == 0) {
		config_parser_error(
		    p, p->line, "invalid group name '%s': %s", name,
		    "use [A-Za-z0-9._-], not starting with '-' or '.'; 'all' is reserved");
		return;
	}
	for (size_t i = 0; i < cfg->group_count; i++) {
		if (strcmp(cfg->groups[i].name, name) == 0) {
			config_parser_error(p, p->line, "duplicate section [%s] (first at line %d)",
					    p->schema->title, cfg->groups[i].line);
			return;
		}
	}
	cfg->groups = array_append(cfg->groups, cfg->group_count, sizeof(*cfg->groups));
	cfg->groups[cfg->group_count] =
	    (struct config_group){.name = xstrdup(name), .line = p->line};
	p->schema->index = cfg->group_count++;
	p->schema->section = SECTION_GROUP;
}

static void open_repo(struct config_parser *p, const char *words)
{
	struct config *cfg = p->cfg;
	cfg->repos = array_append(cfg->repos, cfg->repo_count, sizeof(*cfg->repos));
	struct repo_rule *rule = &cfg->repos[cfg->repo_count];
	*rule = (struct repo_rule){
	    .path = xstrdup(words),
	    .repo_hooks = -1,
	    .deny_rules = -1,
	    .features = {.allow_filter = -1, .push_options = -1, .archive_unreachable = -1},
	    .line = p->line};
	/* A section that names nothing is refused as a whole: its rules would be dead. */
	if (!config_repo_header(p, rule)) {
		config_repo_free(rule);
		return;
	}
	p->schema->index = cfg->repo_count++;
	p->schema->section = SECTION_REPO;
}

void config_schema_header(struct config_parser *p)
{
	p->schema->section = SECTION_SKIP;
	free(p->schema->title);
	p->schema->title = NULL;
	memset(p->schema->seen_line, 0, sizeof(p->schema->seen_line));
}

void config_schema_section(struct config_parser *p, const char *kind, const char *arg)
{
	int rc = *arg ? asprintf(&p->schema->title, "%s %s", kind, arg)
		      : asprintf(&p->schema->title, "%s", kind);
	if (rc < 0)
		die("out of memory");
	if (strcmp(kind, "server") == 0 && !*arg)
		open_once(p, SECTION_SERVER, &p->schema->server_line);
	else if (strcmp(kind, "limits") == 0 && !*arg)
		open_once(p, SECTION_LIMITS, &p->schema->limits_line);
	else if (strcmp(kind, "group") == 0 && *arg)
		open_group(p, arg);
	else if (strcmp(kind, "repo") == 0 && *arg)
		open_repo(p, arg);
	else
		config_parser_error(p, p->line, "unknown section [%s] (expected %s)",
				    p->schema->title,
				    "[server], [limits], [group NAME] or [repo PATH]");
}

const char *config_schema_title(const struct config_parser *p)
{
	return p->schema->title ? p->schema->title : "";
}

void config_schema_start(struct config_parser *p)
{
	p->schema = xcalloc(1, sizeof(*p->schema));
	p->cfg->file = p->name;
}

static bool group_defined(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->group_count; i++)
		if (strcmp(cfg->groups[i].name, name) == 0)
			return true;
	return false;
}

/* A misspelt @group would silently grant nothing, or hide whom a rule was meant for. */
static void check_group_refs(struct config_parser *p)
{
	for (size_t i = 0; i < p->schema->ref_count; i++) {
		if (!group_defined(p->cfg, p->schema->refs[i].name))
			config_parser_error(p, p->schema->refs[i].line,
					    "unknown group '@%s': there is no [group %s]",
					    p->schema->refs[i].name, p->schema->refs[i].name);
	}
}

void config_schema_finish(struct config_parser *p)
{
	check_group_refs(p);
	config_repo_finish(p);
	for (size_t i = 0; i < p->schema->ref_count; i++)
		free(p->schema->refs[i].name);
	free(p->schema->refs);
	free(p->schema->title);
	free(p->schema);
	p->schema = NULL;
}

/* ---- public ---- */

void config_init(struct config *cfg)
{
	*cfg = (struct config){
	    .git = xstrdup("/usr/bin/git"),
	    .audit = xstrdup("syslog"),
	    .hooks = xstrdup(GITCAGE_HOOKS_DIR),
	    .default_branch = xstrdup("main"),
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
	free(cfg->state);
	free(cfg->notify);
	free(cfg->push_cert_seed);
	free(cfg->limits.cgroup);
	free(cfg->default_branch);
	config_words_free(&cfg->protect);
	config_words_free(&cfg->features.fsck_ignore);
	for (size_t i = 0; i < cfg->group_count; i++) {
		free(cfg->groups[i].name);
		config_words_free(&cfg->groups[i].members);
	}
	free(cfg->groups);
	for (size_t i = 0; i < cfg->repo_count; i++)
		config_repo_free(&cfg->repos[i]);
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

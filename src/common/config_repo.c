/* SPDX-License-Identifier: ISC */
/* [repo ...] sections: which repositories a header names, and the access rules inside it,
 * written as gitolite writes them ("RW+ main = alice" is the key "RW+ main" with the value
 * "alice"). Part of the schema (config.c); pure.
 *
 * Everything here keeps gitolite's meaning, so that an imported gitolite.conf decides as it
 * did: ref patterns are regular expressions anchored at the start, with "refs/heads/" put in
 * front unless they start with "refs/"; repository patterns are anchored at both ends. */
#include <fnmatch.h>
#include <limits.h>
#include <regex.h>
#include <stdio.h>
#include <string.h>

#include "common/config.h"
#include "common/config_parse.h"

static const struct {
	const char *text;
	unsigned bits;
} perms[] = {
    {"R", RULE_R},
    {"RW", RULE_R | RULE_W},
    {"RW+", RULE_R | RULE_W | RULE_REWIND},
    {"RWC", RULE_R | RULE_W | RULE_C},
    {"RW+C", RULE_R | RULE_W | RULE_REWIND | RULE_C},
    {"RWD", RULE_R | RULE_W | RULE_D},
    {"RW+D", RULE_R | RULE_W | RULE_REWIND | RULE_D},
    {"RWCD", RULE_R | RULE_W | RULE_C | RULE_D},
    {"RWDC", RULE_R | RULE_W | RULE_C | RULE_D},
    {"RW+CD", RULE_R | RULE_W | RULE_REWIND | RULE_C | RULE_D},
    {"RW+DC", RULE_R | RULE_W | RULE_REWIND | RULE_C | RULE_D},
    {"-", RULE_DENY},
    {"C", RULE_C}, /* who may create a repository matching the section */
};

static int perm_bits(const char *text)
{
	for (size_t i = 0; i < ARRAY_SIZE(perms); i++)
		if (strcmp(perms[i].text, text) == 0)
			return (int)perms[i].bits;
	return -1;
}

/* gitolite's RWM, RW+CDM...: merge checks, which gitcage does not have. Refused rather than
 * read as the same rule without M, which would allow merges the admin meant to refuse. */
static bool is_merge_perm(const char *text)
{
	size_t len = strlen(text);
	return len >= 3 && strncmp(text, "RW", 2) == 0 && text[len - 1] == 'M' &&
	       strspn(text + 2, "+CD") == len - 3;
}

char *config_repo_name(const char *relpath, char *out, size_t size)
{
	size_t len = strlen(relpath);
	if (len > 4 && strcmp(relpath + len - 4, ".git") == 0)
		len -= 4;
	if (len >= size)
		return NULL;
	memcpy(out, relpath, len);
	out[len] = '\0';
	return out;
}

static char *stripped_copy(const char *word)
{
	char name[PATH_MAX];
	if (!config_repo_name(word, name, sizeof(name)))
		die("out of memory");
	return xstrdup(name);
}

/* glibc's regcomp spells repetitions out ("a+" is "aa*", "a{3}" is "aaa"), and nested ones
 * multiply: "a+++++++++++++++++++++++" or "(a{999}){999}" takes gigabytes and seconds. The
 * config is root's, but a typo must not make every call exhaust memory: the pieces a pattern
 * spells out are counted, and a pattern of more than REGEX_MAX_PIECES is refused. */
#define REGEX_MAX_PIECES 65536
#define REGEX_MAX_DEPTH	 64
#define REGEX_TOO_COSTLY "it repeats too much (regcomp would spell out more than 65536 pieces)"

static size_t skip_digits(const char *s, unsigned long long *value)
{
	size_t i = 0;
	for (*value = 0; s[i] >= '0' && s[i] <= '9'; i++)
		if (*value < 1000000)
			*value = *value * 10 + (unsigned)(s[i] - '0');
	return i;
}

/* The length of the interval "{n}", "{n,}", "{,m}" or "{n,m}" at s, with the copies regcomp
 * makes of the piece before it in *copies; 0 when s is no interval. */
static size_t interval(const char *s, unsigned long long *copies)
{
	unsigned long long n, m;
	size_t i = 1 + skip_digits(s + 1, &n), digits = i - 1;
	m = n;
	if (s[i] == ',') {
		size_t more = skip_digits(s + i + 1, &m);
		m = more ? m : n + 1; /* {n,}: n copies, then a star */
		digits += more;
		i += 1 + more;
	}
	if (s[i] != '}' || digits == 0)
		return 0;
	*copies = m > 1 ? m : 1;
	return i + 1;
}

/* Past the bracket expression at s: "[]a]", "[^]a]" and "[[:alpha:]]" as POSIX reads them. */
static const char *skip_bracket(const char *s)
{
	s += 1 + (s[1] == '^');
	s += *s == ']';
	while (*s && *s != ']') {
		if (s[0] == '[' && (s[1] == ':' || s[1] == '.' || s[1] == '=')) {
			const char close[] = {s[1], ']', '\0'};
			const char *end = strstr(s + 2, close);
			s = end ? end + 2 : s + strlen(s);
		} else {
			s++;
		}
	}
	return *s ? s + 1 : s;
}

static bool regex_too_costly(const char *re)
{
	/* Per nesting level: the pieces so far, and those of the last atom or group. */
	unsigned long long total[REGEX_MAX_DEPTH] = {0}, last[REGEX_MAX_DEPTH] = {0}, copies;
	int depth = 0;
	for (const char *p = re; *p;) {
		size_t len = *p == '{' ? interval(p, &copies) : 0;
		if (*p == '*' || *p == '+' || *p == '?' || len) {
			copies = *p == '+' ? 2 : len ? copies : 1;
			p += len ? len : 1;
			total[depth] += last[depth] * (copies - 1);
			last[depth] *= copies;
		} else if (*p == '(') {
			if (++depth == REGEX_MAX_DEPTH)
				return true;
			total[depth] = last[depth] = 0;
			p++;
		} else if (*p == ')' && depth > 0) {
			unsigned long long group = total[depth--] + 1;
			total[depth] += group;
			last[depth] = group;
			p++;
		} else {
			last[depth] = *p != '|';
			total[depth] += last[depth];
			p = *p == '[' ? skip_bracket(p) : p + (p[0] == '\\' && p[1] ? 2 : 1);
		}
		if (total[depth] > REGEX_MAX_PIECES)
			return true;
	}
	return false;
}

/* "^" + re + "$", as gitolite matches a repository pattern (/^$pattern$/). */
static int compile_anchored(regex_t *regex, const char *re, const char *end)
{
	char *anchored;
	if (asprintf(&anchored, "^%s%s", re, end) < 0)
		die("out of memory");
	int rc = regcomp(regex, anchored, REG_EXTENDED | REG_NOSUB);
	free(anchored);
	return rc;
}

const char *config_repo_word_problem(const char *word)
{
	if (word[0] == '@')
		return config_valid_name(word + 1) ? NULL : "it is not a valid @group name";
	if (word[0] != '~')
		return config_repo_path_problem(word);
	if (word[1] == '\0')
		return "the pattern after '~' is empty";
	if (config_has_control(word))
		return "it must not contain control characters";
	if (regex_too_costly(word + 1))
		return REGEX_TOO_COSTLY;
	regex_t regex;
	if (compile_anchored(&regex, word + 1, "$") != 0)
		return "it is not a valid extended regular expression";
	regfree(&regex);
	return NULL;
}

/* Appends one checked word to rule->words. */
static void add_word(struct repo_rule *rule, const char *word)
{
	struct repo_word parsed = {0};
	if (strcmp(word, "@all") == 0) {
		parsed = (struct repo_word){.kind = REPO_WORD_ALL, .text = xstrdup("@all")};
	} else if (word[0] == '@') {
		parsed = (struct repo_word){.kind = REPO_WORD_GROUP, .text = xstrdup(word + 1)};
	} else if (word[0] == '~') {
		parsed = (struct repo_word){.kind = REPO_WORD_REGEX, .text = xstrdup(word + 1)};
		if (compile_anchored(&parsed.regex, parsed.text, "$") != 0)
			die("a checked pattern failed to compile"); /* fail closed */
	} else {
		bool glob = strpbrk(word, "*?[") != NULL;
		parsed = (struct repo_word){.kind = glob ? REPO_WORD_GLOB : REPO_WORD_NAME,
					    .text = stripped_copy(word)};
	}
	rule->words = array_append(rule->words, rule->word_count, sizeof(*rule->words));
	rule->words[rule->word_count++] = parsed;
}

bool config_repo_header(struct config_parser *p, struct repo_rule *rule)
{
	struct words words;
	bool ok = true;
	config_words_split(rule->path, &words);
	for (size_t i = 0; i < words.count; i++) {
		const char *problem = config_repo_word_problem(words.items[i]);
		if (problem) {
			config_parser_error(p, p->line, "invalid repository path '%s': %s",
					    words.items[i], problem);
			ok = false;
		} else {
			if (words.items[i][0] == '@' && strcmp(words.items[i], "@all") != 0)
				config_schema_group_ref(p, words.items[i] + 1);
			add_word(rule, words.items[i]);
		}
	}
	config_words_free(&words);
	return ok && rule->word_count > 0;
}

/* ---- rules ---- */

static void free_rule(struct access_rule *rule)
{
	for (size_t i = 0; i < rule->ref_count; i++) {
		if (rule->refs[i].compiled)
			regfree(&rule->refs[i].regex);
		free(rule->refs[i].text);
	}
	free(rule->refs);
	free(rule->perm);
	free(rule->text);
	config_words_free(&rule->who);
}

/* Qualify and compile one ref pattern. Returns NULL, or why it is refused. */
static const char *add_ref(struct access_rule *rule, const char *ref)
{
	if (strncmp(ref, "VREF/", 5) == 0 || strncmp(ref, "NAME/", 5) == 0)
		return "VREF rules are not supported";
	if (config_has_control(ref))
		return "it contains a control character";
	struct rule_ref out = {0};
	if (asprintf(&out.text, "%s%s", strncmp(ref, "refs/", 5) == 0 ? "" : "refs/heads/", ref) <
	    0)
		die("out of memory");
	/* A pattern with /USER/ is compiled per check, with the user's name in it. */
	char *probe = xstrdup(out.text);
	char *user = strstr(probe, "/USER/");
	if (user)
		memcpy(user, "/u/u/u", 6); /* same length: any name is a valid regex piece */
	regex_t regex;
	int rc = regex_too_costly(probe) ? -1 : compile_anchored(&regex, probe, "");
	free(probe);
	if (rc == -1) {
		free(out.text);
		return REGEX_TOO_COSTLY;
	}
	if (rc != 0) {
		free(out.text);
		return "it is not a valid extended regular expression";
	}
	if (user)
		regfree(&regex);
	else
		out.regex = regex, out.compiled = true;
	rule->refs = array_append(rule->refs, rule->ref_count, sizeof(*rule->refs));
	rule->refs[rule->ref_count++] = out;
	return NULL;
}

static bool add_refs(struct config_parser *p, struct access_rule *rule, const struct words *refs,
		     size_t first)
{
	for (size_t i = first; i < refs->count; i++) {
		const char *problem = add_ref(rule, refs->items[i]);
		if (problem) {
			config_parser_error(p, p->line, "invalid ref pattern '%s' in [%s]: %s",
					    refs->items[i], config_schema_title(p), problem);
			return false;
		}
	}
	return refs->count > first || add_ref(rule, "refs/.*") == NULL;
}

static bool add_who(struct config_parser *p, struct access_rule *rule, const char *what,
		    const char *value)
{
	config_words_split(value, &rule->who);
	if (rule->who.count == 0) {
		config_parser_error(p, p->line, "%s in [%s] names nobody", what,
				    config_schema_title(p));
		return false;
	}
	bool ok = true;
	for (size_t i = 0; i < rule->who.count; i++) {
		if (!config_schema_principal(p, rule->who.items[i], true)) {
			config_parser_error(p, p->line,
					    "invalid %s in [%s]: '%s' is not a user name or @group",
					    what, config_schema_title(p), rule->who.items[i]);
			ok = false;
		}
	}
	return ok;
}

/* key: the key as written ("RW+ main"), its words in words (perm first); what: how errors
 * name the rule ("read", "rule 'RW+ main'"). */
static void add_rule(struct config_parser *p, struct repo_rule *section, const char *perm,
		     const struct words *words, const char *key, const char *value,
		     const char *what)
{
	struct access_rule rule = {
	    .perm = xstrdup(perm), .bits = (unsigned)perm_bits(perm), .line = p->line};
	bool ok = true;
	if (words->count > 1 && (rule.bits == RULE_R || rule.bits == RULE_C)) {
		config_parser_error(p, p->line, "%s in [%s] takes no ref pattern: %s", what,
				    config_schema_title(p),
				    rule.bits == RULE_R ? "reads cannot be limited to some refs"
							: "it is about creating repositories");
		ok = false;
	}
	ok = ok && add_refs(p, &rule, words, 1) && add_who(p, &rule, what, value);
	if (!ok) {
		free_rule(&rule);
		return;
	}
	if (asprintf(&rule.text, "%s = %s", key, value) < 0)
		die("out of memory");
	section->rules = array_append(section->rules, section->rule_count, sizeof(*section->rules));
	section->rules[section->rule_count++] = rule;
}

bool config_repo_rule(struct config_parser *p, struct repo_rule *rule, const char *key,
		      const char *value)
{
	struct words words;
	config_words_split(key, &words);
	if (words.count == 0) {
		config_words_free(&words);
		return false;
	}
	const char *perm = words.items[0];
	bool known = perm_bits(perm) >= 0, merge = is_merge_perm(perm);
	if (known) {
		char *what;
		if (asprintf(&what, "rule '%s'", key) < 0)
			die("out of memory");
		add_rule(p, rule, perm, &words, key, value, what);
		free(what);
	} else if (merge) {
		config_parser_error(p, p->line,
				    "unsupported rule '%s' in [%s]: M (merge checks) is not "
				    "supported",
				    key, config_schema_title(p));
	}
	config_words_free(&words);
	return known || merge;
}

void config_repo_shorthand(struct config_parser *p, struct repo_rule *rule, const char *key,
			   const char *value)
{
	const char *perm = strcmp(key, "read") == 0 ? "R" : "RW+";
	struct words words = {.items = (char *[]){(char *)perm}, .count = 1};
	add_rule(p, rule, perm, &words, key, value, key);
}

/* ---- [repo @group] ---- */

static const struct config_group *find_group(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->group_count; i++)
		if (strcmp(cfg->groups[i].name, name) == 0)
			return &cfg->groups[i];
	return NULL;
}

/* The repositories a group names: its members, and its @groups' members, each group once. */
static void expand_group(const struct config *cfg, struct repo_rule *rule, const char *name)
{
	size_t count = cfg->group_count, head = 0, tail = 0;
	const struct config_group **queue = xcalloc(count + 1, sizeof(*queue));
	const struct config_group *start = find_group(cfg, name);
	if (start)
		queue[tail++] = start;
	while (head < tail) {
		const struct words *members = &queue[head++]->members;
		for (size_t i = 0; i < members->count; i++) {
			const char *word = members->items[i];
			const struct config_group *nested =
			    word[0] == '@' && strcmp(word, "@all") != 0 ? find_group(cfg, word + 1)
									: NULL;
			bool seen = false;
			for (size_t j = 0; nested && j < tail; j++)
				seen = seen || queue[j] == nested;
			if (nested && !seen && tail < count)
				queue[tail++] = nested;
			else if ((word[0] != '@' || strcmp(word, "@all") == 0) &&
				 !config_repo_word_problem(word))
				add_word(rule, word);
		}
	}
	free(queue);
}

static void free_word(struct repo_word *word)
{
	if (word->kind == REPO_WORD_REGEX)
		regfree(&word->regex);
	free(word->text);
}

void config_repo_finish(struct config_parser *p)
{
	for (size_t i = 0; i < p->cfg->repo_count; i++) {
		struct repo_rule *rule = &p->cfg->repos[i];
		size_t count = rule->word_count;
		for (size_t j = 0; j < count; j++)
			if (rule->words[j].kind == REPO_WORD_GROUP)
				expand_group(p->cfg, rule, rule->words[j].text);
		/* Drop the group words; their members were appended. */
		size_t kept = 0;
		for (size_t j = 0; j < rule->word_count; j++) {
			if (rule->words[j].kind == REPO_WORD_GROUP)
				free_word(&rule->words[j]);
			else
				rule->words[kept++] = rule->words[j];
		}
		rule->word_count = kept;
	}
}

void config_repo_free(struct repo_rule *rule)
{
	for (size_t i = 0; i < rule->word_count; i++)
		free_word(&rule->words[i]);
	free(rule->words);
	for (size_t i = 0; i < rule->rule_count; i++)
		free_rule(&rule->rules[i]);
	free(rule->rules);
	free(rule->path);
	free(rule->notify);
	config_words_free(&rule->protect);
	config_words_free(&rule->features.fsck_ignore);
	*rule = (struct repo_rule){0};
}

/* ---- matching ---- */

/* Perl's \w, for gitolite's \bCREATOR\b. */
static bool word_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_';
}

static bool boundary(const char *text, size_t len, size_t pos)
{
	bool before = pos > 0 && word_char(text[pos - 1]);
	bool after = pos < len && word_char(text[pos]);
	return before != after;
}

/* name with its first whole-word occurrence of creator replaced by "CREATOR", as gitolite
 * finds the pattern a wild repository was created under ("u/alice/x" -> "u/CREATOR/x"). */
static bool creator_form(const char *name, const char *creator, char *out, size_t size)
{
	size_t len = strlen(name), clen = strlen(creator);
	for (size_t i = 0; clen && i + clen <= len; i++) {
		if (strncmp(name + i, creator, clen) != 0 || !boundary(name, len, i) ||
		    !boundary(name, len, i + clen))
			continue;
		return snprintf(out, size, "%.*sCREATOR%s", (int)i, name, name + i + clen) <
		       (int)size;
	}
	return false;
}

static bool word_matches(const struct repo_word *word, const char *name)
{
	switch (word->kind) {
	case REPO_WORD_NAME:
		return strcmp(word->text, name) == 0;
	case REPO_WORD_GLOB:
		/* FNM_PATHNAME: a "*" must not reach into subdirectories. */
		return strcmp(word->text, name) == 0 ||
		       fnmatch(word->text, name, FNM_PATHNAME) == 0;
	case REPO_WORD_REGEX:
		return strcmp(word->text, name) == 0 ||
		       regexec(&word->regex, name, 0, NULL, 0) == 0;
	case REPO_WORD_ALL:
		return true;
	default:
		return false;
	}
}

bool config_repo_matches(const struct config *cfg, const struct repo_rule *rule,
			 const char *relpath, const char *creator)
{
	char name[PATH_MAX], alt[PATH_MAX];
	(void)cfg;
	if (!rule || !relpath || !config_repo_name(relpath, name, sizeof(name)) || !*name)
		return false;
	bool has_alt = creator && creator_form(name, creator, alt, sizeof(alt));
	for (size_t i = 0; i < rule->word_count; i++)
		if (word_matches(&rule->words[i], name) ||
		    (has_alt && word_matches(&rule->words[i], alt)))
			return true;
	return false;
}

static bool names_exactly(const struct repo_rule *rule, const char *name)
{
	for (size_t i = 0; i < rule->word_count; i++)
		if (rule->words[i].kind == REPO_WORD_NAME && strcmp(rule->words[i].text, name) == 0)
			return true;
	return false;
}

const struct repo_rule *config_find_repo(const struct config *cfg, const char *relpath)
{
	char name[PATH_MAX];
	if (!cfg || !relpath || !config_repo_name(relpath, name, sizeof(name)) || !*name)
		return NULL;
	for (size_t i = 0; i < cfg->repo_count; i++)
		if (names_exactly(&cfg->repos[i], name))
			return &cfg->repos[i];
	for (size_t i = 0; i < cfg->repo_count; i++)
		if (config_repo_matches(cfg, &cfg->repos[i], name, NULL))
			return &cfg->repos[i];
	return NULL;
}

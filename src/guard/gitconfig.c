/* SPDX-License-Identifier: ISC */
/* git's config grammar, as git's config.c (git_parse_source, get_base_var, get_value,
 * parse_value) reads it, with git's own ASCII character classes. */
#include "guard/gitconfig.h"

#include <stdlib.h>
#include <string.h>

struct parser {
	const unsigned char *p, *end;
	int eof, line;
	char *name; /* "section.subsection.key" being built */
	size_t name_len, base_len;
	char *value;
	size_t value_len;
};

static int is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_key_char(int c)
{
	return is_alpha(c) || (c >= '0' && c <= '9') || c == '-';
}

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 'a' - 'A' : c;
}

/* "\r\n" reads as "\n"; the end reads as one last "\n". */
static int next_char(struct parser *ps)
{
	if (ps->p >= ps->end) {
		ps->eof = 1;
		return '\n';
	}
	int c = *ps->p++;
	if (c == '\r' && ps->p < ps->end && *ps->p == '\n')
		c = *ps->p++;
	if (c == '\n')
		ps->line++;
	return c;
}

static void add_name(struct parser *ps, int c)
{
	ps->name[ps->name_len++] = (char)c;
}

/* [section "subsection"]: the subsection keeps its case; \x stands for x. */
static int extended_base(struct parser *ps, int c)
{
	while (is_space(c)) {
		if (c == '\n')
			return -1;
		c = next_char(ps);
	}
	if (c != '"')
		return -1;
	add_name(ps, '.');
	for (;;) {
		c = next_char(ps);
		if (c == '\n')
			return -1;
		if (c == '"')
			break;
		if (c == '\\' && (c = next_char(ps)) == '\n')
			return -1;
		add_name(ps, c);
	}
	return next_char(ps) == ']' ? 0 : -1;
}

static int base(struct parser *ps)
{
	ps->name_len = 0;
	for (;;) {
		int c = next_char(ps);
		if (ps->eof)
			return -1;
		if (c == ']')
			return ps->name_len ? 0 : -1;
		if (is_space(c))
			return extended_base(ps, c);
		if (!is_key_char(c) && c != '.')
			return -1;
		add_name(ps, lower(c));
	}
}

static int add_escaped(struct parser *ps)
{
	int c = next_char(ps);
	switch (c) {
	case '\n':
		return 0; /* a continued line */
	case 't':
		c = '\t';
		break;
	case 'b':
		c = '\b';
		break;
	case 'n':
		c = '\n';
		break;
	case '\\':
	case '"':
		break;
	default:
		return -1; /* git refuses unknown escapes */
	}
	ps->value[ps->value_len++] = (char)c;
	return 0;
}

static int value(struct parser *ps)
{
	int quote = 0, comment = 0, spaces = 0;
	ps->value_len = 0;
	for (;;) {
		int c = next_char(ps);
		if (c == '\n')
			return quote ? -1 : 0;
		if (comment)
			continue;
		if (is_space(c) && !quote) {
			spaces += ps->value_len > 0;
			continue;
		}
		if (!quote && (c == ';' || c == '#')) {
			comment = 1;
			continue;
		}
		for (; spaces; spaces--)
			ps->value[ps->value_len++] = ' ';
		if (c == '\\') {
			if (add_escaped(ps) != 0)
				return -1;
		} else if (c == '"') {
			quote = !quote;
		} else {
			ps->value[ps->value_len++] = (char)c;
		}
	}
}

/* Split "section.sub.key" at the first and the last dot, and report it. */
static int report(struct parser *ps, int line, const char *value_text, gitconfig_fn fn,
		  void *payload)
{
	if (ps->base_len == 0) /* before any section: git reads it as a key of no section */
		return fn("", NULL, ps->name, value_text, line, payload);
	char *first = memchr(ps->name, '.', ps->base_len);
	char *last = ps->name + ps->base_len - 1;
	if (!first)
		return -1;
	*first = '\0';
	*last = '\0';
	const char *subsection = first < last ? first + 1 : NULL;
	int rc = fn(ps->name, subsection, last + 1, value_text, line, payload);
	*first = '.';
	*last = '.';
	return rc;
}

static int key(struct parser *ps, int c, gitconfig_fn fn, void *payload, int *stop)
{
	int line = ps->line;
	ps->name_len = ps->base_len;
	add_name(ps, lower(c));
	for (;;) {
		c = next_char(ps);
		if (ps->eof || !is_key_char(c))
			break;
		add_name(ps, lower(c));
	}
	while (c == ' ' || c == '\t')
		c = next_char(ps);
	int has_value = c != '\n';
	if (has_value && (c != '=' || value(ps) != 0))
		return -1;
	ps->name[ps->name_len] = '\0';
	ps->value[ps->value_len] = '\0';
	*stop = report(ps, line, has_value ? ps->value : NULL, fn, payload);
	return *stop < 0 ? -1 : 0;
}

static int parse(struct parser *ps, gitconfig_fn fn, void *payload)
{
	int comment = 0, stop = 0;
	static const unsigned char bom[] = {0xef, 0xbb, 0xbf};
	if (ps->end - ps->p >= 3 && memcmp(ps->p, bom, 3) == 0)
		ps->p += 3;
	for (;;) {
		int c = next_char(ps);
		if (c == '\n') {
			if (ps->eof)
				return 0;
			comment = 0;
		} else if (comment || is_space(c)) {
			continue;
		} else if (c == '#' || c == ';') {
			comment = 1;
		} else if (c == '[') {
			if (base(ps) != 0)
				return -1;
			add_name(ps, '.');
			ps->base_len = ps->name_len;
		} else if (!is_alpha(c) || key(ps, c, fn, payload, &stop) != 0) {
			return stop > 0 ? stop : -1;
		} else if (stop) {
			return stop;
		}
	}
}

int gitconfig_parse(const char *text, size_t len, gitconfig_fn fn, void *payload, struct error *err)
{
	struct parser ps = {(const unsigned char *)text, (const unsigned char *)text + len, 0, 1};
	/* Nothing read can be longer than the text; +2 for a dot and a NUL. */
	ps.name = xcalloc(len + 2, 1);
	ps.value = xcalloc(len + 2, 1);
	int rc = parse(&ps, fn, payload);
	if (rc < 0)
		error_set(err, "line %d: git cannot parse this config", ps.line);
	free(ps.name);
	free(ps.value);
	return rc;
}

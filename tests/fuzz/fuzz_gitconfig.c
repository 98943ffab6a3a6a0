/* SPDX-License-Identifier: ISC */
/* libFuzzer target for gitconfig_parse (src/guard/gitconfig.c): a pushed repository's config is
 * hostile, and the offline verifier reads it with this parser, not with git. Each variable
 * reported keeps the promises of gitconfig.h (a lowercase section and key of git's characters,
 * a subsection without a newline, lines in order); a refusal says which line; a callback's stop
 * value comes back as it was; and the variables, written again in git's canonical form, parse
 * to exactly the same variables. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guard/gitconfig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "invariant broken: %s\n", what);
		abort();
	}
}

struct variable {
	char *section, *subsection, *key, *value; /* subsection and value may be NULL */
};

struct seen {
	struct variable *items;
	size_t count, cap;
	int last_line, max_line;
	int sectioned;	/* a variable of a section was reported */
	size_t stop_at; /* stop (return 7) at this variable, counting from 1; 0: never */
};

static char *copy(const char *s)
{
	return s ? strdup(s) : NULL;
}

static int same_text(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static int only(const char *s, int (*ok)(int))
{
	for (; *s; s++)
		if (!ok((unsigned char)*s))
			return 0;
	return 1;
}

static int key_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

static int on_variable(const char *section, const char *subsection, const char *key,
		       const char *value, int line, void *payload)
{
	struct seen *seen = payload;
	check(only(section, key_char), "a section of other characters");
	check(key[0] >= 'a' && key[0] <= 'z' && only(key, key_char), "a key of other characters");
	check(!subsection || !strchr(subsection, '\n'), "a newline in a subsection");
	/* A key of no section comes before the first header, never after: within a section
	 * there is a name ("" only in [.x] or [ "x"], which have a subsection). */
	int sectioned = section[0] || subsection;
	check(sectioned || !seen->sectioned, "a key of no section after a section");
	seen->sectioned |= sectioned;
	check(line >= seen->last_line && line >= 1 && line <= seen->max_line, "a line number");
	seen->last_line = line;
	if (seen->count == seen->cap) {
		seen->cap = seen->cap ? 2 * seen->cap : 16;
		seen->items = realloc(seen->items, seen->cap * sizeof(*seen->items));
	}
	seen->items[seen->count++] =
	    (struct variable){copy(section), copy(subsection), copy(key), copy(value)};
	return seen->count == seen->stop_at ? 7 : 0;
}

static void seen_free(struct seen *seen)
{
	for (size_t i = 0; i < seen->count; i++) {
		free(seen->items[i].section);
		free(seen->items[i].subsection);
		free(seen->items[i].key);
		free(seen->items[i].value);
	}
	free(seen->items);
}

static int parse(const char *text, size_t len, struct seen *seen, struct error *err)
{
	seen->max_line = 1;
	for (size_t i = 0; i < len; i++)
		seen->max_line += text[i] == '\n';
	return gitconfig_parse(text, len, on_variable, seen, err);
}

/* A subsection as git reads it back: \x stands for x, so only " and \ are escaped. */
static void put_subsection(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

/* A value in quotes as git reads it back: ", \, and the escapes git knows. */
static void put_quoted(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		switch (*s) {
		case '"':
		case '\\':
			fprintf(out, "\\%c", *s);
			break;
		case '\n':
			fputs("\\n", out);
			break;
		case '\t':
			fputs("\\t", out);
			break;
		case '\b':
			fputs("\\b", out);
			break;
		default:
			fputc(*s, out);
		}
	}
	fputc('"', out);
}

/* The variables as git's canonical form: [section "subsection"] headers, key = "value". Keys
 * of no section (before any header) can only come first, as they did. */
static char *canonical(const struct seen *seen, size_t *len)
{
	char *text = NULL;
	FILE *out = open_memstream(&text, len);
	for (size_t i = 0; i < seen->count; i++) {
		const struct variable *v = &seen->items[i];
		int in_section = v->section[0] || v->subsection;
		if (in_section && v->subsection) {
			fprintf(out, "[%s ", v->section);
			put_subsection(out, v->subsection);
			fputs("]\n", out);
		} else if (in_section) {
			fprintf(out, "[%s]\n", v->section);
		}
		fprintf(out, "\t%s", v->key);
		if (v->value) {
			fputs(" = ", out);
			put_quoted(out, v->value);
		}
		fputc('\n', out);
	}
	fclose(out);
	return text;
}

static void check_same(const struct seen *a, const struct seen *b)
{
	check(a->count == b->count, "the canonical form has another number of variables");
	for (size_t i = 0; i < a->count; i++) {
		const struct variable *x = &a->items[i], *y = &b->items[i];
		check(same_text(x->section, y->section) &&
			  same_text(x->subsection, y->subsection) && same_text(x->key, y->key) &&
			  same_text(x->value, y->value),
		      "the canonical form reads as another variable");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct seen seen = {0}, again = {0}, stopped = {0};
	struct error err = {.message = ""};
	int rc = parse(text, size, &seen, &err);
	check(rc == 0 || rc == -1, "a result other than 0 or -1");
	if (rc < 0)
		check(strncmp(err.message, "line ", 5) == 0, "a refusal that names no line");
	size_t len;
	char *text_again = canonical(&seen, &len);
	struct error err_again;
	check(parse(text_again, len, &again, &err_again) == 0, "the canonical form is refused");
	check_same(&seen, &again);
	if (seen.count) {
		stopped.stop_at = seen.count / 2 + 1;
		check(parse(text, size, &stopped, &err) == 7, "the stop value did not come back");
		check(stopped.count == stopped.stop_at, "variables reported after the stop");
	}
	free(text_again);
	seen_free(&seen);
	seen_free(&again);
	seen_free(&stopped);
	return 0;
}

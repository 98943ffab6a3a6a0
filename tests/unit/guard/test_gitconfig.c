/* SPDX-License-Identifier: ISC */
/* Unit tests for src/guard/gitconfig.c: `gitcage verify` must see every variable git would see
 * (a parser that misses one is a blind spot), and refuse what git refuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "guard/gitconfig.h"

/* Every variable as "section|subsection|key|value" lines ("-" for NULL). */
static int collect(const char *section, const char *subsection, const char *key, const char *value,
		   int line, void *payload)
{
	char *out = payload;
	size_t len = strlen(out);
	(void)line;
	snprintf(out + len, 4096 - len, "%s|%s|%s|%s\n", section, subsection ? subsection : "-",
		 key, value ? value : "-");
	return 0;
}

static int parse(const char *text, char *out)
{
	struct error err;
	out[0] = '\0';
	return gitconfig_parse(text, strlen(text), collect, out, &err);
}

static void expect(const char *text, const char *variables)
{
	char out[4096];
	assert_int_equal(parse(text, out), 0);
	assert_string_equal(out, variables);
}

static void expect_refused(const char *text)
{
	char out[4096];
	assert_int_equal(parse(text, out), -1);
}

static void sections_and_keys(void **state)
{
	(void)state;
	expect("[core]\n\thooksPath = /tmp\n", "core|-|hookspath|/tmp\n");
	expect("[CORE]\nHooksPath=/tmp", "core|-|hookspath|/tmp\n");
	/* a variable on the header's line: easy to miss, git reads it */
	expect("[core]hooksPath=/x\n", "core|-|hookspath|/x\n");
	expect("[core] fsmonitor\n", "core|-|fsmonitor|-\n");
	expect("[filter \"Lfs\"]\n\tclean = x\n", "filter|Lfs|clean|x\n");
	/* the old form lowercases the subsection, as git does */
	expect("[filter.Lfs]\n\tclean = x\n", "filter|lfs|clean|x\n");
	expect("[includeIf \"gitdir:/a\\\"b/\"]\npath = y\n", "includeif|gitdir:/a\"b/|path|y\n");
	expect("[tar \"tgz\"] command = gzip\n", "tar|tgz|command|gzip\n");
}

static void values(void **state)
{
	(void)state;
	expect("[a]\nb = \"x ; y\" ; comment\n", "a|-|b|x ; y\n");
	expect("[a]\nb = x # comment\n", "a|-|b|x\n");
	expect("[a]\nb = one \\\n two\n", "a|-|b|one  two\n");
	expect("[a]\nb = \"tab\\there\"\n", "a|-|b|tab\there\n");
	expect("[a]\r\nb = crlf\r\n", "a|-|b|crlf\n");
	expect("\xef\xbb\xbf[a]\nb = bom\n", "a|-|b|bom\n");
	expect("# only a comment\n; and another\n\n", "");
	expect("key = before any section\n", "|-|key|before any section\n");
	expect("[a]\nb = 1\n[c \"d\"]\ne = 2\n[a]\nf = 3\n", "a|-|b|1\nc|d|e|2\na|-|f|3\n");
}

static void refusals(void **state)
{
	(void)state;
	expect_refused("[core\nhooksPath = x\n");
	expect_refused("[core \"sub]\nx = y\n");
	expect_refused("[core]\nx = \"unterminated\n");
	expect_refused("[core]\nx = bad \\q escape\n");
	expect_refused("[core]\nx # no equals sign\n");
	expect_refused("[core]\n1x = digit first\n");
	expect_refused("[]\nx = y\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(sections_and_keys),
	    cmocka_unit_test(values),
	    cmocka_unit_test(refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: ISC */
/* Unit tests for src/gitcage/request.c: what a hostile SSH_ORIGINAL_COMMAND must not get through,
 * and what real git clients send that must keep working. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gitcage/request.h"
#include "sandbox/hygiene.h"

/* Each of these must be refused. The comment names what a caller that accepted it would do. */
static const char *const hostile[] = {
    NULL,
    "",
    /* options in disguise: git would read them as flags */
    "git-upload-pack '--help'",
    "git-upload-pack '-x'",
    "git-upload-pack '-'",
    "git-upload-pack '--upload-pack=touch /tmp/pwned'",
    "git-upload-pack '/-x'",
    "git-upload-pack 'a/-b'",
    "git-upload-pack 'a/-'",
    "git-upload-pack --upload-pack=id 'demo.git'",
    "git-upload-pack -- 'demo.git'",
    /* shell syntax after the argument */
    "git-upload-pack 'demo.git';id",
    "git-upload-pack 'demo.git' ;id",
    "git-upload-pack 'demo.git'&&id",
    "git-upload-pack 'demo.git'|id",
    "git-upload-pack 'demo.git'>x",
    "git-upload-pack 'demo.git'#",
    "git-upload-pack 'demo.git'$(id)",
    "git-upload-pack 'demo.git'`id`",
    "git-upload-pack $(id)",
    "git-upload-pack `id`",
    "git-upload-archive 'demo.git';",
    "git-upload-archive 'demo.git';rm -rf ~",
    /* control characters: log forging, a second command after a newline, terminal escapes */
    "git-upload-pack 'demo\n.git'",
    "git-upload-pack 'demo.git'\n",
    "git-upload-pack 'demo.git'\nid",
    "git-upload-pack 'demo\t.git'",
    "git-upload-pack\t'demo.git'",
    "git-upload-pack 'demo.git\r'",
    "git-upload-pack 'demo.git'\r",
    "git-upload-pack 'demo\x01.git'",
    "git-upload-pack 'demo\x7f.git'",
    "git-receive-pack 'demo.git'\x7f",
    "git-upload-pack '\x1b[31mdemo.git'",
    /* escaping the repositories root */
    "git-upload-pack 'x/../demo.git'",
    "git-upload-pack '..'",
    "git-upload-pack '../demo.git'",
    "git-upload-pack 'a/..'",
    "git-upload-pack '/..'",
    "git-upload-pack '../../../../etc/passwd'",
    "git-upload-pack './demo.git'",
    "git-upload-pack 'a/./demo.git'",
    "git-upload-pack 'a/.'",
    "git-upload-pack '~/demo.git'",
    "git-upload-pack '~user/x'",
    "git-upload-pack 'a/~/b'",
    "git-upload-pack 'demo.git~'",
    /* empty components and hidden names */
    "git-upload-pack 'a//b'",
    "git-upload-pack '//demo.git'",
    "git-upload-pack 'demo.git//'",
    "git-upload-pack '/'",
    "git-upload-pack '//'",
    "git-upload-pack 'a/.git'",
    "git-upload-pack '.hidden.git'",
    "git-upload-pack '.ssh/authorized_keys'",
    /* not one single-quoted argument */
    "git-upload-pack 'demo.git' 'x'",
    "git-upload-pack \"demo.git\"",
    "git-upload-pack demo.git",
    "git-upload-pack ''",
    "git-upload-pack",
    "git-upload-pack ",
    "git upload-archive",
    "git-upload-pack  'demo.git'",
    " git-upload-pack 'demo.git'",
    "git-upload-pack 'demo.git' ",
    "git-upload-pack 'demo.git",
    "git-upload-pack '",
    "git-upload-pack 'demo'\\''.git",
    "git-upload-pack 'demo.git'''",
    "git-upload-pack \\''demo.git'",
    "git-upload-pack 'demo.git' --",
    /* backslash escapes other than '\'' and '\!' */
    "git-upload-pack 'demo'\\x'.git'",
    "git-upload-pack 'demo'\\\\'.git'",
    "git-upload-pack 'demo'\\n'.git'",
    "git-upload-pack 'demo'\\'",
    "git-upload-pack 'demo'\\'x.git'",
    "git-upload-pack 'demo'\\!x.git'",
    "git-upload-pack 'demo'x!'.git'",
    "git-upload-pack 'a';''b'",
    "git-upload-pack 'demo'\\!",
    "git-upload-pack 'demo'\\",
    /* other verbs, and near misses of the three we serve */
    "git-upload-packx 'a'",
    "git-upload-pac 'a'",
    "git config foo.bar baz",
    "git-upload pack 'demo.git'",
    "git upload pack 'demo.git'",
    "gitupload-pack 'demo.git'",
    "git  upload-pack 'demo.git'",
    "git_upload-pack 'demo.git'",
    "GIT-UPLOAD-PACK 'demo.git'",
    "git-Upload-pack 'demo.git'",
    "git receive-pack 'demo.git'x",
    "git receive-pack 'demo.git' extra",
    "git-shell -c 'git-upload-pack demo.git'",
    "sh -c 'id'",
    "/usr/bin/git-upload-pack 'demo.git'",
    "git 'upload-pack' 'demo.git'",
    /* gitcage's own commands: exact words, one plain name for create */
    "info ",
    " info",
    "info -lc",
    "info .",
    "INFO",
    "infox",
    "help me",
    "help\n",
    "create",
    "create ",
    "create  foo",
    "create foo bar",
    "create 'foo'",
    "create \"foo\"",
    "create foo;id",
    "create foo$(id)",
    "create foo`id`",
    "create ../x",
    "create x/../../y",
    "create x/./y",
    "create /x",
    "create x//y",
    "create x/",
    "create -x",
    "create x/-y",
    "create .x",
    "create x/.ssh",
    "create ~x",
    "create x~",
    "create x\ty",
    "create x\ny",
    "create x\x7f",
    "create x\x1b[31m",
    "create x*",
    "create x?",
    "create x[ab]",
    "create x\\y",
    "create x:y",
    "create @x",
    "create +x",
    "createfoo",
    "create\tfoo",
};

/* Copies s with control characters shown as \xNN, so a failing test prints readably. */
static const char *printable(const char *s)
{
	static char buf[256];
	size_t len = 0;
	if (!s)
		return "(null)";
	for (; *s && len + 5 < sizeof(buf); s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c == 0x7f)
			len += (size_t)snprintf(buf + len, sizeof(buf) - len, "\\x%02x", c);
		else
			buf[len++] = (char)c;
	}
	buf[len] = '\0';
	return buf;
}

/* A reason is one line for a person: non-empty, no control characters, no trailing newline. */
static void assert_good_message(const char *message)
{
	assert_true(message[0] != '\0');
	for (const char *p = message; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c < 0x20 || c == 0x7f)
			fail_msg("control character in message \"%s\"", printable(message));
	}
}

static void assert_refused(const char *command)
{
	struct request out, before;
	struct error err = {.message = ""};
	memset(&out, 0x5a, sizeof(out));
	memcpy(&before, &out, sizeof(out));
	if (request_parse(command, &out, &err) != -1)
		fail_msg("accepted \"%s\" as path \"%s\"", printable(command), printable(out.path));
	if (err.message[0] == '\0')
		fail_msg("refused \"%s\" without a reason", printable(command));
	assert_good_message(err.message);
	/* A refused request must not leave a half-checked path behind for a careless caller. */
	assert_memory_equal(&out, &before, sizeof(out));
}

static void assert_parsed(const char *command, enum service service, const char *path)
{
	struct request out;
	struct error err = {.message = ""};
	if (request_parse(command, &out, &err) != 0)
		fail_msg("refused \"%s\": %s", printable(command), err.message);
	assert_int_equal(out.service, service);
	assert_string_equal(out.path, path);
}

/* Quotes path as git's sq_quote_buf does, after a verb: "git-upload-pack 'it'\''s'". */
static char *sq_command(const char *verb, const char *path)
{
	size_t size = strlen(verb) + 4 * strlen(path) + 4;
	char *command = malloc(size);
	assert_non_null(command);
	char *p = command + sprintf(command, "%s '", verb);
	for (; *path; path++) {
		if (*path == '\'' || *path == '!') {
			p += sprintf(p, "'\\%c'", *path);
		} else {
			*p++ = *path;
		}
	}
	strcpy(p, "'");
	return command;
}

static char *repeat(char c, size_t count)
{
	char *s = malloc(count + 1);
	assert_non_null(s);
	memset(s, c, count);
	s[count] = '\0';
	return s;
}

static void test_hostile_commands_refused(void **state)
{
	(void)state;
	assert_true(ARRAY_SIZE(hostile) >= 60);
	for (size_t i = 0; i < ARRAY_SIZE(hostile); i++)
		assert_refused(hostile[i]);
}

static void test_refused_with_null_error(void **state)
{
	struct request out;
	(void)state;
	/* The caller may not care why; a NULL err must not crash. */
	assert_int_equal(request_parse("git-upload-pack '../x'", &out, NULL), -1);
	assert_int_equal(request_parse(NULL, &out, NULL), -1);
	assert_int_equal(request_parse("git-upload-pack 'x'", NULL, NULL), -1);
}

static void assert_reason(const char *command, const char *expected)
{
	struct request out;
	struct error err = {.message = ""};
	assert_int_equal(request_parse(command, &out, &err), -1);
	assert_string_equal(err.message, expected);
}

static void test_reasons_name_the_problem(void **state)
{
	(void)state;
	assert_reason("git config foo.bar baz", "unknown command");
	assert_reason("git-upload-packx 'a'", "unknown command");
	assert_reason("git-lfs-authenticate 'demo.git' download",
		      "gitcage: Git LFS is not supported on this server");
	assert_reason("git-lfs-transfer 'demo.git' upload",
		      "gitcage: Git LFS is not supported on this server");
	assert_reason("git-lfs-transfer", "gitcage: Git LFS is not supported on this server");
	assert_reason("git-lfs-transferx 'a' upload", "unknown command");
	assert_reason("git-upload-pack demo.git", "the path must be one single-quoted argument");
	assert_reason("git-upload-pack 'a';id", "the path must be one single-quoted argument");
	assert_reason("git-upload-pack 'x/../demo.git'", "the path may not contain '..'");
	assert_reason("git-upload-pack '~/x'", "the path may not contain '~'");
	assert_reason("git-upload-pack '--help'", "the path may not start with '-'");
	assert_reason("git-upload-pack ''", "the path is empty");
	assert_reason("git-upload-pack 'a\nb'", "the command contains a control character");
}

static void test_long_paths_refused(void **state)
{
	(void)state;
	char *path = repeat('a', 5000);
	char *command = sq_command("git-upload-pack", path);
	assert_refused(command);
	free(command);
	free(path);

	/* One byte over PATH_MAX - 1 once decoded, though the command itself is short enough. */
	path = repeat('b', PATH_MAX);
	command = sq_command("git-receive-pack", path);
	assert_refused(command);
	free(command);
	free(path);

	/* A long component after a short one, so the limit is not only checked at the start. */
	path = repeat('c', PATH_MAX + 10);
	path[1] = '/';
	command = sq_command("git upload-archive", path);
	assert_refused(command);
	free(command);
	free(path);
}

static void test_longest_path_accepted(void **state)
{
	(void)state;
	char *path = repeat('a', PATH_MAX - 1);
	char *command = sq_command("git-upload-pack", path);
	assert_parsed(command, SERVICE_UPLOAD_PACK, path);
	free(command);
	free(path);
}

/* "git-upload-pack 'a" + count times '\'' + "b...'" with a command of exactly total bytes. */
static char *escaped_command_of_length(size_t total)
{
	const size_t quotes = 1000, overhead = strlen("git-upload-pack ''");
	size_t letters = total - overhead - 4 * quotes;
	char *path = repeat('b', letters + quotes);
	path[0] = 'a';
	memset(path + 1, '\'', quotes);
	char *command = sq_command("git-upload-pack", path);
	free(path);
	assert_int_equal(strlen(command), total);
	return command;
}

static void test_command_length_limit(void **state)
{
	(void)state;
	/* Escapes make the command four times longer than the path: the command limit bites. */
	char *command = escaped_command_of_length(4096 + 64);
	struct request out;
	struct error err;
	assert_int_equal(request_parse(command, &out, &err), 0);
	assert_int_equal(strlen(out.path), 4096 + 64 - strlen("git-upload-pack ''") - 3 * 1000);
	free(command);

	command = escaped_command_of_length(4096 + 64 + 1);
	assert_refused(command);
	free(command);
}

static void test_all_forms_of_all_services(void **state)
{
	(void)state;
	assert_parsed("git-upload-pack 'demo.git'", SERVICE_UPLOAD_PACK, "demo.git");
	assert_parsed("git upload-pack 'demo.git'", SERVICE_UPLOAD_PACK, "demo.git");
	assert_parsed("git-receive-pack 'demo.git'", SERVICE_RECEIVE_PACK, "demo.git");
	assert_parsed("git receive-pack 'demo.git'", SERVICE_RECEIVE_PACK, "demo.git");
	assert_parsed("git-upload-archive 'demo.git'", SERVICE_UPLOAD_ARCHIVE, "demo.git");
	assert_parsed("git upload-archive 'demo.git'", SERVICE_UPLOAD_ARCHIVE, "demo.git");
}

static void test_slashes_normalized(void **state)
{
	(void)state;
	/* What ssh://host/demo.git and host:demo.git/ clients send. */
	assert_parsed("git-upload-pack '/demo.git'", SERVICE_UPLOAD_PACK, "demo.git");
	assert_parsed("git-upload-pack 'demo.git/'", SERVICE_UPLOAD_PACK, "demo.git");
	assert_parsed("git-receive-pack '/team/demo.git/'", SERVICE_RECEIVE_PACK, "team/demo.git");
	assert_parsed("git-upload-pack 'demo'", SERVICE_UPLOAD_PACK, "demo");
}

static void test_escapes_decoded(void **state)
{
	(void)state;
	assert_parsed("git-upload-pack 'it'\\''s.git'", SERVICE_UPLOAD_PACK, "it's.git");
	assert_parsed("git-upload-pack 'hi'\\!'.git'", SERVICE_UPLOAD_PACK, "hi!.git");
	assert_parsed("git-upload-pack 'a'\\'''\\!'b'", SERVICE_UPLOAD_PACK, "a'!b");
	assert_parsed("git-upload-pack 'x'\\'''", SERVICE_UPLOAD_PACK, "x'");
	assert_parsed("git-upload-pack ''\\''x'", SERVICE_UPLOAD_PACK, "'x");
}

static void test_nested_and_unusual_names(void **state)
{
	(void)state;
	assert_parsed("git-upload-pack 'team/demo.git'", SERVICE_UPLOAD_PACK, "team/demo.git");
	assert_parsed("git-upload-pack 'a/b/c/d.git'", SERVICE_UPLOAD_PACK, "a/b/c/d.git");
	assert_parsed("git-upload-pack 'my-repo_1.2.git'", SERVICE_UPLOAD_PACK, "my-repo_1.2.git");
	assert_parsed("git-upload-pack 'a..b.git'", SERVICE_UPLOAD_PACK, "a..b.git");
	assert_parsed("git-upload-pack 'my repo.git'", SERVICE_UPLOAD_PACK, "my repo.git");
	/* Shell syntax inside the quotes is plain text: nothing here runs a shell. */
	assert_parsed("git-upload-pack 'a;b$(c)`d`.git'", SERVICE_UPLOAD_PACK, "a;b$(c)`d`.git");
}

static void test_utf8_names(void **state)
{
	(void)state;
	assert_parsed("git-upload-pack 'équipe/dépôt.git'", SERVICE_UPLOAD_PACK,
		      "équipe/dépôt.git");
	assert_parsed("git receive-pack '/日本語.git/'", SERVICE_RECEIVE_PACK, "日本語.git");
}

static void test_round_trip_through_sq_quote(void **state)
{
	(void)state;
	static const char *const paths[] = {"it's.git", "wow!.git", "'''", "!a!/b'c'"};
	for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
		char *command = sq_command("git upload-archive", paths[i]);
		assert_parsed(command, SERVICE_UPLOAD_ARCHIVE, paths[i]);
		free(command);
	}
}

static void test_protocol_accepted(void **state)
{
	(void)state;
	assert_true(hygiene_protocol_valid("version=2"));
	assert_true(hygiene_protocol_valid("version=1"));
	assert_true(hygiene_protocol_valid("version=2:object-format=sha1"));
	assert_true(hygiene_protocol_valid("version"));
	assert_true(hygiene_protocol_valid("a.b_c-D=1.2-x_Y"));
	char *value = repeat('v', 256);
	assert_true(hygiene_protocol_valid(value));
	free(value);
}

static void test_protocol_refused(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    NULL,
	    "",
	    "version=2\n",
	    "a b",
	    "x;y",
	    ":",
	    "version=2:",
	    ":version=2",
	    "version=2::a",
	    "version=",
	    "=2",
	    "version=2=3",
	    "version=$(id)",
	    "version=\x01",
	    "version=\t2",
	    "version=é",
	    "a,b",
	    "GIT_DIR=/tmp",
	    "version=2 ",
	    " version=2",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		if (hygiene_protocol_valid(bad[i]))
			fail_msg("accepted GIT_PROTOCOL \"%s\"", printable(bad[i]));
	}
	char *value = repeat('v', 257);
	assert_false(hygiene_protocol_valid(value));
	value[0] = 'a';
	value[1] = '=';
	assert_false(hygiene_protocol_valid(value));
	free(value);
}

static void test_own_commands(void **state)
{
	(void)state;
	assert_parsed("info", SERVICE_INFO, "");
	assert_parsed("help", SERVICE_HELP, "");
	assert_parsed("create foo", SERVICE_CREATE, "foo");
	assert_parsed("create u/alice/my-repo.git", SERVICE_CREATE, "u/alice/my-repo.git");
	assert_parsed("create a@b+c_d.e-f", SERVICE_CREATE, "a@b+c_d.e-f");
	assert_false(request_service_is_git(SERVICE_INFO));
	assert_false(request_service_is_git(SERVICE_CREATE));
	assert_true(request_service_is_git(SERVICE_UPLOAD_ARCHIVE));
	assert_true(request_service_writes(SERVICE_CREATE));
	assert_null(request_service_subcommand(SERVICE_HELP));
	assert_string_equal(request_service_name(SERVICE_CREATE), "create");
	/* A refused one is still named in the audit record. */
	struct request out;
	assert_string_equal(request_describe_refused("create ../x", &out), "create");
	assert_string_equal(request_describe_refused("info -lc", &out), "info");
	assert_string_equal(request_describe_refused("creates", &out), "unknown");
}

static void test_service_names(void **state)
{
	(void)state;
	assert_string_equal(request_service_name(SERVICE_UPLOAD_PACK), "git-upload-pack");
	assert_string_equal(request_service_name(SERVICE_RECEIVE_PACK), "git-receive-pack");
	assert_string_equal(request_service_name(SERVICE_UPLOAD_ARCHIVE), "git-upload-archive");
	assert_string_equal(request_service_subcommand(SERVICE_UPLOAD_PACK), "upload-pack");
	assert_string_equal(request_service_subcommand(SERVICE_RECEIVE_PACK), "receive-pack");
	assert_string_equal(request_service_subcommand(SERVICE_UPLOAD_ARCHIVE), "upload-archive");
	assert_false(request_service_writes(SERVICE_UPLOAD_PACK));
	assert_true(request_service_writes(SERVICE_RECEIVE_PACK));
	assert_false(request_service_writes(SERVICE_UPLOAD_ARCHIVE));
}

/* What a refused command asked for, for the audit record; only a path that passes the checks. */
static void assert_described(const char *command, const char *service, const char *path)
{
	struct request out;
	assert_string_equal(request_describe_refused(command, &out), service);
	assert_string_equal(out.path, path);
}

static void test_refused_commands_are_described(void **state)
{
	(void)state;
	assert_described("git-lfs-authenticate 'team/demo.git' download", "git-lfs-authenticate",
			 "team/demo.git");
	assert_described("git-lfs-transfer '/demo.git' upload", "git-lfs-transfer", "demo.git");
	assert_described("git-lfs-transfer '../etc' upload", "git-lfs-transfer", "");
	assert_described("git-lfs-authenticate demo.git download", "git-lfs-authenticate", "");
	assert_described("git-lfs-authenticate", "git-lfs-authenticate", "");
	assert_described("git-upload-pack '../x'", "git-upload-pack", "");
	assert_described("rm -rf /", "unknown", "");
	assert_described("git-lfs-transfer 'a\n' upload", "unknown", "");
	assert_described("", "unknown", "");
}

static void test_unknown_service_fails_safe(void **state)
{
	(void)state;
	enum service bogus = (enum service)99;
	assert_null(request_service_name(bogus));
	assert_null(request_service_subcommand(bogus));
	/* Treated as a write: it then needs write access and gets verified. */
	assert_true(request_service_writes(bogus));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hostile_commands_refused),
	    cmocka_unit_test(test_refused_with_null_error),
	    cmocka_unit_test(test_reasons_name_the_problem),
	    cmocka_unit_test(test_long_paths_refused),
	    cmocka_unit_test(test_longest_path_accepted),
	    cmocka_unit_test(test_command_length_limit),
	    cmocka_unit_test(test_all_forms_of_all_services),
	    cmocka_unit_test(test_slashes_normalized),
	    cmocka_unit_test(test_escapes_decoded),
	    cmocka_unit_test(test_nested_and_unusual_names),
	    cmocka_unit_test(test_utf8_names),
	    cmocka_unit_test(test_round_trip_through_sq_quote),
	    cmocka_unit_test(test_protocol_accepted),
	    cmocka_unit_test(test_protocol_refused),
	    cmocka_unit_test(test_own_commands),
	    cmocka_unit_test(test_service_names),
	    cmocka_unit_test(test_unknown_service_fails_safe),
	    cmocka_unit_test(test_refused_commands_are_described),
	};
	return cmocka_run_group_tests_name("request", tests, NULL, NULL);
}

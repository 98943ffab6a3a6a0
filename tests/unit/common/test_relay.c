/* SPDX-License-Identifier: ISC */
/* Unit tests for src/common/relay.c: the request comes from inside the sandbox, where git may
 * be compromised; only the exact shape may pass, and what passes must round-trip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/relay.h"

#define A "1111111111111111111111111111111111111111"
#define B "2222222222222222222222222222222222222222"
#define Z "0000000000000000000000000000000000000000"

static int parse(const char *text, struct relay_request *req, struct error *err)
{
	return relay_parse_request(text, strlen(text), req, err);
}

static void test_request_accepted(void **state)
{
	(void)state;
	struct relay_request req;
	struct error err;
	assert_int_equal(parse("gitcage-relay 1\natomic\noption ci.skip\noption a b\n"
			       "command " A " " B " refs/heads/main\n"
			       "command " Z " " B " refs/heads/new\nend\n",
			       &req, &err),
			 0);
	assert_true(req.atomic);
	assert_int_equal(req.option_count, 2);
	assert_string_equal(req.options[1], "a b");
	assert_int_equal(req.count, 2);
	assert_string_equal(req.commands[0].old_id, A);
	assert_string_equal(req.commands[0].new_id, B);
	assert_string_equal(req.commands[1].ref, "refs/heads/new");
	relay_request_free(&req);
}

static void test_request_round_trip(void **state)
{
	(void)state;
	struct relay_request req = {.atomic = true}, back;
	struct strbuf out = {0};
	struct error err;
	relay_add_command(&req, A, Z, "refs/tags/v1");
	relay_add_command(&req, Z, B, "refs/heads/ünïcode");
	relay_format_request(&req, &out);
	assert_true(relay_complete(out.data, out.len));
	assert_int_equal(relay_parse_request(out.data, out.len, &back, &err), 0);
	assert_int_equal(back.count, 2);
	assert_true(back.atomic);
	assert_string_equal(back.commands[1].ref, "refs/heads/ünïcode");
	relay_request_free(&req);
	relay_request_free(&back);
	strbuf_free(&out);
}

/* Each must be refused: the comment says what would go wrong if it were not. */
static const char *const hostile[] = {
    "",
    "end\n",
    "gitcage-relay 2\ncommand " A " " B " refs/heads/x\nend\n",	      /* another protocol */
    "gitcage-relay 1\nend\n",					      /* no commands */
    "gitcage-relay 1\ncommand " A " " B " refs/heads/x\n",	      /* no end */
    "gitcage-relay 1\ncommand " A " " B " refs/heads/x\nend",	      /* end without newline */
    "gitcage-relay 1\ncommand " A " " B " refs/heads/x\nend\nmore\n", /* data after end */
    "gitcage-relay 1\ncommand " A " " B " refs/heads/x y\nend\n",     /* a blank in a ref */
    "gitcage-relay 1\ncommand " A " " B " refs/heads/\x1b[2J\nend\n", /* a terminal escape */
    "gitcage-relay 1\ncommand " A " " B " \nend\n",		      /* an empty ref */
    "gitcage-relay 1\ncommand 111 " B " refs/heads/x\nend\n",	      /* a short id */
    "gitcage-relay 1\ncommand " A " 2222222222222222222222222222222222222222x refs/x\nend\n",
    "gitcage-relay 1\ncommand " A "  " B " refs/heads/x\nend\n", /* two blanks */
    "gitcage-relay 1\ncommand "
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    " " B " r\nend\n",
    "gitcage-relay 1\ncommand " A " " B " refs/heads/x\noption late\nend\n", /* option last */
    "gitcage-relay 1\ncommand " A " " B " refs/heads/x\natomic\nend\n",	     /* atomic last */
    "gitcage-relay 1\natomic\natomic\ncommand " A " " B " refs/heads/x\nend\n",
    "gitcage-relay 1\noption a\rb\ncommand " A " " B " refs/heads/x\nend\n",
    "gitcage-relay 1\nkind push\ncommand " A " " B " refs/heads/x\nend\n", /* unknown line */
};

static void test_hostile_requests_refused(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		struct relay_request req;
		struct error err = {""};
		if (parse(hostile[i], &req, &err) == 0)
			fail_msg("accepted hostile request %zu", i);
		assert_true(err.message[0] != '\0');
		assert_null(strchr(err.message, '\x1b'));
	}
}

static void test_a_nul_byte_ends_nothing(void **state)
{
	(void)state;
	static const char text[] = "gitcage-relay 1\ncommand " A " " B " refs/heads/a\0b\nend\n";
	struct relay_request req;
	struct error err;
	assert_int_equal(relay_parse_request(text, sizeof(text) - 1, &req, &err), -1);
}

static void test_too_many_commands(void **state)
{
	(void)state;
	struct strbuf text = {0};
	struct relay_request req;
	struct error err;
	strbuf_addf(&text, "gitcage-relay 1\n");
	for (int i = 0; i <= RELAY_MAX_COMMANDS; i++)
		strbuf_addf(&text, "command " Z " " B " refs/heads/b%d\n", i);
	strbuf_addf(&text, "end\n");
	assert_int_equal(relay_parse_request(text.data, text.len, &req, &err), -1);
	assert_non_null(strstr(err.message, "too many"));
	strbuf_free(&text);
}

static void test_answer_round_trip(void **state)
{
	(void)state;
	struct relay_request req = {0};
	struct relay_answer answer = {.verdicts = calloc(2, sizeof(struct relay_verdict))}, back;
	struct strbuf out = {0};
	struct error err;
	relay_add_command(&req, A, B, "refs/heads/main");
	relay_add_command(&req, Z, B, "refs/heads/x");
	answer.verdicts[0].ok = true;
	snprintf(answer.verdicts[1].reason, sizeof(answer.verdicts[1].reason), "it moved");
	strvec_push(&answer.messages, "gitcage: one line");
	relay_format_answer(&req, &answer, &out);
	assert_int_equal(relay_parse_answer(out.data, out.len, &req, &back, &err), 0);
	assert_true(back.verdicts[0].ok);
	assert_false(back.verdicts[1].ok);
	assert_string_equal(back.verdicts[1].reason, "it moved");
	assert_string_equal(back.messages.items[0], "gitcage: one line");
	relay_answer_free(&back);
	relay_answer_free(&answer);
	relay_request_free(&req);
	strbuf_free(&out);
}

static void test_answer_for_another_ref_refused(void **state)
{
	(void)state;
	static const char text[] = "ok refs/heads/other\nend\n";
	struct relay_request req = {0};
	struct relay_answer back;
	struct error err;
	relay_add_command(&req, A, B, "refs/heads/main");
	assert_int_equal(relay_parse_answer(text, strlen(text), &req, &back, &err), -1);
	assert_int_equal(relay_parse_answer("end\n", 4, &req, &back, &err), -1);
	relay_request_free(&req);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_request_accepted),
	    cmocka_unit_test(test_request_round_trip),
	    cmocka_unit_test(test_hostile_requests_refused),
	    cmocka_unit_test(test_a_nul_byte_ends_nothing),
	    cmocka_unit_test(test_too_many_commands),
	    cmocka_unit_test(test_answer_round_trip),
	    cmocka_unit_test(test_answer_for_another_ref_refused),
	};
	return cmocka_run_group_tests_name("relay", tests, NULL, NULL);
}

/* SPDX-License-Identifier: ISC */
/* Unit tests for src/common/contract.c: the request gitcage writes to the caged verifier, and
 * the facts it reads back (from a process that parsed hostile objects: read strictly). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/contract.h"

#define A     "1111111111111111111111111111111111111111"
#define B     "2222222222222222222222222222222222222222"
#define Z     "0000000000000000000000000000000000000000"
#define PACK  "objects/pack/pack-3333333333333333333333333333333333333333.pack"
#define LOOSE "objects/44/44444444444444444444444444444444444444"

static void test_request_round_trip(void **state)
{
	(void)state;
	struct check_request req = {.max_blob_size = 4096, .fsck = CHECK_FSCK_OBJECTS}, back;
	struct strbuf text = {0};
	struct error err;
	strvec_push(&req.packs, PACK);
	strvec_push(&req.fsck_ignore, "badTimezone");
	strvec_push(&req.loose, LOOSE);
	check_add_command(&req, A, B, "refs/heads/main", true);
	check_add_command(&req, A, Z, "refs/heads/gone", false);
	check_format_request(&req, &text);
	assert_int_equal(check_parse_request(text.data, text.len, &back, &err), 0);
	assert_int_equal(back.max_blob_size, 4096);
	assert_int_equal(back.fsck, CHECK_FSCK_OBJECTS);
	assert_string_equal(back.packs.items[0], PACK);
	assert_string_equal(back.fsck_ignore.items[0], "badTimezone");
	assert_string_equal(back.loose.items[0], LOOSE);
	assert_int_equal(back.count, 2);
	assert_true(back.commands[0].ask_ff);
	assert_false(back.commands[1].ask_ff);
	check_request_free(&req);
	check_request_free(&back);
	strbuf_free(&text);
}

/* The guard opens only files of the two object shapes, beneath the stage. */
static void test_request_paths_of_the_object_shapes_only(void **state)
{
	(void)state;
	static const char *const paths[] = {
	    "pack objects/pack/../../../etc/passwd\n",
	    "pack objects/pack/pack-3333333333333333333333333333333333333333.idx\n",
	    "fsck-ignore bad id\n",
	    "fsck-ignore ../x\n",
	    "fsck lax\n",
	    "fsck strict \n",
	    "pack /etc/passwd\n",
	    "loose objects/44/4444444444444444444444444444444444444/\n",
	    "loose objects/../44444444444444444444444444444444444444444\n",
	    "loose objects/44/444444444444444444444444444444444444444\n",
	};
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		char text[512];
		struct check_request req;
		struct error err;
		snprintf(text, sizeof(text), "gitcage-check 1\n%send\n", paths[i]);
		if (check_parse_request(text, strlen(text), &req, &err) == 0)
			fail_msg("accepted %s", paths[i]);
	}
}

static void test_facts_round_trip(void **state)
{
	(void)state;
	struct check_request req = {0};
	struct strbuf text = {0};
	struct error err;
	check_add_command(&req, A, B, "refs/heads/main", true);
	check_add_command(&req, A, Z, "refs/heads/gone", false);
	req.objects_ok = false;
	snprintf(req.objects_reason, sizeof(req.objects_reason), "big.bin is too big");
	req.commands[0] = (struct check_command){.ref = req.commands[0].ref,
						 .name_valid = true,
						 .exists = true,
						 .type = "commit",
						 .ff = CHECK_FF_NO};
	check_format_facts(&req, &text);
	struct check_request *back = &req; /* facts are read into the request they answer */
	req.commands[0].ff = CHECK_FF_UNASKED;
	assert_int_equal(check_parse_facts(text.data, text.len, back, &err), 0);
	assert_false(back->objects_ok);
	assert_string_equal(back->objects_reason, "big.bin is too big");
	assert_int_equal(back->commands[0].ff, CHECK_FF_NO);
	assert_string_equal(back->commands[0].type, "commit");
	assert_false(back->commands[1].exists);
	check_request_free(&req);
	strbuf_free(&text);
}

static void test_hostile_facts_refused(void **state)
{
	(void)state;
	static const char *const answers[] = {
	    "",
	    "gitcage-check 1\n",
	    "gitcage-check 1\nobjects ok\nend\n",			/* one fact short */
	    "gitcage-check 1\nobjects ok\ncommand 1 1 commit 1\nend\n", /* still short */
	    "gitcage-check 1\nobjects ok\ncommand 1 1 commit 1\ncommand 1 1 commit 1\n",
	    "gitcage-check 1\nobjects maybe\ncommand 1 1 commit 1\ncommand 1 1 commit 1\nend\n",
	    "gitcage-check 1\nobjects ok\ncommand 2 1 commit 1\ncommand 1 1 commit 1\nend\n",
	    "gitcage-check 1\nobjects ok\ncommand 1 1 sofa 1\ncommand 1 1 commit 1\nend\n",
	    "gitcage-check 1\nobjects ok\ncommand 1 1 commit 1 x\ncommand 1 1 commit 1\nend\n",
	    "gitcage-check 1\nobjects ok\ncommand 1 1 commit 1\ncommand 1 1 commit 1\n"
	    "command 1 1 commit 1\nend\n", /* one fact too many */
	};
	for (size_t i = 0; i < sizeof(answers) / sizeof(answers[0]); i++) {
		struct check_request req = {0};
		struct error err;
		check_add_command(&req, A, B, "refs/heads/a", true);
		check_add_command(&req, A, B, "refs/heads/b", true);
		if (check_parse_facts(answers[i], strlen(answers[i]), &req, &err) == 0)
			fail_msg("accepted answer %zu", i);
		check_request_free(&req);
	}
}

static void test_reason_cleaned_of_control_characters(void **state)
{
	(void)state;
	static const char text[] =
	    "gitcage-check 1\nobjects bad a\x1b[2Jb\ncommand 1 1 blob -\nend\n";
	struct check_request req = {0};
	struct error err;
	check_add_command(&req, A, B, "refs/heads/a", false);
	assert_int_equal(check_parse_facts(text, strlen(text), &req, &err), 0);
	assert_null(strchr(req.objects_reason, '\x1b'));
	check_request_free(&req);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_request_round_trip),
	    cmocka_unit_test(test_request_paths_of_the_object_shapes_only),
	    cmocka_unit_test(test_facts_round_trip),
	    cmocka_unit_test(test_hostile_facts_refused),
	    cmocka_unit_test(test_reason_cleaned_of_control_characters),
	};
	return cmocka_run_group_tests_name("contract", tests, NULL, NULL);
}

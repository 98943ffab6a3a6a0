/* SPDX-License-Identifier: ISC */
/* Unit tests for src/txn/refdiff.c: what a writable run asks to publish, from git's listings
 * of the session's view (hostile) and of the repository. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "txn/refdiff.h"

#define A "1111111111111111111111111111111111111111"
#define B "2222222222222222222222222222222222222222"
#define C "3333333333333333333333333333333333333333"
#define Z "0000000000000000000000000000000000000000"

static void listing(const char *text, struct ref_listing *out)
{
	refdiff_parse(text, strlen(text), out);
}

static void test_parse_keeps_only_wellformed_lines(void **state)
{
	(void)state;
	struct ref_listing l;
	listing(B " refs/heads/b\n" A " refs/heads/a\ngarbage\n" A " HEAD\n" A " refs/x y\n"
		  "1111 refs/heads/short\n" A " refs/tags/last",
		&l);
	assert_int_equal(l.count, 3);
	assert_string_equal(l.items[0].ref, "refs/heads/a"); /* sorted */
	assert_string_equal(l.items[2].ref, "refs/tags/last");
	refdiff_free(&l);
}

static void test_commands_from_the_difference(void **state)
{
	(void)state;
	struct ref_listing real, view;
	struct journal_changes changes = {0};
	struct relay_request req;
	listing(A " refs/heads/same\n" A " refs/heads/moved\n" A " refs/heads/gone\n", &real);
	listing(A " refs/heads/same\n" B " refs/heads/moved\n" C " refs/heads/new\n", &view);
	refdiff_commands(&real, &view, &changes, &req);
	assert_int_equal(req.count, 3);
	for (size_t i = 0; i < req.count; i++) {
		const struct relay_command *c = &req.commands[i];
		if (strcmp(c->ref, "refs/heads/moved") == 0) {
			assert_string_equal(c->old_id, A);
			assert_string_equal(c->new_id, B);
		} else if (strcmp(c->ref, "refs/heads/new") == 0) {
			assert_string_equal(c->old_id, Z);
		} else {
			assert_string_equal(c->ref, "refs/heads/gone");
			assert_string_equal(c->new_id, Z);
		}
	}
	relay_request_free(&req);
	refdiff_free(&real);
	refdiff_free(&view);
}

/* Another session moved main from A to B while the run ran; the run's view still shows A (a
 * stale overlay): the run did not change main, and must not put A back. */
static void test_stale_view_of_a_ref_someone_moved(void **state)
{
	(void)state;
	struct ref_listing real, view;
	struct journal_entry moved = {.old_id = A, .new_id = B, .ref = "refs/heads/main"};
	struct journal_changes changes = {.items = &moved, .count = 1};
	struct relay_request req;
	listing(B " refs/heads/main\n", &real);
	listing(A " refs/heads/main\n", &view);
	refdiff_commands(&real, &view, &changes, &req);
	assert_int_equal(req.count, 0);
	refdiff_free(&view);
	/* But a run that changed it to something else asks, and will be told it moved. */
	listing(C " refs/heads/main\n", &view);
	refdiff_commands(&real, &view, &changes, &req);
	assert_int_equal(req.count, 1);
	relay_request_free(&req);
	refdiff_free(&real);
	refdiff_free(&view);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_keeps_only_wellformed_lines),
	    cmocka_unit_test(test_commands_from_the_difference),
	    cmocka_unit_test(test_stale_view_of_a_ref_someone_moved),
	};
	return cmocka_run_group_tests_name("refdiff", tests, NULL, NULL);
}

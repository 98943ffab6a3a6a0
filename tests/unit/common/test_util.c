/* SPDX-License-Identifier: ISC */
/* Unit tests for src/common/util.c: the helpers every module shares, one per job (growable
 * arrays and buffers, whole-file reads, hex ids, the monotonic clock, the error out-parameter). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/util.h"

static void test_grow_array(void **state)
{
	(void)state;
	int *items = NULL;
	size_t cap = 0;
	grow_array(&items, &cap, 1, sizeof(*items));
	assert_int_equal(cap, 8);
	grow_array(&items, &cap, 8, sizeof(*items));
	assert_int_equal(cap, 8); /* room already */
	grow_array(&items, &cap, 9, sizeof(*items));
	assert_int_equal(cap, 16);
	grow_array(&items, &cap, 1000, sizeof(*items));
	assert_int_equal(cap, 1024);
	items[999] = 7;
	free(items);
}

static void test_array_append(void **state)
{
	(void)state;
	struct pair {
		int a;
		char *b;
	} *items = NULL;
	size_t count = 0;
	for (int i = 0; i < 100; i++) {
		items = array_append(items, count, sizeof(*items));
		assert_int_equal(items[count].a, 0); /* zeroed */
		assert_null(items[count].b);
		items[count++].a = i;
	}
	for (int i = 0; i < 100; i++)
		assert_int_equal(items[i].a, i);
	free(items);
}

static void test_strbuf(void **state)
{
	(void)state;
	struct strbuf buf = {0};
	strbuf_add(&buf, "ab", 2);
	strbuf_add(&buf, "", 0);
	strbuf_addf(&buf, "%d-%s", 42, "x");
	assert_string_equal(buf.data, "ab42-x");
	assert_int_equal(buf.len, 6);
	strbuf_add(&buf, "\0z", 2); /* bytes, not a string */
	assert_int_equal(buf.len, 8);
	assert_int_equal(buf.data[8], '\0');
	strbuf_free(&buf);
	assert_null(buf.data);
	assert_int_equal(buf.len, 0);
}

static void test_strvec(void **state)
{
	(void)state;
	struct strvec vec = {0};
	strvec_push(&vec, "git");
	strvec_pushf(&vec, "-c%s=%d", "x", 1);
	assert_int_equal(vec.count, 2);
	assert_string_equal(vec.items[1], "-cx=1");
	assert_null(vec.items[2]); /* an argv */
	strvec_free(&vec);
}

static void test_hex_lower(void **state)
{
	(void)state;
	assert_true(hex_lower("0123456789abcdef", 16));
	assert_true(hex_lower("", 0));
	assert_true(hex_lower("abZ", 2)); /* only the first len bytes */
	assert_false(hex_lower("abcdeF", 6));
	assert_false(hex_lower("12 4", 4));
	assert_false(hex_lower("12\0"
			       "4",
			       4));
	assert_false(hex_lower("g", 1));
}

static void test_clock(void **state)
{
	(void)state;
	long long ns = clock_ns(), us = clock_us(), ms = clock_ms();
	assert_true(ns > 0);
	assert_true(us >= ns / 1000);
	assert_true(ms >= us / 1000);
	assert_true(ms - ns / 1000000 < 1000); /* the same clock, in other units */
	struct timespec pause = {0, 2000000};
	nanosleep(&pause, NULL);
	assert_true(clock_ns() - ns >= 2000000);
}

static void test_error_set(void **state)
{
	(void)state;
	struct error err;
	assert_int_equal(error_set(&err, "line %d: %s", 3, "bad"), -1);
	assert_string_equal(err.message, "line 3: bad");
	assert_int_equal(error_set(NULL, "ignored"), -1);
	char long_text[1000];
	memset(long_text, 'x', sizeof(long_text) - 1);
	long_text[sizeof(long_text) - 1] = '\0';
	error_set(&err, "%s", long_text); /* cut, never overflowed */
	assert_int_equal(strlen(err.message), sizeof(err.message) - 1);
}

static int memfd_with(const char *text, size_t len)
{
	int fd = memfd_create("test", MFD_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	return fd; /* its offset is at the end */
}

static void test_read_whole_file(void **state)
{
	(void)state;
	char *data;
	size_t len;
	int fd = memfd_with("hello\0world", 11);
	assert_int_equal(read_whole_file(fd, 11, &data, &len), 0); /* from the start */
	assert_int_equal(len, 11);
	assert_memory_equal(data, "hello\0world", 12);
	free(data);
	errno = 0;
	assert_int_equal(read_whole_file(fd, 10, &data, &len), -1);
	assert_int_equal(errno, EFBIG);
	close(fd);
	fd = memfd_with("", 0);
	assert_int_equal(read_whole_file(fd, 0, &data, &len), 0);
	assert_int_equal(len, 0);
	assert_string_equal(data, ""); /* a buffer all the same */
	free(data);
	close(fd);
	int pipe_fds[2];
	assert_int_equal(pipe(pipe_fds), 0);
	assert_int_equal(read_whole_file(pipe_fds[0], 100, &data, &len), -1);
	assert_int_equal(errno, EINVAL); /* not a regular file: a FIFO could block */
	close(pipe_fds[0]);
	close(pipe_fds[1]);
	fd = open("/", O_RDONLY | O_DIRECTORY);
	assert_int_equal(read_whole_file(fd, 100, &data, &len), -1);
	assert_int_equal(errno, EINVAL);
	close(fd);
	assert_int_equal(read_whole_file(-1, 100, &data, &len), -1);
	assert_int_equal(errno, EBADF);
}

static void test_strbuf_read_fd(void **state)
{
	(void)state;
	struct strbuf buf = {0};
	char big[200000];
	memset(big, 'b', sizeof(big));
	int fd = memfd_with(big, sizeof(big));
	strbuf_add(&buf, "a", 1);
	strbuf_read_fd(&buf, fd, SIZE_MAX); /* appended, from the start */
	assert_int_equal(buf.len, 1 + sizeof(big));
	assert_int_equal(buf.data[0], 'a');
	assert_int_equal(buf.data[sizeof(big)], 'b');
	strbuf_free(&buf);
	strbuf_read_fd(&buf, fd, 1000); /* stops once it holds max: one chunk here */
	assert_int_equal(buf.len, 65536);
	strbuf_free(&buf);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_grow_array),	   cmocka_unit_test(test_array_append),
	    cmocka_unit_test(test_strbuf),	   cmocka_unit_test(test_strvec),
	    cmocka_unit_test(test_hex_lower),	   cmocka_unit_test(test_clock),
	    cmocka_unit_test(test_error_set),	   cmocka_unit_test(test_read_whole_file),
	    cmocka_unit_test(test_strbuf_read_fd),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: ISC */
/* Unit tests for src/txn/upper.c: how every kind of entry git (or a compromised git) can leave
 * in the private layer is classified, and a scan of a real directory tree. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/repofs.h"
#include "txn/upper.h"

#define HEX "0123456789abcdef0123456789abcdef01234567"

struct example {
	const char *path;
	mode_t mode;
	nlink_t nlink;
	bool whiteout, opaque, in_lower;
	enum upper_kind kind;
};

static const struct example examples[] = {
    {"objects", S_IFDIR | 0755, 2, 0, 0, 1, UPPER_DIR},
    {"objects/pack", S_IFDIR | 0755, 2, 0, 0, 1, UPPER_DIR},
    {"objects/ab", S_IFDIR | 0755, 2, 0, 0, 0, UPPER_DIR},
    {"objects/pack/pack-" HEX ".pack", S_IFREG | 0444, 1, 0, 0, 0, UPPER_PACK},
    {"objects/pack/pack-" HEX ".idx", S_IFREG | 0444, 1, 0, 0, 0, UPPER_PACK},
    {"objects/pack/pack-" HEX ".rev", S_IFREG | 0444, 1, 0, 0, 0, UPPER_PACK},
    {"objects/pack/pack-" HEX ".keep", S_IFREG | 0644, 1, 0, 0, 0, UPPER_NOISE},
    {"objects/ab/cdef0123456789abcdef0123456789abcdef01", S_IFREG | 0444, 1, 0, 0, 0, UPPER_LOOSE},
    /* a chmod, a touch, git's freshen: a copy of a file the repository has */
    {"objects/pack/pack-" HEX ".idx", S_IFREG | 0644, 1, 0, 0, 1, UPPER_COPY_UP},
    {"objects/ab/cdef0123456789abcdef0123456789abcdef01", S_IFREG | 0444, 1, 0, 0, 1,
     UPPER_COPY_UP},
    /* gc, repack, prune */
    {"objects/pack/pack-" HEX ".pack", S_IFCHR, 1, 1, 0, 1, UPPER_DELETES},
    {"objects/ab", S_IFDIR | 0755, 2, 0, 1, 1, UPPER_DELETES},
    /* what git writes for its own ref transactions */
    {"refs/heads/main", S_IFREG | 0644, 1, 0, 0, 1, UPPER_GIT_REFS},
    {"refs/heads/x", S_IFCHR, 1, 1, 0, 1, UPPER_GIT_REFS},
    {"refs/heads/x", S_IFDIR | 0755, 2, 0, 1, 1, UPPER_GIT_REFS},
    {"packed-refs", S_IFREG | 0644, 1, 0, 0, 1, UPPER_GIT_REFS},
    {"logs/refs/heads/main", S_IFREG | 0644, 1, 0, 0, 0, UPPER_GIT_REFS},
    /* never published, never read */
    {"config", S_IFREG | 0644, 1, 0, 0, 1, UPPER_REFUSED},
    {"HEAD", S_IFREG | 0644, 1, 0, 0, 1, UPPER_REFUSED},
    {"shallow", S_IFREG | 0644, 1, 0, 0, 0, UPPER_REFUSED},
    {"commondir", S_IFREG | 0644, 1, 0, 0, 0, UPPER_REFUSED},
    {"FETCH_HEAD", S_IFREG | 0644, 1, 0, 0, 0, UPPER_REFUSED},
    {"hooks", S_IFDIR | 0755, 2, 0, 0, 1, UPPER_REFUSED},
    {"hooks/post-receive", S_IFREG | 0755, 1, 0, 0, 0, UPPER_REFUSED},
    {"info/alternates", S_IFREG | 0644, 1, 0, 0, 0, UPPER_REFUSED},
    {"objects/info", S_IFDIR | 0755, 2, 0, 0, 1, UPPER_REFUSED},
    {"objects/info/alternates", S_IFREG | 0644, 1, 0, 0, 0, UPPER_REFUSED},
    {"objects/incoming-abcdef", S_IFDIR | 0700, 2, 0, 0, 0, UPPER_REFUSED},
    {"objects/junk", S_IFREG | 0644, 1, 0, 0, 0, UPPER_REFUSED},
    {"objects/pack/pack-" HEX ".bitmap", S_IFREG | 0444, 1, 0, 0, 0, UPPER_REFUSED},
    {"objects/pack/tmp_pack_abcdef", S_IFREG | 0444, 1, 0, 0, 0, UPPER_REFUSED},
    {"refs/heads/main.lock", S_IFREG | 0644, 1, 0, 0, 0, UPPER_REFUSED},
    {"refs/heads/evil", S_IFLNK | 0777, 1, 0, 0, 0, UPPER_REFUSED},
    {"logs/refs/heads/main", S_IFIFO | 0644, 1, 0, 0, 0, UPPER_REFUSED},
    {"objects/pack/pack-" HEX ".pack", S_IFREG | 0666, 1, 0, 0, 0, UPPER_REFUSED},
    {"objects/pack/pack-" HEX ".pack", S_IFREG | 04444, 1, 0, 0, 0, UPPER_REFUSED},
    {"objects/pack/pack-" HEX ".pack", S_IFREG | 0444, 2, 0, 0, 0, UPPER_REFUSED},
    {"objects/pack/pack-" HEX ".pack", S_IFBLK, 1, 0, 0, 0, UPPER_REFUSED},
    {"description", S_IFCHR, 1, 1, 0, 1, UPPER_REFUSED}, /* a deleted top-level file */
    {"hooks", S_IFDIR | 0755, 2, 0, 1, 1, UPPER_REFUSED},
};

static void test_every_kind_of_entry(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(examples) / sizeof(examples[0]); i++) {
		const struct example *e = &examples[i];
		struct upper_facts f = {e->mode, e->nlink, e->whiteout, e->opaque, e->in_lower};
		const char *why;
		enum upper_kind kind = upper_classify(e->path, &f, &why);
		if (kind != e->kind)
			fail_msg("%s (example %zu): kind %d, expected %d", e->path, i, kind,
				 e->kind);
		if (kind == UPPER_REFUSED || kind == UPPER_DELETES)
			assert_true(why[0] != '\0');
	}
}

static void touch(int dir, const char *path, mode_t mode)
{
	assert_int_equal(repofs_make_parents(dir, path), 0);
	int fd = openat(dir, path, O_WRONLY | O_CREAT | O_EXCL, mode);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(fchmodat(dir, path, mode, 0), 0);
}

static void test_scan_of_a_real_tree(void **state)
{
	(void)state;
	char dir[] = "/tmp/gitcage-test-upper.XXXXXX", upper[64], lower[64];
	struct upper_scan scan;
	struct error err;
	assert_non_null(mkdtemp(dir));
	snprintf(upper, sizeof(upper), "%s/upper", dir);
	snprintf(lower, sizeof(lower), "%s/lower", dir);
	assert_int_equal(mkdir(upper, 0700), 0);
	assert_int_equal(mkdir(lower, 0700), 0);
	int up = open(upper, O_RDONLY | O_DIRECTORY), low = open(lower, O_PATH | O_DIRECTORY);
	touch(up, "objects/pack/pack-" HEX ".pack", 0444);
	touch(up, "objects/pack/pack-" HEX ".idx", 0444);
	touch(up, "objects/ab/cdef0123456789abcdef0123456789abcdef01", 0444);
	touch(low, "objects/ab/cdef0123456789abcdef0123456789abcdef01", 0444);
	touch(up, "HEAD", 0644);
	touch(up, "refs/heads/main", 0644);
	assert_int_equal(symlinkat("/etc/passwd", up, "refs/heads/link"), 0);
	assert_int_equal(upper_scan(up, low, &scan, &err), 0);
	assert_int_equal(scan.packs.count, 2);
	assert_int_equal(scan.loose.count, 0);
	assert_int_equal(scan.copy_ups.count, 1);
	assert_int_equal(scan.refs.count, 1);
	assert_int_equal(scan.refused.count, 2); /* HEAD, the link */
	upper_scan_free(&scan);
	close(up);
	close(low);
	repofs_remove(AT_FDCWD, dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_kind_of_entry),
	    cmocka_unit_test(test_scan_of_a_real_tree),
	};
	return cmocka_run_group_tests_name("upper", tests, NULL, NULL);
}

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

/* Two scratch directories, an upper (git's private layer) and a lower (the repository). */
struct layers {
	char dir[64];
	int up, low;
};

static void layers_make(struct layers *l)
{
	char upper[96], lower[96];
	snprintf(l->dir, sizeof(l->dir), "/tmp/gitcage-test-upper.XXXXXX");
	assert_non_null(mkdtemp(l->dir));
	snprintf(upper, sizeof(upper), "%s/upper", l->dir);
	snprintf(lower, sizeof(lower), "%s/lower", l->dir);
	assert_int_equal(mkdir(upper, 0700), 0);
	assert_int_equal(mkdir(lower, 0700), 0);
	l->up = open(upper, O_RDONLY | O_DIRECTORY);
	l->low = open(lower, O_PATH | O_DIRECTORY);
	assert_true(l->up >= 0 && l->low >= 0);
}

/* repofs resolves beneath a directory: the scratch tree is removed from /tmp's fd. */
static void layers_remove(struct layers *l)
{
	close(l->up);
	close(l->low);
	int tmp = open("/tmp", O_PATH | O_DIRECTORY);
	assert_int_equal(repofs_remove(tmp, l->dir + strlen("/tmp/")), 0);
	close(tmp);
	assert_int_equal(access(l->dir, F_OK), -1);
}

static void test_scan_of_a_real_tree(void **state)
{
	(void)state;
	struct layers l;
	struct upper_scan scan;
	struct error err;
	layers_make(&l);
	touch(l.up, "objects/pack/pack-" HEX ".pack", 0444);
	touch(l.up, "objects/pack/pack-" HEX ".idx", 0444);
	touch(l.up, "objects/ab/cdef0123456789abcdef0123456789abcdef01", 0444);
	touch(l.low, "objects/ab/cdef0123456789abcdef0123456789abcdef01", 0444);
	touch(l.up, "HEAD", 0644);
	touch(l.up, "refs/heads/main", 0644);
	assert_int_equal(symlinkat("/etc/passwd", l.up, "refs/heads/link"), 0);
	assert_int_equal(upper_scan(l.up, l.low, &scan, &err), 0);
	assert_int_equal(scan.packs.count, 2);
	assert_int_equal(scan.loose.count, 0);
	assert_int_equal(scan.copy_ups.count, 1);
	assert_int_equal(scan.refs.count, 1);
	assert_int_equal(scan.refused.count, 2); /* HEAD, the link */
	upper_scan_free(&scan);
	layers_remove(&l);
}

/* Makes DEPTH nested directories "d" under name in dir. */
static void nest(int dir, const char *name, int depth)
{
	assert_int_equal(mkdirat(dir, name, 0700), 0);
	int fd = openat(dir, name, O_RDONLY | O_DIRECTORY);
	for (int i = 0; i < depth; i++) {
		assert_int_equal(mkdirat(fd, "d", 0700), 0);
		int next = openat(fd, "d", O_RDONLY | O_DIRECTORY);
		close(fd);
		fd = next;
	}
	assert_true(fd >= 0);
	close(fd);
}

/* A refused directory is reported, not walked: however deep, the scan ends. A directory git
 * may write, nested too deep, fails the scan with its own message. Both are removed. */
static void test_scan_of_deep_trees(void **state)
{
	(void)state;
	struct layers l;
	struct upper_scan scan;
	struct error err;
	layers_make(&l);
	nest(l.up, "x", 300);
	assert_int_equal(upper_scan(l.up, l.low, &scan, &err), 0);
	assert_int_equal(scan.refused.count, 1);
	assert_string_equal(scan.refused.items[0], "x is a directory git does not write");
	upper_scan_free(&scan);
	assert_int_equal(mkdirat(l.up, "refs", 0700), 0);
	int refs = openat(l.up, "refs", O_RDONLY | O_DIRECTORY);
	nest(refs, "heads", 300);
	close(refs);
	assert_int_equal(upper_scan(l.up, l.low, &scan, &err), -1);
	assert_string_equal(err.message, "git wrote directories nested too deep to read");
	layers_remove(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_kind_of_entry),
	    cmocka_unit_test(test_scan_of_a_real_tree),
	    cmocka_unit_test(test_scan_of_deep_trees),
	};
	return cmocka_run_group_tests_name("upper", tests, NULL, NULL);
}

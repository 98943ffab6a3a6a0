/* SPDX-License-Identifier: ISC */
/* libFuzzer target for upper_classify (src/txn/upper.c): a path and facts of an entry of the
 * private layer. Only the exact object shapes may be published, and never a link, a special
 * file, a hard link or an unsafe mode. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "txn/upper.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const mode_t types[] = {S_IFREG, S_IFDIR, S_IFLNK, S_IFCHR,
				       S_IFBLK, S_IFIFO, S_IFSOCK};
	if (size < 4)
		return 0;
	struct upper_facts f = {
	    .mode = types[data[0] % 7] | (((mode_t)data[1] << 4 | data[2]) & 07777),
	    .nlink = 1 + (data[3] & 1),
	    .whiteout = data[3] & 2,
	    .opaque = data[3] & 4,
	    .in_lower = data[3] & 8,
	};
	char *path = calloc(size - 3, 1);
	memcpy(path, data + 4, size - 4);
	const char *why;
	enum upper_kind kind = upper_classify(path, &f, &why);
	if (kind == UPPER_PACK || kind == UPPER_LOOSE) {
		if (!S_ISREG(f.mode) || f.nlink != 1 || f.whiteout || f.in_lower ||
		    (f.mode & (S_ISUID | S_ISGID | S_ISVTX | S_IWGRP | S_IWOTH)) ||
		    strncmp(path, "objects/", 8) != 0 || strstr(path, ".."))
			abort();
	}
	if ((kind == UPPER_REFUSED || kind == UPPER_DELETES) && !why[0])
		abort();
	free(path);
	return 0;
}

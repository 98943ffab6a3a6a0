/* SPDX-License-Identifier: ISC */
#include "txn/refs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/packed.h"
#include "common/repofs.h"

static enum ref_kind packed_value(int repo_fd, const char *ref, char oid[RELAY_OID_HEX + 1])
{
	struct packed_ref found;
	struct stat st;
	int fd = repofs_open_file(repo_fd, "packed-refs");
	if (fd < 0)
		return errno == ENOENT ? REF_ABSENT : REF_UNREADABLE;
	int rc = fstat(fd, &st) == 0 && S_ISREG(st.st_mode)
		     ? packed_find_in_file(fd, 0, (uint64_t)st.st_size, ref, &found)
		     : -1;
	if (rc < 0) {
		/* Unsorted (a git older than 2.16 wrote it): read it whole. */
		char *data;
		size_t len;
		if (repofs_read(repo_fd, "packed-refs", 1ULL << 31, &data, &len) == 0) {
			rc = packed_find(data, len, ref, &found);
			free(data);
		}
	}
	close(fd);
	if (rc < 0)
		return REF_UNREADABLE;
	if (rc == 0)
		return REF_ABSENT;
	memcpy(oid, found.oid, RELAY_OID_HEX + 1);
	return REF_OID;
}

enum ref_kind refs_current(int repo_fd, const char *ref, char oid[RELAY_OID_HEX + 1])
{
	char *data;
	size_t len;
	memcpy(oid, relay_zero_id, RELAY_OID_HEX + 1);
	if (strncmp(ref, "refs/", 5) != 0)
		return REF_UNREADABLE;
	if (repofs_read(repo_fd, ref, 4096, &data, &len) != 0) {
		/* No loose file (or a directory of refs by that name): the packed entry, if any. */
		if (errno == ENOENT || errno == EINVAL || errno == ENOTDIR)
			return packed_value(repo_fd, ref, oid);
		return REF_UNREADABLE;
	}
	char value[OID_HEX_LEN + 1];
	const char *target;
	size_t target_len;
	enum packed_loose kind = packed_parse_loose(data, len, value, &target, &target_len);
	free(data);
	if (kind == PACKED_LOOSE_SYMBOLIC)
		return REF_SYMBOLIC;
	if (kind != PACKED_LOOSE_OID)
		return REF_UNREADABLE;
	memcpy(oid, value, RELAY_OID_HEX + 1);
	return REF_OID;
}

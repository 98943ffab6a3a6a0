/* SPDX-License-Identifier: ISC */
/* One line of a key file (USER.pub): "TYPE BLOB [COMMENT]". Pure; a fuzz target calls it. */
#ifndef GITCAGE_KEYLINE_H
#define GITCAGE_KEYLINE_H

#include <stddef.h>

#include "common/util.h"

/* The longest line taken: an RSA key of 16384 bits is about 2.8 KiB of base64. A longer line
 * is refused whole, never split (a split line's tail would read as a key of its own). */
#define KEYS_LINE_MAX (64u * 1024)

struct key_line {
	const char *type; /* one of the types sshd takes for users; static */
	const char *blob; /* base64, inside the line given */
	size_t blob_len;
};

/* line: len bytes, without the newline, not necessarily NUL-terminated; may hold anything.
 * Returns 1 and fills out for a key; 0 for a line to pass over in silence (blank, a comment);
 * -1 with the reason in err for anything else (options before the key, an unknown type, a
 * malformed blob, a NUL or control character, a line longer than KEYS_LINE_MAX). */
int keys_parse_line(const char *line, size_t len, struct key_line *out, struct error *err);

#endif

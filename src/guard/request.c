/* SPDX-License-Identifier: ISC */
/* The request both cages read on stdin (contract.h), in gitcage-index and gitcage-guard alike:
 * no libgit2 here. */
#include <stdio.h>
#include <unistd.h>

#include "common/contract.h"
#include "common/util.h"
#include "guard/verify.h"

static int read_stdin(struct strbuf *in)
{
	char chunk[16384];
	ssize_t n;
	while ((n = read(STDIN_FILENO, chunk, sizeof(chunk))) > 0)
		if (in->len + (size_t)n > RELAY_MAX_BYTES)
			return -1;
		else
			strbuf_add(in, chunk, (size_t)n);
	return n < 0 ? -1 : 0;
}

int guard_read_request(struct check_request *req)
{
	struct strbuf in = {0};
	struct error err = {""};
	int read = read_stdin(&in);
	if (read == 0 && in.len == 0)
		return 0; /* started ahead of need, and not needed */
	if (read != 0 || check_parse_request(in.data, in.len, req, &err)) {
		fprintf(stderr, "bad request: %s\n", read ? "too long" : err.message);
		strbuf_free(&in);
		return -1;
	}
	strbuf_free(&in);
	return 1;
}

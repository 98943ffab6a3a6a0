/* SPDX-License-Identifier: ISC */
/* libFuzzer target for relay_parse_request (src/common/relay.c): the request comes from inside
 * the sandbox. An accepted request must keep every promise of the format (40-hex ids, refs
 * of printable bytes without blanks, bounded counts) and survive a round trip unchanged. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/relay.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "invariant broken: %s\n", what);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct relay_request req, back;
	struct error err;
	struct strbuf text = {0};
	if (relay_parse_request((const char *)data, size, &req, &err) != 0) {
		check(err.message[0] != '\0', "a refusal without a reason");
		return 0;
	}
	check(req.count > 0 && req.count <= RELAY_MAX_COMMANDS, "command count");
	check(req.option_count <= RELAY_MAX_OPTIONS, "option count");
	for (size_t i = 0; i < req.count; i++) {
		check(relay_is_oid(req.commands[i].old_id, strlen(req.commands[i].old_id)),
		      "old id");
		check(relay_is_oid(req.commands[i].new_id, strlen(req.commands[i].new_id)),
		      "new id");
		for (const unsigned char *c = (const unsigned char *)req.commands[i].ref; *c; c++)
			check(*c > ' ' && *c != 0x7f, "a blank or control byte in a ref");
	}
	relay_format_request(&req, &text);
	check(relay_parse_request(text.data, text.len, &back, &err) == 0, "round trip");
	check(back.count == req.count && back.atomic == req.atomic, "round trip changed it");
	for (size_t i = 0; i < req.count; i++)
		check(strcmp(back.commands[i].ref, req.commands[i].ref) == 0, "round trip ref");
	relay_request_free(&back);
	relay_request_free(&req);
	strbuf_free(&text);
	return 0;
}

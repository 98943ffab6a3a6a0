/* SPDX-License-Identifier: ISC */
/* libFuzzer target for check_parse_facts (src/common/contract.c): the answer of a verifier
 * that parsed hostile objects. Whatever it says, the facts read back stay in their domains. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/contract.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const types[] = {"commit", "tree", "blob", "tag", "-"};
	struct check_request req = {0};
	struct error err;
	check_add_command(&req, relay_zero_id, relay_zero_id, "refs/heads/a", true);
	check_add_command(&req, relay_zero_id, relay_zero_id, "refs/heads/b", false);
	if (check_parse_facts((const char *)data, size, &req, &err) == 0) {
		for (size_t i = 0; i < req.count; i++) {
			int known = 0;
			for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++)
				known |= strcmp(req.commands[i].type, types[t]) == 0;
			if (!known || req.commands[i].ff > CHECK_FF_NO)
				abort();
		}
		for (const unsigned char *c = (const unsigned char *)req.objects_reason; *c; c++)
			if (*c < ' ' || *c == 0x7f)
				abort();
	}
	check_request_free(&req);
	return 0;
}

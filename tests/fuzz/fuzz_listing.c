/* SPDX-License-Identifier: ISC */
/* libFuzzer target for refdiff_parse and journal_parse (src/txn): git's ref listing from the
 * session's view (hostile) and the journal. Every entry kept has a 40-hex id and a ref under
 * refs/ without blanks; the listing comes out sorted. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "txn/journal.h"
#include "txn/refdiff.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ref_listing listing;
	struct journal_changes changes = {0};
	refdiff_parse((const char *)data, size, &listing);
	for (size_t i = 0; i < listing.count; i++) {
		const struct journal_entry *e = &listing.items[i];
		if (!relay_is_oid(e->new_id, strlen(e->new_id)) || strncmp(e->ref, "refs/", 5) ||
		    strchr(e->ref, ' ') || strchr(e->ref, '\n') ||
		    (i && strcmp(listing.items[i - 1].ref, e->ref) > 0))
			abort();
	}
	refdiff_free(&listing);
	journal_parse((const char *)data, size, &changes);
	for (size_t i = 0; i < changes.count; i++)
		for (size_t j = 0; j < i; j++)
			if (strcmp(changes.items[i].ref, changes.items[j].ref) == 0)
				abort(); /* each ref once, with its first old value */
	journal_changes_free(&changes);
	return 0;
}

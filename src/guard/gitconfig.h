/* SPDX-License-Identifier: ISC */
/* A reader of git's config syntax, following git's own config.c, that reports each
 * variable as written and never follows include.path: an admin's audit must not be led to
 * read a FIFO or another file. Anything git would refuse is an error. Pure code. */
#ifndef GITCAGE_GITCONFIG_H
#define GITCAGE_GITCONFIG_H

#include <stddef.h>

#include "common/util.h"

/* One variable: section and key lowercased (git compares them so), subsection as written
 * (NULL when none; lowercased for the old [section.sub] form, as git does), value NULL for
 * a bare key ("boolean true"). Return non-zero to stop. */
typedef int (*gitconfig_fn)(const char *section, const char *subsection, const char *key,
			    const char *value, int line, void *payload);

/* Returns 0, the callback's stop value, or -1 with "line N: why" in err. */
int gitconfig_parse(const char *text, size_t len, gitconfig_fn fn, void *payload,
		    struct error *err);

#endif

/* SPDX-License-Identifier: ISC */
/* What `ssh git@host info` and `help` print (and a bare login, which is info). */
#ifndef GITCAGE_INFO_H
#define GITCAGE_INFO_H

#include <stdio.h>
#include <sys/types.h>

#include "common/config.h"

/* gitolite's info: a greeting with the version, then the repository patterns the user may
 * create under (with R, W and C as they would apply to them), then each repository beneath
 * root_fd the user may read, with R and W. Each once, sorted, as "<perms>\t<name>". Only
 * repositories that can be served (owned by owner, a safe layout) are listed. */
void info_print(FILE *out, const struct config *cfg, int root_fd, const char *root_path,
		uid_t owner, const char *user);

/* The commands a user may send over ssh. */
void info_help(FILE *out, const char *user);

#endif

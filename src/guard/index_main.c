/* SPDX-License-Identifier: ISC */
/*
 * gitcage-index GIT REPO STAGE CHECKED < request
 *   the first cage of a push's (or a run's) objects: GIT indexes and fsck's them into CHECKED
 *   (index.c). A program of its own, linked without libgit2: the cage runs git, never
 *   libgit2, and it starts in a tenth of the time gitcage-guard takes to load libgit2 and
 *   the eighteen libraries behind it.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/contract.h"
#include "guard/verify.h"

int main(int argc, char **argv)
{
	if (argc != 5) {
		fputs("usage: gitcage-index GIT REPO STAGE CHECKED < request\n"
		      "gitcage runs it; see gitcage(1).\n",
		      stderr);
		return GUARD_EXIT_USAGE;
	}
	return guard_index(argv[1], argv[2], argv[3], argv[4]);
}

/* SPDX-License-Identifier: ISC */
/*
 * gitcage-guard, the one program that links libgit2 (so that the fetch path never loads it):
 *   gitcage-guard check REPO STAGE    the facts about what a push brought (contract.h), in
 *                                     a sandbox with nothing writable at all, no network,
 *                                     after gitcage-index (index_main.c) indexed it
 *   gitcage-guard verify [--config FILE] [--] DIR...
 *                                     `gitcage verify`: the admin's offline audit
 * It writes nothing: what is published, gitcage's publisher decides and does.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "common/contract.h"
#include "common/util.h"
#include "guard/verify.h"

static _Noreturn void usage(void)
{
	fputs("usage: gitcage-guard check REPO STAGE < request\n"
	      "       gitcage-guard verify [--config FILE] [--] DIR...\n"
	      "gitcage runs it; see gitcage(1).\n",
	      stderr);
	_exit(GUARD_EXIT_USAGE);
}

static int guard_verify(int argc, char **argv)
{
	struct config cfg;
	struct config_errors errors = {0};
	int first = 1, findings = 0;
	config_init(&cfg);
	if (argc > 3 && strcmp(argv[1], "--config") == 0) {
		if (config_load(argv[2], getuid(), &cfg, &errors) != 0) {
			for (size_t i = 0; i < errors.count; i++)
				warn_line("%s", errors.lines[i]);
			return EXIT_GITCAGE;
		}
		first = 3;
	}
	if (first < argc && strcmp(argv[first], "--") == 0)
		first++;
	if (first >= argc)
		usage();
	for (int i = first; i < argc; i++)
		findings += verify_offline(argv[i], cfg.repositories, stdout);
	fflush(stdout);
	config_free(&cfg);
	config_errors_free(&errors);
	return findings ? GUARD_EXIT_FINDINGS : 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		usage();
	if (strcmp(argv[1], "check") == 0 && argc == 4)
		return guard_check(argv[2], argv[3]);
	if (strcmp(argv[1], "verify") == 0)
		return guard_verify(argc - 1, argv + 1);
	usage();
}

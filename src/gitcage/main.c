/* SPDX-License-Identifier: ISC */
/* gitcage: verb dispatch only. Each verb lives in its own file (verbs.h). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "common/config.h"
#include "sandbox/hygiene.h"
#include "sandbox/landlock.h"
#include "sandbox/privs.h"
#include "common/util.h"
#include "gitcage/verbs.h"

static const char usage_text[] =
    "usage: gitcage [--config FILE] serve USER\n"
    "       gitcage [--config FILE] run [--repo DIR [--writable]] [--] COMMAND [ARG...]\n"
    "       gitcage [--config FILE] verify DIR...\n"
    "       gitcage [--config FILE] keys [TYPE BLOB]\n"
    "       gitcage [--config FILE] access [-q] USER REPO [PERM [REF]]\n"
    "       gitcage [--config FILE] create REPO [--owner USER]\n"
    "       gitcage import-gitolite [--keydir DIR] GITOLITE_CONF\n"
    "       gitcage [--config FILE] check-config\n"
    "       gitcage --version | --help\n"
    "\n"
    "  serve USER      the forced command of USER's ssh keys; reads SSH_ORIGINAL_COMMAND\n"
    "  run             run COMMAND in the sandbox; only DIR is visible, and writable\n"
    "                  only with --writable (its config, hooks/, info/ stay read-only)\n"
    "  verify DIR...   check repositories offline; non-zero if anything is wrong\n"
    "  keys            print authorized_keys lines (for AuthorizedKeysCommand: %t %k)\n"
    "  access          what the rules decide for USER on REPO (exit 0 allowed, 1 denied),\n"
    "                  and which line decided; PERM R, W, +, C, D (default +), REF any\n"
    "  create          make a bare repository owned by the service account; --owner\n"
    "                  records USER as its creator (CREATOR in the rules)\n"
    "  import-gitolite print a gitcage.conf equivalent to a gitolite.conf; with --keydir,\n"
    "                  copy gitolite's keydir (beside conf/) into DIR\n"
    "  check-config    report every error in the config file\n"
    "\n"
    "The default config is " GITCAGE_CONFIG_PATH "; run works without one.\n"
    "\n"
    "Exit status: the command's own, or 128+N when a signal N killed it;\n"
    "  124  the [limits] timeout killed the sandbox\n"
    "  125  gitcage refused the request or failed (the message says why)\n"
    "  126  the command could not be executed\n"
    "  127  the command was not found in the sandbox\n";

struct verb {
	const char *name;
	int (*main)(const struct global_options *options, int argc, char **argv);
};

static const struct verb verbs[] = {
    {"serve", verb_serve},
    {"run", verb_run},
    {"verify", verb_verify},
    {"keys", verb_keys},
    {"check-config", verb_check_config},
    {"access", verb_access},
    {"create", verb_create},
    {"import-gitolite", verb_import_gitolite},
};

static _Noreturn void usage(int status)
{
	char landlock[160];
	fputs(usage_text, status ? stderr : stdout);
	if (status == 0) {
		/* Which walls stand depends on the kernel: say so where an admin looks first. */
		landlock_describe(landlock, sizeof(landlock));
		printf("\nThe sandbox on this kernel: namespaces, seccomp, %s.\n", landlock);
	}
	exit(status ? EXIT_GITCAGE : 0);
}

int main(int argc, char **argv)
{
	static const struct option long_options[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	struct global_options options = {GITCAGE_CONFIG_PATH, 0};
	/* Before anything else: nothing inherited may leak into what we start, and nothing we
	 * exec may ever gain privileges. */
	hygiene_fds();
	privs_no_new_privs();
	privs_reset_persona();
	hygiene_environment();
	int opt;
	while ((opt = getopt_long(argc, argv, "+h", long_options, NULL)) != -1) {
		if (opt == 'c')
			options = (struct global_options){optarg, 1};
		else if (opt == 'h')
			usage(0);
		else if (opt == 'V')
			return puts("gitcage " GITCAGE_VERSION) < 0;
		else
			usage(1);
	}
	if (optind >= argc)
		usage(1);
	for (size_t i = 0; i < ARRAY_SIZE(verbs); i++)
		if (strcmp(argv[optind], verbs[i].name) == 0)
			return verbs[i].main(&options, argc - optind, argv + optind);
	die("unknown command '%s' (see gitcage --help)", argv[optind]);
}

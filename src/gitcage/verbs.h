/* SPDX-License-Identifier: ISC */
/* The verbs: thin front ends over the modules. Each returns gitcage's exit status. */
#ifndef GITCAGE_VERBS_H
#define GITCAGE_VERBS_H

#include "common/config.h"

struct global_options {
	const char *config_path; /* --config, or the default */
	int config_explicit;	 /* --config was given: the file must exist */
};

/* Load the config named by the options into cfg, printing every error and exiting
 * EXIT_GITCAGE on any. optional is for the verbs that need no config and give the caller no
 * more than the caller's own rights (run, verify): the default file may then be absent (cfg
 * keeps its defaults), and a file named with --config may be the caller's own. Otherwise the
 * file, and every directory above it, must be root's (config_load). */
void verbs_load_config(const struct global_options *options, int optional, struct config *cfg);

/* With audit-required = yes, exit with one line unless an audit record can be written now. */
void verbs_require_audit(const struct config *cfg);

int verb_run(const struct global_options *options, int argc, char **argv);
int verb_serve(const struct global_options *options, int argc, char **argv);
int verb_check_config(const struct global_options *options, int argc, char **argv);
int verb_keys(const struct global_options *options, int argc, char **argv);
int verb_verify(const struct global_options *options, int argc, char **argv);
int verb_access(const struct global_options *options, int argc, char **argv);
int verb_create(const struct global_options *options, int argc, char **argv);
int verb_import_gitolite(const struct global_options *options, int argc, char **argv);

#endif

/* SPDX-License-Identifier: ISC */
/* What the verbs share: loading the config once, with every error shown. */
#include "gitcage/verbs.h"

#include <errno.h>
#include <unistd.h>

#include "common/audit.h"
#include "common/util.h"

void verbs_load_config(const struct global_options *options, int optional, struct config *cfg)
{
	struct config_errors errors = {0};
	config_init(cfg);
	if (optional && !options->config_explicit && access(options->config_path, F_OK) != 0 &&
	    errno == ENOENT)
		return; /* no config: safe defaults */
	/* The verbs that work without a config (run, verify) have only the caller's rights to
	 * give: a file the caller names is trusted as the caller's own. Everywhere else, and for
	 * the default file, root alone. */
	uid_t also_trusted = optional && options->config_explicit ? getuid() : 0;
	if (config_load(options->config_path, also_trusted, cfg, &errors) == 0)
		return;
	for (size_t i = 0; i < errors.count; i++)
		warn_line("%s", errors.lines[i]);
	config_errors_free(&errors);
	config_free(cfg);
	exit(EXIT_GITCAGE);
}

void verbs_require_audit(const struct config *cfg)
{
	/* Before anything runs: a call that must leave a record must not start without one. The
	 * line reaches the client and names no server path; check-config tells the admin why. */
	if (cfg->audit_required && audit_check(cfg->audit) != 0)
		die("this server cannot record this call in its audit log, and it requires one: "
		    "try again later");
}

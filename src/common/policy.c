/* SPDX-License-Identifier: ISC */
#include "common/policy.h"

#include <fnmatch.h>

static void server_defaults(const struct config *cfg, struct policy *out)
{
	*out = (struct policy){
	    .protect = &cfg->protect,
	    .protect_line = cfg->protect_line,
	    .max_blob_size = cfg->max_blob_size,
	    .repo_hooks = cfg->repo_hooks,
	    .notify = cfg->notify,
	};
}

/* What the section sets overrides what out holds. */
static void apply_section(const struct repo_rule *rule, struct policy *out)
{
	if (rule->protect_line)
		out->protect = &rule->protect, out->protect_line = rule->protect_line;
	if (rule->max_blob_size)
		out->max_blob_size = rule->max_blob_size;
	if (rule->repo_hooks >= 0)
		out->repo_hooks = rule->repo_hooks;
	if (rule->deny_rules >= 0)
		out->deny_rules = rule->deny_rules;
	if (rule->notify)
		out->notify = rule->notify;
}

void policy_for(const struct config *cfg, const struct repo_rule *rule, struct policy *out)
{
	server_defaults(cfg, out);
	if (rule)
		apply_section(rule, out);
}

void policy_for_repo(const struct config *cfg, const char *relpath, const char *creator,
		     struct policy *out)
{
	server_defaults(cfg, out);
	for (size_t i = 0; i < cfg->repo_count; i++)
		if (config_repo_matches(cfg, &cfg->repos[i], relpath, creator))
			apply_section(&cfg->repos[i], out);
}

bool policy_protects(const struct policy *policy, const char *ref)
{
	for (size_t i = 0; i < policy->protect->count; i++)
		if (fnmatch(policy->protect->items[i], ref, 0) == 0)
			return true;
	return false;
}

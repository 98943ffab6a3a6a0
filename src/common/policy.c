/* SPDX-License-Identifier: ISC */
#include "common/policy.h"

#include <fnmatch.h>

void policy_for(const struct config *cfg, const struct repo_rule *rule, struct policy *out)
{
	out->protect = rule && rule->protect.count ? &rule->protect : &cfg->protect;
	out->max_blob_size = rule && rule->max_blob_size ? rule->max_blob_size : cfg->max_blob_size;
	out->repo_hooks = rule && rule->repo_hooks >= 0 ? rule->repo_hooks : cfg->repo_hooks;
	out->notify = rule && rule->notify ? rule->notify : cfg->notify;
}

bool policy_protects(const struct policy *policy, const char *ref)
{
	for (size_t i = 0; i < policy->protect->count; i++)
		if (fnmatch(policy->protect->items[i], ref, 0) == 0)
			return true;
	return false;
}

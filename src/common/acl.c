/* SPDX-License-Identifier: ISC */
/* Authorization. Pure: reads the parsed config, nothing else.
 *
 * Groups are searched breadth first with an explicit queue and a mark per group, so that a
 * cycle ([group a] members = @b, [group b] members = @a) ends, and so that a long chain of
 * nested groups cannot exhaust the stack. */
#include "common/acl.h"

#include <string.h>

#include "common/policy.h"

struct walk {
	const struct config *cfg;
	const char *user;
	size_t *queue; /* indexes of groups still to search */
	bool *queued;  /* per group: already in the queue once */
	size_t head, tail;
};

static void enqueue_group(struct walk *walk, const char *name)
{
	const struct config *cfg = walk->cfg;
	for (size_t i = 0; cfg && i < cfg->group_count; i++) {
		if (strcmp(cfg->groups[i].name, name) == 0) {
			if (!walk->queued[i]) {
				walk->queued[i] = true;
				walk->queue[walk->tail++] = i;
			}
			return; /* group names are unique: the parser refuses duplicates */
		}
	}
}

/* True when the list names the user or @all; queues the other @groups it names. */
static bool scan_list(struct walk *walk, const struct words *list)
{
	for (size_t i = 0; i < list->count; i++) {
		const char *word = list->items[i];
		if (word[0] != '@') {
			if (strcmp(word, walk->user) == 0)
				return true;
		} else if (strcmp(word + 1, "all") == 0) {
			return true;
		} else {
			enqueue_group(walk, word + 1);
		}
	}
	return false;
}

/* Scan start (if any), then every group reachable from it or already queued, once each. */
static bool walk_run(struct walk *walk, const struct words *start)
{
	if (start && scan_list(walk, start))
		return true;
	while (walk->head < walk->tail) {
		size_t group = walk->queue[walk->head++];
		if (scan_list(walk, &walk->cfg->groups[group].members))
			return true;
	}
	return false;
}

static void walk_init(struct walk *walk, const struct config *cfg, const char *user)
{
	size_t count = cfg ? cfg->group_count : 0;
	*walk = (struct walk){.cfg = cfg, .user = user};
	walk->queue = xcalloc(count, sizeof(*walk->queue));
	walk->queued = xcalloc(count, sizeof(*walk->queued));
}

static void walk_free(struct walk *walk)
{
	free(walk->queue);
	free(walk->queued);
}

bool acl_allows(const struct config *cfg, const struct repo_rule *rule, const char *user,
		enum access access)
{
	/* A user the config could never name must not reach @all either: "" or "alice bob" is a
	 * broken forced command, not a user. */
	if (!rule || !user || !config_valid_name(user))
		return false; /* fail closed */
	if (access != ACCESS_READ && access != ACCESS_WRITE)
		return false;
	struct walk walk;
	walk_init(&walk, cfg, user);
	/* One walk over both lists: a group searched for the write list without finding the user
	 * will not find them for the read list either. */
	bool allowed = walk_run(&walk, &rule->write);
	if (!allowed && access == ACCESS_READ)
		allowed = walk_run(&walk, &rule->read); /* write implies read */
	walk_free(&walk);
	return allowed;
}

bool acl_in_group(const struct config *cfg, const char *group, const char *user)
{
	if (!group || !user || !config_valid_name(user))
		return false;
	if (strcmp(group, "all") == 0)
		return true;
	struct walk walk;
	walk_init(&walk, cfg, user);
	enqueue_group(&walk, group);
	bool member = walk_run(&walk, NULL);
	walk_free(&walk);
	return member;
}

/* Today's rules: write access gives every ref permission but rewinding or deleting a
 * protected ref. The gitolite rule engine replaces this with per-ref rules. */
bool acl_check_ref(const struct config *cfg, const char *repo, const char *creator,
		   const char *user, enum acl_perm perm, const char *ref, struct acl_decision *why)
{
	(void)creator;
	const struct repo_rule *rule = config_find_repo(cfg, repo);
	struct policy policy;
	policy_for(cfg, rule, &policy);
	bool allowed = acl_allows(cfg, rule, user, perm == ACL_READ ? ACCESS_READ : ACCESS_WRITE);
	if (allowed && (perm == ACL_REWIND || perm == ACL_DELETE) && policy_protects(&policy, ref))
		allowed = false;
	if (why)
		*why =
		    (struct acl_decision){allowed, rule ? cfg->file : NULL, rule ? rule->line : 0};
	return allowed;
}

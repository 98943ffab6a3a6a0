/* SPDX-License-Identifier: ISC */
/* Authorization, with gitolite's rules (acl.h). Pure: reads the parsed config, nothing else.
 *
 * Groups are searched breadth first with an explicit queue and a mark per group, so that a
 * cycle ([group a] members = @b, [group b] members = @a) ends, and so that a long chain of
 * nested groups cannot exhaust the stack. */
#include "common/acl.h"

#include <regex.h>
#include <stdio.h>
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

/* Every group already queued, and every group reachable from them, once each. */
static bool walk_run(struct walk *walk)
{
	while (walk->head < walk->tail) {
		size_t group = walk->queue[walk->head++];
		if (scan_list(walk, &walk->cfg->groups[group].members))
			return true;
	}
	return false;
}

/* A user the config could never name must not reach @all either: "" or "alice bob" is a
 * broken forced command, not a user; CREATOR is a role, never a login. */
static bool user_ok(const char *user)
{
	return user && config_valid_user(user) && strcmp(user, "CREATOR") != 0;
}

bool acl_in_group(const struct config *cfg, const char *group, const char *user)
{
	if (!group || !user_ok(user))
		return false;
	if (strcmp(group, "all") == 0)
		return true;
	size_t count = cfg ? cfg->group_count : 0;
	struct walk walk = {.cfg = cfg, .user = user};
	walk.queue = xcalloc(count, sizeof(*walk.queue));
	walk.queued = xcalloc(count, sizeof(*walk.queued));
	enqueue_group(&walk, group);
	bool member = walk_run(&walk);
	free(walk.queue);
	free(walk.queued);
	return member;
}

/* ---- one question ---- */

struct query {
	const struct config *cfg;
	const struct acl_repo *repo;
	const char *creator; /* for matching sections: the user when the repository is missing */
	const char *user;
	const char *ref; /* NULL: any */
	bool deny_rules;
	signed char *member; /* per group: 0 unknown, 1 member, -1 not */
};

static bool in_group_cached(struct query *q, const char *name)
{
	for (size_t i = 0; i < q->cfg->group_count; i++) {
		if (strcmp(q->cfg->groups[i].name, name) != 0)
			continue;
		if (!q->member[i])
			q->member[i] = acl_in_group(q->cfg, name, q->user) ? 1 : -1;
		return q->member[i] > 0;
	}
	return false;
}

/* CREATOR is whoever created an existing repository; nobody is, before it exists. */
static bool names_user(struct query *q, const struct words *who)
{
	for (size_t i = 0; i < who->count; i++) {
		const char *word = who->items[i];
		if (strcmp(word, "@all") == 0 || strcmp(word, q->user) == 0)
			return true;
		if (strcmp(word, "CREATOR") == 0 && !q->repo->missing && q->repo->creator &&
		    strcmp(q->repo->creator, q->user) == 0)
			return true;
		if (word[0] == '@' && in_group_cached(q, word + 1))
			return true;
	}
	return false;
}

/* text with every character a regular expression gives a meaning quoted, into out. */
static bool regex_quote(const char *text, char *out, size_t size)
{
	size_t n = 0;
	for (; *text; text++) {
		if (n + 3 > size)
			return false;
		if (strchr(".[]()*+?{}|^$\\", *text))
			out[n++] = '\\';
		out[n++] = *text;
	}
	out[n] = '\0';
	return true;
}

/* gitolite's s(/USER/)(/$user/): the first /USER/ of a pattern is the asking user. Unlike
 * gitolite, the name is quoted: "al.ce" is not a pattern that matches alice's branches. */
static bool ref_matches(const struct query *q, const struct rule_ref *pattern)
{
	if (!q->ref)
		return true;
	if (pattern->compiled)
		return regexec(&pattern->regex, q->ref, 0, NULL, 0) == 0;
	const char *at = strstr(pattern->text, "/USER/");
	char *text, user[256];
	regex_t regex;
	if (!at || !regex_quote(q->user, user, sizeof(user)) ||
	    asprintf(&text, "^%.*s/%s/%s", (int)(at - pattern->text), pattern->text, user, at + 6) <
		0)
		return false; /* fail closed */
	int rc = regcomp(&regex, text, REG_EXTENDED | REG_NOSUB);
	free(text);
	if (rc != 0)
		return false;
	bool match = regexec(&regex, q->ref, 0, NULL, 0) == 0;
	regfree(&regex);
	return match;
}

/* Whether a rule's permission holds perm, as gitolite matches its permission strings. */
static bool grants(unsigned bits, enum acl_perm perm)
{
	switch (perm) {
	case ACL_READ:
		return bits & RULE_R;
	case ACL_WRITE:
		return bits & RULE_W;
	case ACL_REWIND:
		return bits & RULE_REWIND;
	case ACL_CREATE:
		return (bits & RULE_W) && (bits & RULE_C); /* "RW.*C" */
	case ACL_DELETE:
		return bits & RULE_D;
	case ACL_CREATE_REPO:
		return bits == RULE_C; /* the "C" rule alone */
	}
	return false;
}

static bool section_matches(const struct query *q, const struct repo_rule *section)
{
	return config_repo_matches(q->cfg, section, q->repo->name, q->creator);
}

static void decided(const struct query *q, const struct access_rule *rule, bool allowed,
		    struct acl_decision *why)
{
	*why = (struct acl_decision){allowed, q->cfg->file, rule->line, rule->text, false};
}

/* gitolite's access(): the first rule for the user whose pattern matches decides. */
static bool evaluate(struct query *q, enum acl_perm perm, struct acl_decision *why)
{
	for (size_t s = 0; s < q->cfg->repo_count; s++) {
		const struct repo_rule *section = &q->cfg->repos[s];
		if (!section_matches(q, section))
			continue;
		for (size_t r = 0; r < section->rule_count; r++) {
			const struct access_rule *rule = &section->rules[r];
			bool deny = rule->bits & RULE_DENY;
			if ((deny && !q->ref && !q->deny_rules) || !names_user(q, &rule->who))
				continue;
			for (size_t i = 0; i < rule->ref_count; i++) {
				if (!ref_matches(q, &rule->refs[i]))
					continue;
				if (deny || grants(rule->bits, perm)) {
					decided(q, rule, !deny, why);
					return !deny;
				}
			}
		}
	}
	*why = (struct acl_decision){0};
	return false;
}

/* Whether any rule of a matching section, for anyone, holds the bit: RWC and RWD change what
 * creating and deleting need, for the whole repository, once used (gitolite's CREATE_IS_C
 * and DELETE_IS_D). */
static bool repo_uses(const struct query *q, unsigned bit)
{
	for (size_t s = 0; s < q->cfg->repo_count; s++) {
		const struct repo_rule *section = &q->cfg->repos[s];
		if (!section_matches(q, section))
			continue;
		for (size_t r = 0; r < section->rule_count; r++) {
			unsigned bits = section->rules[r].bits;
			if ((bit == RULE_C && (bits & RULE_W) && (bits & RULE_C)) ||
			    (bit == RULE_D && (bits & RULE_D)))
				return true;
		}
	}
	return false;
}

static enum acl_perm adjust(const struct query *q, enum acl_perm perm)
{
	if (perm == ACL_CREATE && !repo_uses(q, RULE_C))
		return ACL_WRITE;
	if (perm == ACL_DELETE && !repo_uses(q, RULE_D))
		return ACL_REWIND;
	return perm;
}

/* protect: no rewind and no deletion of these refs, whatever the rules say. */
static bool protect_vetoes(const struct query *q, enum acl_perm perm, struct acl_decision *why)
{
	struct policy policy;
	if (!q->ref || (perm != ACL_REWIND && perm != ACL_DELETE))
		return false;
	policy_for_repo(q->cfg, q->repo->name, q->creator, &policy);
	if (!policy_protects(&policy, q->ref))
		return false;
	*why = (struct acl_decision){false, q->cfg->file, policy.protect_line, "protect", true};
	return true;
}

/* A repository that does not exist answers nothing before it may be created (gitolite: ^C
 * is a prerequisite); one that exists may not be created again. */
static bool creation_gate(struct query *q, enum acl_perm perm, struct acl_decision *why)
{
	if (q->repo->pattern)
		return true;
	if (perm == ACL_CREATE_REPO && !q->repo->missing) {
		*why = (struct acl_decision){0};
		return false;
	}
	if (perm != ACL_CREATE_REPO && q->repo->missing)
		return evaluate(q, ACL_CREATE_REPO, why);
	return true;
}

static bool answer(struct query *q, enum acl_perm perm, struct acl_decision *why)
{
	struct policy policy;
	policy_for_repo(q->cfg, q->repo->name, q->creator, &policy);
	q->deny_rules = policy.deny_rules;
	if (!creation_gate(q, perm, why))
		return false;
	perm = adjust(q, perm);
	if (!evaluate(q, perm, why))
		return false;
	return !protect_vetoes(q, perm, why);
}

bool acl_check(const struct config *cfg, const struct acl_repo *repo, const char *user,
	       enum acl_perm perm, const char *ref, struct acl_decision *why)
{
	struct acl_decision ignored;
	why = why ? why : &ignored;
	*why = (struct acl_decision){0};
	if (!cfg || !repo || !repo->name || !user_ok(user))
		return false; /* fail closed */
	if (ref && strcmp(ref, "any") == 0)
		ref = NULL;
	struct query q = {
	    .cfg = cfg,
	    .repo = repo,
	    .creator = repo->missing || repo->pattern ? user : repo->creator,
	    .user = user,
	    .ref = ref,
	    .member = xcalloc(cfg->group_count + 1, 1),
	};
	bool allowed = answer(&q, perm, why);
	free(q.member);
	return allowed;
}

bool acl_check_ref(const struct config *cfg, const char *repo, const char *creator,
		   const char *user, enum acl_perm perm, const char *ref, struct acl_decision *why)
{
	struct acl_repo target = {.name = repo, .creator = creator};
	if (!ref || strcmp(ref, "any") == 0) {
		if (why)
			*why = (struct acl_decision){0};
		return false; /* the publisher always knows the ref */
	}
	return acl_check(cfg, &target, user, perm, ref, why);
}

bool acl_repo_allows(const struct config *cfg, const char *repo, const char *creator,
		     const char *user, enum acl_perm perm, struct acl_decision *why)
{
	struct acl_repo target = {.name = repo, .creator = creator};
	if (perm != ACL_READ && perm != ACL_WRITE) {
		if (why)
			*why = (struct acl_decision){0};
		return false;
	}
	return acl_check(cfg, &target, user, perm, NULL, why);
}

bool acl_may_create(const struct config *cfg, const char *name, const char *user,
		    struct acl_decision *why)
{
	struct acl_repo target = {.name = name, .missing = true};
	return acl_check(cfg, &target, user, ACL_CREATE_REPO, NULL, why);
}

static const char *perm_verb(enum acl_perm perm)
{
	switch (perm) {
	case ACL_READ:
		return "read";
	case ACL_WRITE:
		return "push to";
	case ACL_REWIND:
		return "rewind";
	case ACL_CREATE:
		return "create";
	case ACL_DELETE:
		return "delete";
	case ACL_CREATE_REPO:
		return "create the repository";
	}
	return "change";
}

char *acl_refusal_message(char *buf, size_t size, const char *user, enum acl_perm perm,
			  const char *ref)
{
	snprintf(buf, size, "%s may not %s%s%s", user, perm_verb(perm), ref ? " " : "",
		 ref ? ref : "");
	return buf;
}

char *acl_describe(char *buf, size_t size, const struct acl_decision *why)
{
	if (!why->file || !why->line)
		snprintf(buf, size, "no rule matched");
	else if (why->protect)
		snprintf(buf, size, "%s:%d: protected (no rewind, no deletion)", why->file,
			 why->line);
	else
		snprintf(buf, size, "%s:%d: %s", why->file, why->line, why->rule);
	return buf;
}

/* SPDX-License-Identifier: ISC */
/* libFuzzer target for gitcage.conf (src/common/config_ini.c, config.c, config_repo.c): the
 * bytes as config_parse_fd reads them. The count returned is the number of "NAME:LINE: ..."
 * lines, each naming a line of the file; a second parse says the same; and a config parsed
 * without an error keeps what config.h promises: absolute paths without control characters,
 * valid and unique group names, principals that are users, @groups that exist, @all or
 * CREATOR, ref patterns under refs/, no limit of 0 where 0 would break the sandbox, no @group
 * left in a [repo] header, and each repository a header names is found by that header. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NAME "fuzz.conf"

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "invariant broken: %s\n", what);
		abort();
	}
}

static int has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

static void check_path(const char *path, int may_be_null)
{
	if (!path) {
		check(may_be_null, "a path missing");
		return;
	}
	check(path[0] == '/' && !has_control(path), "a path not absolute or with a control byte");
}

static void check_errors(const struct config_errors *errors, size_t count, long lines)
{
	check(errors->count == count, "the count is not the number of error lines");
	for (size_t i = 0; i < errors->count; i++) {
		const char *e = errors->lines[i];
		char *end;
		check(strncmp(e, NAME ":", strlen(NAME ":")) == 0,
		      "an error without the file name");
		long line = strtol(e + strlen(NAME ":"), &end, 10);
		check(end != e + strlen(NAME ":") && strncmp(end, ": ", 2) == 0,
		      "an error without a line");
		check(line >= 0 && line <= lines, "an error naming a line the file does not have");
	}
}

static int group_exists(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->group_count; i++)
		if (strcmp(cfg->groups[i].name, name) == 0)
			return 1;
	return 0;
}

static void check_principal(const struct config *cfg, const char *word)
{
	if (word[0] == '@')
		check(strcmp(word, "@all") == 0 || group_exists(cfg, word + 1),
		      "an @group that does not exist");
	else
		check(config_valid_user(word), "a principal that is no user name");
}

static void check_groups(const struct config *cfg)
{
	for (size_t i = 0; i < cfg->group_count; i++) {
		const struct config_group *g = &cfg->groups[i];
		check(config_valid_name(g->name) && strcmp(g->name, "all") != 0, "a group name");
		for (size_t j = 0; j < i; j++)
			check(strcmp(cfg->groups[j].name, g->name) != 0, "a group defined twice");
		for (size_t j = 0; j < g->members.count; j++) {
			const char *m = g->members.items[j];
			check(config_valid_user(m) || config_repo_word_problem(m) == NULL,
			      "a group member that is neither a user nor a repository");
			if (m[0] == '@')
				check_principal(cfg, m);
		}
	}
}

static void check_rule(const struct config *cfg, const struct access_rule *rule)
{
	check(rule->bits != 0 && rule->who.count > 0 && rule->ref_count > 0, "an empty rule");
	for (size_t i = 0; i < rule->ref_count; i++)
		check(strncmp(rule->refs[i].text, "refs/", 5) == 0 &&
			  !has_control(rule->refs[i].text),
		      "a ref pattern outside refs/");
	for (size_t i = 0; i < rule->who.count; i++)
		if (strcmp(rule->who.items[i], "CREATOR") != 0)
			check_principal(cfg, rule->who.items[i]);
}

static void check_repo(const struct config *cfg, const struct repo_rule *repo)
{
	check(repo->word_count > 0, "a [repo] header that names nothing");
	for (size_t i = 0; i < repo->word_count; i++) {
		const struct repo_word *w = &repo->words[i];
		check(w->kind != REPO_WORD_GROUP, "an @group left in a [repo] header");
		if (w->kind != REPO_WORD_NAME)
			continue;
		/* The name as a request names it: "team/demo.git". */
		char *path = malloc(strlen(w->text) + 5);
		sprintf(path, "%s.git", w->text);
		check(config_repo_matches(cfg, repo, path, NULL), "a header misses its own name");
		const struct repo_rule *found = config_find_repo(cfg, path);
		check(found != NULL && found <= repo, "config_find_repo misses a named repository");
		free(path);
	}
	for (size_t i = 0; i < repo->rule_count; i++)
		check_rule(cfg, &repo->rules[i]);
	for (size_t i = 0; i < repo->protect.count; i++)
		check(strncmp(repo->protect.items[i], "refs/", 5) == 0,
		      "a protected ref outside refs/");
}

/* What a config without errors promises. */
static void check_config(const struct config *cfg)
{
	check_path(cfg->repositories, 1);
	check_path(cfg->git, 0);
	check_path(cfg->keys, 1);
	check_path(cfg->hooks, 0);
	check_path(cfg->state, 1);
	check_path(cfg->push_cert_seed, 1);
	check_path(cfg->notify, 1);
	check_path(cfg->limits.cgroup, 1);
	check(strcmp(cfg->audit, "syslog") == 0 || cfg->audit[0] == '/', "audit");
	check(!has_control(cfg->audit) && !has_control(cfg->default_branch), "control bytes");
	check(cfg->default_branch[0] && cfg->default_branch[0] != '-' &&
		  !strchr(cfg->default_branch, ' '),
	      "a default branch git could take for an option");
	const struct limits *l = &cfg->limits;
	check(l->cpu && l->memory && l->processes && l->files && l->filesize && l->tmp,
	      "a limit of 0");
	for (size_t i = 0; i < cfg->protect.count; i++)
		check(strncmp(cfg->protect.items[i], "refs/", 5) == 0,
		      "a protected ref outside refs/");
	check_groups(cfg);
	for (size_t i = 0; i < cfg->repo_count; i++)
		check_repo(cfg, &cfg->repos[i]);
}

static size_t parse(const uint8_t *data, size_t size, struct config *cfg,
		    struct config_errors *errors)
{
	config_init(cfg);
	return config_parse_buffer((const char *)data, size, NAME, cfg, errors);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config cfg, again;
	struct config_errors errors = {0}, errors_again = {0};
	long lines = 1;
	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	size_t count = parse(data, size, &cfg, &errors);
	check_errors(&errors, count, lines);
	if (count == 0)
		check_config(&cfg);
	check(parse(data, size, &again, &errors_again) == count, "a second parse differs");
	for (size_t i = 0; i < count; i++)
		check(strcmp(errors.lines[i], errors_again.lines[i]) == 0,
		      "a second parse differs");
	config_free(&cfg);
	config_free(&again);
	config_errors_free(&errors);
	config_errors_free(&errors_again);
	return 0;
}

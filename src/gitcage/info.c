/* SPDX-License-Identifier: ISC */
#include "gitcage/info.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "common/acl.h"
#include "gitcage/repo.h"

struct listing {
	const struct config *cfg;
	const char *root_path;
	uid_t owner;
	const char *user;
	char **lines;
	size_t count;
};

static void add_line(struct listing *list, const char *perms, const char *name)
{
	char *line;
	if (asprintf(&line, "%s\t%s", perms, name) < 0)
		die("out of memory");
	for (size_t i = 0; i < list->count; i++) {
		if (strcmp(list->lines[i], line) == 0) {
			free(line);
			return; /* each once */
		}
	}
	list->lines = array_append(list->lines, list->count, sizeof(*list->lines));
	list->lines[list->count++] = line;
}

/* " R W C": gitolite's columns, blank where denied. */
static bool perms_of(struct listing *list, const struct acl_repo *repo, bool creatable, char *out)
{
	bool any = false;
	strcpy(out, "");
	for (const char *p = creatable ? "RW^" : "RW"; *p; p++) {
		bool allowed =
		    acl_check(list->cfg, repo, list->user, (enum acl_perm) * p, NULL, NULL);
		strcat(out, allowed ? (*p == '^' ? " C" : *p == 'R' ? " R" : " W") : "  ");
		any = any || allowed;
	}
	return any;
}

/* The patterns of every [repo] header, as written: what a user may create under. */
static void list_patterns(struct listing *list, struct listing *patterns)
{
	char perms[16], shown[PATH_MAX + 2];
	for (size_t i = 0; i < list->cfg->repo_count; i++) {
		const struct repo_rule *section = &list->cfg->repos[i];
		for (size_t j = 0; j < section->word_count; j++) {
			const struct repo_word *word = &section->words[j];
			if (word->kind != REPO_WORD_GLOB && word->kind != REPO_WORD_REGEX)
				continue;
			struct acl_repo repo = {.name = word->text, .pattern = true};
			snprintf(shown, sizeof(shown), "%s%s",
				 word->kind == REPO_WORD_REGEX ? "~" : "", word->text);
			if (perms_of(list, &repo, true, perms))
				add_line(patterns, perms, shown);
		}
	}
}

static int list_one(void *ctx, const char *relpath, int repo_fd)
{
	struct listing *list = ctx;
	struct error err;
	char creator[256], name[PATH_MAX], perms[16];
	if (repo_check_layout(repo_fd, list->root_path, list->owner, &err) != 0)
		return 0; /* it cannot be served: check-config names it */
	struct acl_repo repo = {.name = relpath};
	if (repo_read_creator(repo_fd, list->owner, creator, sizeof(creator)))
		repo.creator = creator;
	if (config_repo_name(relpath, name, sizeof(name)) && perms_of(list, &repo, false, perms))
		add_line(list, perms, name);
	return 0;
}

static int by_name(const void *a, const void *b)
{
	const char *x = strchr(*(char *const *)a, '\t'), *y = strchr(*(char *const *)b, '\t');
	return strcmp(x, y);
}

static void print_sorted(FILE *out, struct listing *list)
{
	qsort(list->lines, list->count, sizeof(*list->lines), by_name);
	for (size_t i = 0; i < list->count; i++) {
		fprintf(out, "%s\n", list->lines[i]);
		free(list->lines[i]);
	}
	free(list->lines);
}

void info_print(FILE *out, const struct config *cfg, int root_fd, const char *root_path,
		uid_t owner, const char *user)
{
	struct listing repos = {cfg, root_path, owner, user, NULL, 0};
	struct listing patterns = repos;
	fprintf(out, "hello %s, this is gitcage %s\n\n", user, GITCAGE_VERSION);
	list_patterns(&repos, &patterns);
	repo_walk(root_fd, list_one, &repos);
	print_sorted(out, &patterns);
	print_sorted(out, &repos);
}

void info_help(FILE *out, const char *user)
{
	fprintf(out,
		"hello %s, this is gitcage %s\n\n"
		"commands:\n"
		"\tinfo           the repositories you may reach, and the patterns you may\n"
		"\t               create repositories under (R read, W write, C create)\n"
		"\tcreate NAME    create the repository NAME, where a C rule allows it\n"
		"\thelp           this text\n"
		"and git's own: clone, fetch, pull, push and archive --remote.\n",
		user, GITCAGE_VERSION);
}

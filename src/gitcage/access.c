/* SPDX-License-Identifier: ISC */
/* gitcage access [-q] USER REPO [PERM [REF]]: what the rules decide, and which line decided,
 * with the answers of `gitolite access -q REPO USER PERM REF` for the same rules. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/acl.h"
#include "common/config.h"
#include "common/util.h"
#include "gitcage/lifecycle.h"
#include "gitcage/repo.h"
#include "gitcage/verbs.h"

static const char usage_text[] =
    "usage: gitcage [--config FILE] access [-q] USER REPO [PERM [REF]]"
    "\n  PERM: R, W, +, C, D or ^C (create the repository); default +"
    "\n  REF:  a ref name (main means refs/heads/main) or any (the default)";

struct question {
	const char *user;
	char name[PATH_MAX];
	enum acl_perm perm;
	char ref[1024]; /* "" for any */
	bool quiet;
	char creator[256];
	struct acl_repo repo;
};

static enum acl_perm parse_perm(const char *text)
{
	static const char *const names[] = {"R", "W", "+", "C", "D", "^C"};
	static const enum acl_perm perms[] = {ACL_READ,	  ACL_WRITE,  ACL_REWIND,
					      ACL_CREATE, ACL_DELETE, ACL_CREATE_REPO};
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (strcmp(text, names[i]) == 0)
			return perms[i];
	die("access: unknown permission '%s' (R, W, +, C, D or ^C)", text);
}

/* As gitolite: a ref that does not start with refs/ is a branch. */
static void parse_ref(struct question *q, const char *text)
{
	if (strcmp(text, "any") == 0)
		return;
	for (const char *c = text; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f || *c == ' ')
			die("access: the ref has a blank or a control character");
	int len = snprintf(q->ref, sizeof(q->ref), "%s%s",
			   strncmp(text, "refs/", 5) == 0 ? "" : "refs/heads/", text);
	if (len < 0 || len >= (int)sizeof(q->ref))
		die("access: the ref is too long");
}

static void parse_args(struct question *q, int argc, char **argv)
{
	int i = 1;
	if (i < argc && strcmp(argv[i], "-q") == 0)
		q->quiet = true, i++;
	if (argc - i < 2 || argc - i > 4)
		die("%s", usage_text);
	q->user = argv[i];
	if (!config_valid_user(q->user))
		die("access: '%s' is not a valid user name", q->user);
	if (snprintf(q->name, sizeof(q->name), "%s", argv[i + 1]) >= (int)sizeof(q->name) ||
	    !*q->name || argv[i + 1][0] == '/')
		die("access: the repository is a path relative to repositories");
	q->perm = argc - i > 2 ? parse_perm(argv[i + 2]) : ACL_REWIND;
	if (argc - i > 3)
		parse_ref(q, argv[i + 3]);
}

/* Whether the repository exists and who created it, as serve would see it. */
static void find_repository(const struct config *cfg, struct question *q)
{
	char root[PATH_MAX];
	struct stat st;
	struct error err;
	struct repo repo;
	/* Without a root nothing exists, as far as we can tell; but every question but "may I
	 * create it" is then about the rules alone. */
	q->repo = (struct acl_repo){.name = q->name, .missing = q->perm == ACL_CREATE_REPO};
	if (!cfg->repositories || !realpath(cfg->repositories, root))
		return;
	q->repo.missing = false;
	cleanup_fd int root_fd = repo_open_root(root, &err);
	if (root_fd < 0 || fstat(root_fd, &st) != 0)
		return;
	if (repo_resolve(root_fd, root, q->name, st.st_uid, &repo, &err) == 0) {
		if (repo_read_creator(repo.fd, st.st_uid, q->creator, sizeof(q->creator)))
			q->repo.creator = q->creator;
		repo_close(&repo);
	} else if (!lifecycle_exists(root_fd, q->name)) {
		q->repo.missing = true;
	} else if (!q->quiet) {
		printf("note: %s cannot be served: %s\n", q->name, err.message);
	}
}

int verb_access(const struct global_options *options, int argc, char **argv)
{
	struct question q = {0};
	struct config cfg;
	struct acl_decision why;
	char text[1024];
	parse_args(&q, argc, argv);
	verbs_load_config(options, 0, &cfg);
	find_repository(&cfg, &q);
	bool allowed = acl_check(&cfg, &q.repo, q.user, q.perm, *q.ref ? q.ref : NULL, &why);
	bool may_create = !q.repo.missing || acl_may_create(&cfg, q.name, q.user, NULL);
	if (q.quiet)
		;
	else if (!may_create)
		printf("denied: %s does not exist, and %s may not create it\n", q.name, q.user);
	else if (!why.file)
		printf("denied: no rule for %s matched\n", q.user);
	else
		printf("%s by %s\n", allowed ? "allowed" : "denied",
		       acl_describe(text, sizeof(text), &why));
	config_free(&cfg);
	return allowed ? 0 : 1;
}

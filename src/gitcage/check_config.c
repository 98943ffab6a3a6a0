/* SPDX-License-Identifier: ISC */
/* gitcage check-config: the config parses, and what serve needs is there and safe. Each
 * problem is one line: errors (serve would refuse, or the file could be changed by someone
 * who should not) make the exit status 125, warnings (records that would be lost) do not. */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/audit.h"
#include "common/util.h"
#include "gitcage/keys.h"
#include "gitcage/repo.h"
#include "gitcage/verbs.h"
#include "sandbox/cgroup.h"
#include "sandbox/landlock.h"

#ifndef GITCAGE_HOOKS_DIR
#define GITCAGE_HOOKS_DIR "/usr/local/lib/gitcage/hooks"
#endif
#define MAX_GROUPS 256

/* What git runs on a push: the relay (proc-receive) and, for repo-hooks = yes, chain/ with the
 * relay again and the scripts that run the repository's own hooks. A missing one refuses the
 * push or leaves its part of the policy unenforced. */
static const char *const trusted_hooks[] = {"proc-receive", "chain/proc-receive",
					    "chain/pre-receive", "chain/post-receive",
					    "chain/post-update"};

struct checker {
	const char *file; /* the config file, that every line starts with */
	uid_t uid;	  /* the service account, whose access is checked */
	gid_t groups[MAX_GROUPS];
	int group_count;
	size_t errors, warnings;
};

static void report(struct checker *c, bool error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void report(struct checker *c, bool error, const char *fmt, ...)
{
	char message[PATH_MAX + 256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	printf("%s: %s%s\n", c->file, error ? "" : "warning: ", message);
	if (error)
		c->errors++;
	else
		c->warnings++;
}

static bool in_groups(const struct checker *c, gid_t gid)
{
	for (int i = 0; i < c->group_count; i++)
		if (c->groups[i] == gid)
			return true;
	return false;
}

/* What the service account may do with the file, from its mode: bits is 4, 2 or 1 (read,
 * write, search). As the account itself, access(2) answers (ACLs, read-only mounts). */
static bool account_may(const struct checker *c, const char *path, const struct stat *st,
			unsigned bits)
{
	if (c->uid == getuid() && c->uid != 0)
		return access(path, bits == 4 ? R_OK : bits == 2 ? W_OK : X_OK) == 0;
	if (c->uid == 0)
		return true;
	if (st->st_uid == c->uid)
		return (st->st_mode >> 6) & bits;
	if (in_groups(c, st->st_gid))
		return (st->st_mode >> 3) & bits;
	return st->st_mode & bits;
}

/* The rule of what serve needs beside the config (the repositories root, a git under /usr, the
 * keys): owned by root or the service account, and writable by nobody else. The config, the hooks
 * and a git outside /usr are root's alone, which loading the config checked already (trust.c).
 * Returns true when safe; otherwise reports why. */
static bool owner_and_mode_safe(struct checker *c, const char *what, const char *path,
				const struct stat *st)
{
	unsigned mode = st->st_mode & 07777;
	if (st->st_uid != 0 && st->st_uid != c->uid)
		report(c, true, "%s %s is owned by uid %u, not by root or the service account",
		       what, path, (unsigned)st->st_uid);
	else if (mode & S_IWOTH)
		report(c, true, "%s %s can be written by others (mode %04o)", what, path, mode);
	else if ((mode & S_IWGRP) && st->st_gid != 0 && !in_groups(c, st->st_gid))
		report(c, true, "%s %s can be written by group %u (mode %04o)", what, path,
		       (unsigned)st->st_gid, mode);
	else
		return true;
	return false;
}

/* stat path, following symlinks (as serve does when it resolves it), and check its type. */
static bool exists_as(struct checker *c, const char *what, const char *path, mode_t type,
		      struct stat *st)
{
	if (stat(path, st) != 0) {
		report(c, true, "%s %s: %s", what, path, strerror(errno));
		return false;
	}
	if ((st->st_mode & S_IFMT) != type) {
		report(c, true, "%s %s is not a %s", what, path,
		       type == S_IFDIR ? "directory" : "regular file");
		return false;
	}
	return true;
}

static void check_repositories(struct checker *c, const struct config *cfg)
{
	struct stat st;
	const char *what = "[server] repositories";
	if (!cfg->repositories) {
		report(c, true, "%s is not set: serve needs it", what);
		return;
	}
	if (!exists_as(c, what, cfg->repositories, S_IFDIR, &st) ||
	    !owner_and_mode_safe(c, what, cfg->repositories, &st))
		return;
	if (!account_may(c, cfg->repositories, &st, 1) ||
	    !account_may(c, cfg->repositories, &st, 4))
		report(c, true, "%s %s cannot be read by the service account", what,
		       cfg->repositories);
}

struct servable {
	struct checker *checker;
	const char *root;
};

static int check_one_repository(void *ctx, const char *relpath, int repo_fd)
{
	struct servable *s = ctx;
	struct error err;
	if (repo_check_layout(repo_fd, s->root, s->checker->uid, &err) != 0)
		report(s->checker, true, "repository %s cannot be served: %s", relpath,
		       err.message);
	return 0;
}

/* Every repository serve would refuse (owned by someone else, a gitfile, a commondir,
 * alternates outside the root), named here rather than only in the audit log. */
static void check_servable(struct checker *c, const struct config *cfg)
{
	char root[PATH_MAX];
	struct error err;
	if (!cfg->repositories || !realpath(cfg->repositories, root))
		return; /* check_repositories said why */
	cleanup_fd int fd = repo_open_root(root, &err);
	struct servable s = {c, root};
	if (fd >= 0)
		repo_walk(fd, check_one_repository, &s);
}

static void check_git(struct checker *c, const struct config *cfg)
{
	struct stat st;
	const char *what = "[server] git";
	if (!exists_as(c, what, cfg->git, S_IFREG, &st) ||
	    !owner_and_mode_safe(c, what, cfg->git, &st))
		return;
	if (!account_may(c, cfg->git, &st, 1))
		report(c, true, "%s %s cannot be executed by the service account", what, cfg->git);
}

/* serve refuses every push when the hooks are missing. The default names the installed hooks,
 * or in a build tree those beside gitcage, as serve finds them. */
static void check_hooks(struct checker *c, const struct config *cfg)
{
	struct stat st;
	char hooks[PATH_MAX], path[PATH_MAX];
	const char *what = "[server] hooks";
	if (strcmp(cfg->hooks, GITCAGE_HOOKS_DIR) == 0)
		path_beside_self("hooks", GITCAGE_HOOKS_DIR, hooks, sizeof(hooks));
	else
		xsnprintf(hooks, sizeof(hooks), "%s", cfg->hooks);
	if (!exists_as(c, what, hooks, S_IFDIR, &st) || !owner_and_mode_safe(c, what, hooks, &st))
		return;
	for (size_t i = 0; i < ARRAY_SIZE(trusted_hooks); i++) {
		xsnprintf(path, sizeof(path), "%s/%s", hooks, trusted_hooks[i]);
		if (!exists_as(c, "the hook", path, S_IFREG, &st) ||
		    !owner_and_mode_safe(c, "the hook", path, &st))
			continue;
		if (!account_may(c, path, &st, 1))
			report(c, true, "the hook %s cannot be executed by the service account",
			       path);
	}
}

/* Every key file `gitcage keys` leaves out, and why: those users cannot log in. A refused
 * directory (writable by others, above it too) refuses every key: an error. */
static void check_key_files(struct checker *c, const struct config *cfg)
{
	struct keys_scan scan;
	int rc = keys_scan_dir(cfg->keys, &scan);
	for (size_t i = 0; i < scan.problem_count; i++)
		report(c, rc != 0, "keys: %s", scan.problems[i]);
	keys_scan_free(&scan);
}

/* The keys decide who gets in: only root and the service account may change them. */
static void check_keys(struct checker *c, const struct config *cfg)
{
	struct stat st;
	const char *what = "[server] keys";
	if (!cfg->keys)
		return;
	if (!exists_as(c, what, cfg->keys, S_IFDIR, &st) ||
	    !owner_and_mode_safe(c, what, cfg->keys, &st))
		return;
	if (!account_may(c, cfg->keys, &st, 1) || !account_may(c, cfg->keys, &st, 4))
		report(c, true, "%s %s cannot be read by the service account", what, cfg->keys);
	check_key_files(c, cfg);
}

/* The seed decides which push certificates are fresh: nobody else may write it, and serve,
 * running as the service account, must read it or refuse every push. */
static void check_push_cert_seed(struct checker *c, const struct config *cfg)
{
	struct stat st;
	const char *what = "[server] push-cert-seed";
	if (!cfg->push_cert_seed)
		return;
	if (!exists_as(c, what, cfg->push_cert_seed, S_IFREG, &st) ||
	    !owner_and_mode_safe(c, what, cfg->push_cert_seed, &st))
		return;
	if (!account_may(c, cfg->push_cert_seed, &st, 4))
		report(c, true, "%s %s cannot be read by the service account", what,
		       cfg->push_cert_seed);
}

/* The file, or the directory it will be created in, must take the service account's
 * records; audit_write opens it with O_NOFOLLOW, so a symlink there fails every call. */
static void check_audit_file(struct checker *c, const char *path)
{
	struct stat st;
	char dir[PATH_MAX];
	const char *what = "[server] audit";
	if (lstat(path, &st) == 0) {
		if (!S_ISREG(st.st_mode))
			report(c, true, "%s %s is not a regular file", what, path);
		else if (!account_may(c, path, &st, 2))
			report(c, true, "%s %s cannot be written by the service account", what,
			       path);
		return;
	}
	xsnprintf(dir, sizeof(dir), "%s", path);
	*strrchr(dir, '/') = '\0';
	if (!*dir)
		strcpy(dir, "/");
	if (!exists_as(c, what, dir, S_IFDIR, &st))
		return;
	if (!account_may(c, dir, &st, 2) || !account_may(c, dir, &st, 1))
		report(c, true,
		       "%s %s does not exist and the service account cannot create it in %s", what,
		       path, dir);
}

static void check_audit(struct checker *c, const struct config *cfg)
{
	struct stat st;
	if (strcmp(cfg->audit, "syslog") != 0) {
		check_audit_file(c, cfg->audit);
		return;
	}
	if (stat(AUDIT_SYSLOG_SOCKET, &st) != 0 || !S_ISSOCK(st.st_mode))
		report(c, false,
		       "audit = syslog, but %s is not a socket here: every record would be lost "
		       "(set audit = FILE, or start a syslog daemon or journald)",
		       AUDIT_SYSLOG_SOCKET);
}

/* Whose access is checked: the caller, or as root (an admin's sudo) the owner of the
 * repositories, which is the service account on a working server. */
static void choose_account(struct checker *c, const struct config *cfg)
{
	struct stat st;
	c->uid = getuid();
	if (c->uid == 0 && cfg->repositories && stat(cfg->repositories, &st) == 0)
		c->uid = st.st_uid;
	struct passwd *pw = getpwuid(c->uid);
	c->group_count = MAX_GROUPS;
	if (!pw || getgrouplist(pw->pw_name, pw->pw_gid, c->groups, &c->group_count) < 0)
		c->group_count = 0;
	if (getuid() != 0)
		return;
	if (c->uid == 0)
		report(c, false,
		       "as root, with repositories owned by root, what the service "
		       "account may read and write is not checked: run check-config as it");
	else
		printf("%s: checking what uid %u (%s) may read and write\n", c->file,
		       (unsigned)c->uid, pw ? pw->pw_name : "no such user");
}

/* A [limits] cgroup that cannot take the sandboxes' leaves would stop every session. Reads
 * only. Fills limits with how memory and processes add up. */
static void check_cgroup(struct checker *c, const struct config *cfg, char *limits, size_t size)
{
	struct error err;
	if (!cfg->limits.cgroup) {
		xsnprintf(limits, size, "per process (rlimits); no [limits] cgroup");
		return;
	}
	if (cgroup_check(cfg->limits.cgroup, &err) != 0)
		report(c, true, "%s", err.message);
	xsnprintf(limits, size, "each sandbox in a leaf of %s (memory.max, pids.max)",
		  cfg->limits.cgroup);
}

int verb_check_config(const struct global_options *options, int argc, char **argv)
{
	char landlock[160], limits[PATH_MAX + 64];
	struct config cfg;
	(void)argv;
	if (argc != 1)
		die("usage: gitcage [--config FILE] check-config");
	verbs_load_config(options, 0, &cfg);
	struct checker c = {.file = options->config_path};
	choose_account(&c, &cfg);
	check_repositories(&c, &cfg);
	check_servable(&c, &cfg);
	check_git(&c, &cfg);
	check_hooks(&c, &cfg);
	check_keys(&c, &cfg);
	check_push_cert_seed(&c, &cfg);
	check_audit(&c, &cfg);
	check_cgroup(&c, &cfg, limits, sizeof(limits));
	if (c.errors == 0) {
		landlock_describe(landlock, sizeof(landlock));
		printf("sandbox: namespaces, seccomp, %s\nlimits: %s\n%s: ok\n", landlock, limits,
		       options->config_path);
	}
	config_free(&cfg);
	fflush(stdout);
	return c.errors ? EXIT_GITCAGE : 0;
}

/* SPDX-License-Identifier: ISC */
/* Creating repositories (lifecycle.h), and the admin's `gitcage create`. */
#include "gitcage/lifecycle.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/acl.h"
#include "common/repofs.h"
#include "gitcage/repo.h"
#include "gitcage/request.h"
#include "gitcage/verbs.h"

static bool entry_exists(int root_fd, const char *path)
{
	struct repofs_stamp stamp;
	return repofs_stamp(root_fd, path, &stamp) != 0 || stamp.exists;
}

/* "foo" -> "foo.git"; "foo.git" stays. */
static int with_suffix(const char *name, char *out, size_t size)
{
	size_t len = strlen(name);
	bool has = len > 4 && strcmp(name + len - 4, ".git") == 0;
	return snprintf(out, size, "%s%s", name, has ? "" : ".git") < (int)size ? 0 : -1;
}

bool lifecycle_exists(int root_fd, const char *name)
{
	char path[PATH_MAX];
	/* An error counts as existing: never create over something we cannot see. */
	return with_suffix(name, path, sizeof(path)) != 0 || entry_exists(root_fd, path) ||
	       entry_exists(root_fd, name);
}

/* A repository inside another one would be served from within that one's files. */
static int check_parents(int root_fd, const char *path, struct error *err)
{
	char prefix[PATH_MAX];
	for (const char *slash = strchr(path, '/'); slash; slash = strchr(slash + 1, '/')) {
		snprintf(prefix, sizeof(prefix), "%.*s", (int)(slash - path), path);
		cleanup_fd int fd = repofs_open_dir(root_fd, prefix, O_PATH);
		struct stat st;
		if (fd < 0 && errno == ENOENT)
			return 0;
		if (fd < 0)
			return error_set(err, "cannot open %s: %s", prefix, strerror(errno));
		if (fstatat(fd, "HEAD", &st, AT_SYMLINK_NOFOLLOW) == 0)
			return error_set(err, "%s is inside the repository %s", path, prefix);
	}
	return 0;
}

/* git init in dir_fd, with nothing but our settings: no templates (they hold hooks), no
 * system or global config (init.templateDir, init.defaultBranch). */
static int run_git_init(const struct config *cfg, int dir_fd, struct error *err)
{
	char branch[512];
	snprintf(branch, sizeof(branch), "--initial-branch=%s", cfg->default_branch);
	char *argv[] = {cfg->git, "init", "--quiet", "--bare", "--template=", branch, ".", NULL};
	char *envp[] = {"PATH=/usr/bin:/bin",
			"HOME=/nonexistent",
			"LC_ALL=C",
			"GIT_CONFIG_NOSYSTEM=1",
			"GIT_CONFIG_GLOBAL=/dev/null",
			"GIT_CONFIG_SYSTEM=/dev/null",
			NULL};
	pid_t pid = fork();
	if (pid < 0)
		return error_set(err, "cannot fork: %s", strerror(errno));
	if (pid == 0) {
		umask(022);
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (fchdir(dir_fd) != 0 || null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0)
			_exit(126);
		execve(argv[0], argv, envp);
		_exit(127);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return error_set(err, "cannot wait for git init: %s", strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return error_set(err, "%s init failed (status %d)", cfg->git, status);
	return 0;
}

static int write_creator(int dir_fd, const char *creator, struct error *err)
{
	char line[256];
	int len = snprintf(line, sizeof(line), "%s\n", creator);
	cleanup_fd int fd = openat(dir_fd, REPO_CREATOR_FILE,
				   O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (len <= 0 || len >= (int)sizeof(line) || fd < 0 || write_all(fd, line, (size_t)len) < 0)
		return error_set(err, "cannot record the creator: %s", strerror(errno));
	return 0;
}

/* A hidden directory beside the final one ('.' names are never served). Returns its fd. */
static int make_staging(int parent_fd, char *name, size_t size, struct error *err)
{
	for (int attempt = 0; attempt < 100; attempt++) {
		snprintf(name, size, ".gitcage-new-%ld-%d", (long)getpid(), attempt);
		if (mkdirat(parent_fd, name, 0755) == 0)
			return repofs_open_dir(parent_fd, name, O_PATH);
		if (errno != EEXIST)
			break;
	}
	return error_set(err, "cannot make a directory to create it in: %s", strerror(errno));
}

/* git init and the creator in a staging directory, then a rename that refuses to replace. */
static int create_in(const struct config *cfg, int parent_fd, const char *last, const char *creator,
		     struct error *err)
{
	char staging[64];
	cleanup_fd int fd = make_staging(parent_fd, staging, sizeof(staging), err);
	if (fd < 0)
		return -1;
	int rc = run_git_init(cfg, fd, err);
	if (rc == 0 && creator)
		rc = write_creator(fd, creator, err);
	if (rc == 0 && renameat2(parent_fd, staging, parent_fd, last, RENAME_NOREPLACE) != 0)
		rc = error_set(err, "cannot move it into place: %s", strerror(errno));
	if (rc != 0)
		repofs_remove(parent_fd, staging);
	return rc;
}

/* One creation at a time, by a lock on the repositories root itself: what check_parents
 * found must still hold when the directories are made, and another creation could rename a
 * repository into place above this one meanwhile. Returns the locked fd, or -1. */
static int lock_creations(int root_fd, struct error *err)
{
	int fd = openat(root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || flock(fd, LOCK_EX) != 0) {
		error_set(err, "cannot lock the repositories root: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int create_locked(const struct config *cfg, int root_fd, const char *name,
			 const char *creator, struct error *err)
{
	char path[PATH_MAX], parent[PATH_MAX];
	if (with_suffix(name, path, sizeof(path)) != 0)
		return error_set(err, "the name is too long");
	if (lifecycle_exists(root_fd, name))
		return error_set(err, "%s exists already", path);
	if (check_parents(root_fd, path, err) != 0)
		return -1;
	if (repofs_make_parents(root_fd, path) != 0)
		return error_set(err, "cannot make the directories of %s: %s", path,
				 strerror(errno));
	const char *slash = strrchr(path, '/');
	snprintf(parent, sizeof(parent), "%.*s", slash ? (int)(slash - path) : 1,
		 slash ? path : ".");
	cleanup_fd int parent_fd = repofs_open_dir(root_fd, parent, O_PATH);
	if (parent_fd < 0)
		return error_set(err, "cannot open %s: %s", parent, strerror(errno));
	return create_in(cfg, parent_fd, slash ? slash + 1 : path, creator, err);
}

int lifecycle_create(const struct config *cfg, int root_fd, const char *name, const char *creator,
		     struct error *err)
{
	cleanup_fd int lock = lock_creations(root_fd, err);
	if (lock < 0)
		return -1;
	return create_locked(cfg, root_fd, name, creator, err);
}

int lifecycle_create_on_push(const struct config *cfg, int root_fd, const char *request_path,
			     const char *user, struct error *err)
{
	if (lifecycle_exists(root_fd, request_path) ||
	    !acl_may_create(cfg, request_path, user, NULL))
		return 0;
	if (lifecycle_create(cfg, root_fd, request_path, user, err) == 0)
		return 1;
	/* Another first push made it meanwhile: this one pushes into it. */
	return lifecycle_exists(root_fd, request_path) ? 0 : -1;
}

/* The repositories root of the config, opened, and checked to be ours: what gitcage creates
 * must be owned by the account that serves it. */
static int open_own_root(const struct config *cfg, struct error *err)
{
	char real[PATH_MAX];
	struct stat st;
	if (!cfg->repositories)
		return error_set(err, "%s: [server] repositories is not set", cfg->file);
	if (!realpath(cfg->repositories, real))
		return error_set(err, "the repositories root %s: %s", cfg->repositories,
				 strerror(errno));
	int fd = repo_open_root(real, err);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0 || st.st_uid != geteuid()) {
		close(fd);
		return error_set(err,
				 "run this as the owner of %s (the service account), e.g. with "
				 "sudo -u",
				 real);
	}
	return fd;
}

int verb_create(const struct global_options *options, int argc, char **argv)
{
	static const char usage[] = "usage: gitcage [--config FILE] create REPO [--owner USER]";
	struct config cfg;
	struct request request;
	struct error err;
	char command[PATH_MAX + 16];
	const char *owner = NULL;
	if (argc == 4 && strcmp(argv[2], "--owner") == 0)
		owner = argv[3];
	else if (argc != 2)
		die("%s", usage);
	if (owner && !config_valid_user(owner))
		die("create: '%s' is not a valid user name", owner);
	/* The name gets the rules a client's "create NAME" gets. */
	snprintf(command, sizeof(command), "create %s", argv[1]);
	if (strlen(argv[1]) > PATH_MAX || request_parse(command, &request, &err) != 0)
		die("create: %s", err.message);
	if (geteuid() == 0)
		die("create: run this as the service account, not as root: repositories owned by "
		    "root cannot be served");
	verbs_load_config(options, 0, &cfg);
	int root_fd = open_own_root(&cfg, &err);
	if (root_fd < 0 || lifecycle_create(&cfg, root_fd, request.path, owner, &err) != 0)
		die("create: %s", err.message);
	char path[PATH_MAX];
	with_suffix(request.path, path, sizeof(path));
	printf("created %s\n", path);
	close(root_fd);
	config_free(&cfg);
	return 0;
}

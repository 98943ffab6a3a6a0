/* SPDX-License-Identifier: ISC */
/* gitcage-index: git itself indexes what a push (or a run) brought, in a cage of its
 * own (the repository and the stage read-only, CHECKED the one writable directory). The index
 * git wrote in the sandbox is never read: it could name any id for any entry. Here git
 * index-pack hashes every object, resolves every delta and fsck's every object, and the
 * index it writes is read, and every entry's hash checked, by `gitcage-guard check` in
 * another cage, where nothing can be written. libgit2 is never used in this one. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/contract.h"
#include "common/util.h"
#include "guard/verify.h"

/* Where the loose objects of a run are packed, to be fsck'ed as packs are. Not a pack-X name:
 * never imported, removed with the session. */
#define LOOSE_PACK "loose-objects"

struct indexer {
	const char *git, *repo, *stage, *checked;
	const struct check_request *req;
	char *why;
	size_t why_size;
};

/* How git runs here: in the repository, blind to any configuration but its own, and, with
 * object_dir, reading objects from there alone. */
struct git_run {
	const char *object_dir; /* GIT_OBJECT_DIRECTORY, or NULL */
	int in_fd;		/* its stdin, or -1 for /dev/null */
	int out_fd;		/* its stdout, or -1: into out */
	char *out;
	size_t out_size;
};

/* Run git; the line of its stderr that says why it failed into error_line. Returns its exit status,
 * or -1 when it could not run. */
static int run_git(const struct indexer *x, char **argv, const struct git_run *run,
		   char *error_line, size_t error_size)
{
	int stdout_pipe[2], stderr_pipe[2], status;
	char git_dir[4200], object_dir[4200];
	char *env[] = {"PATH=/usr/bin:/bin",
		       "HOME=/nonexistent",
		       "GIT_CONFIG_NOSYSTEM=1",
		       "GIT_CONFIG_GLOBAL=/dev/null",
		       "LC_ALL=C",
		       git_dir,
		       object_dir,
		       NULL};
	snprintf(git_dir, sizeof(git_dir), "GIT_DIR=%s", x->repo);
	snprintf(object_dir, sizeof(object_dir), "GIT_OBJECT_DIRECTORY=%s",
		 run->object_dir ? run->object_dir : "");
	if (!run->object_dir)
		env[6] = NULL;
	if (pipe2(stdout_pipe, O_CLOEXEC) != 0 || pipe2(stderr_pipe, O_CLOEXEC) != 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(run->in_fd >= 0 ? run->in_fd : open("/dev/null", O_RDONLY), STDIN_FILENO);
		dup2(run->out_fd >= 0 ? run->out_fd : stdout_pipe[1], STDOUT_FILENO);
		dup2(stderr_pipe[1], STDERR_FILENO);
		execve(x->git, argv, env);
		_exit(127);
	}
	close(stdout_pipe[1]);
	close(stderr_pipe[1]);
	ssize_t n = 0;
	if (run->out) {
		n = read(stdout_pipe[0], run->out, run->out_size - 1);
		run->out[n > 0 ? n : 0] = '\0';
	}
	char text[4096];
	size_t len = 0;
	while (len < sizeof(text) - 1 &&
	       (n = read(stderr_pipe[0], text + len, sizeof(text) - 1 - len)) > 0)
		len += (size_t)n;
	text[len] = '\0';
	while (len && text[len - 1] == '\n')
		text[--len] = '\0';
	/* git says what it found in an "error:" line, then dies with a summary: the first
	 * error names the object and the problem. */
	const char *line = strncmp(text, "error: ", 7) == 0 ? text : strstr(text, "\nerror: ");
	if (line && *line == '\n')
		line++;
	if (!line)
		line = strrchr(text, '\n') ? strrchr(text, '\n') + 1
		       : text[0]	   ? text
					   : "no message";
	size_t line_len = strcspn(line, "\n");
	snprintf(error_line, error_size, "%.*s", (int)(line_len < 200 ? line_len : 200), line);
	close(stdout_pipe[0]);
	close(stderr_pipe[0]);
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* git index-pack of pack_path into idx_path. --strict (a push) also finds every link among
 * the pack's and the repository's objects, with the repository's fsck-ignore ids;
 * --fsck-objects (a run, whose packs and loose objects may link to each other) fsck's each
 * object alone, and the links are the check cage's. hash gets what index-pack prints. */
static int index_pack(struct indexer *x, const char *pack_path, const char *idx_path,
		      const char *what, char *hash, size_t hash_size)
{
	char fsck[1024] = "--fsck-objects", error_line[256];
	if (x->req->fsck == CHECK_FSCK_STRICT) {
		snprintf(fsck, sizeof(fsck), "--strict");
		for (size_t i = 0; i < x->req->fsck_ignore.count; i++)
			snprintf(fsck + strlen(fsck), sizeof(fsck) - strlen(fsck), "%c%s=ignore",
				 i ? ',' : '=', x->req->fsck_ignore.items[i]);
	}
	char *argv[] = {"git",
			"-c",
			"core.hooksPath=/dev/null",
			"-c",
			"safe.directory=*",
			"index-pack",
			fsck,
			"--no-rev-index",
			"-o",
			(char *)idx_path,
			(char *)pack_path,
			NULL};
	struct git_run run = {NULL, -1, -1, hash, hash_size};
	int status = run_git(x, argv, &run, error_line, sizeof(error_line));
	hash[strcspn(hash, "\n")] = '\0';
	if (status != 0)
		return snprintf(x->why, x->why_size, "%s was refused by git index-pack %s: %s",
				what, fsck[2] == 's' ? "--strict" : "--fsck-objects", error_line),
		       -1;
	return 0;
}

/* Each staged pack's index into CHECKED/pack-X.idx; the name says what the pack holds:
 * pack-<its checksum>. */
static int index_packs(struct indexer *x)
{
	char pack_path[4200], idx_path[4200], hash[64] = "";
	for (size_t i = 0; i < x->req->packs.count; i++) {
		const char *pack = x->req->packs.items[i];
		const char *name = strrchr(pack, '/') + 1; /* pack-X.pack: shape checked */
		snprintf(pack_path, sizeof(pack_path), "%s/%s", x->stage, pack);
		snprintf(idx_path, sizeof(idx_path), "%s/%.45s.idx", x->checked, name);
		if (index_pack(x, pack_path, idx_path, "the pushed pack", hash, sizeof(hash)) != 0)
			return -1;
		if (strlen(hash) != 40 || strncmp(name + 5, hash, 40) != 0)
			return snprintf(x->why, x->why_size,
					"the pushed pack's name is not its checksum"),
			       -1;
	}
	return 0;
}

/* A run's loose objects, packed by git pack-objects (reading them from the stage alone) and
 * fsck'ed by index-pack as a pack is. Their hashes are the check cage's. */
static int index_loose(struct indexer *x)
{
	char list[4200], pack_path[4200], idx_path[4200], objects[4200], hash[64], error_line[256];
	if (!x->req->loose.count)
		return 0;
	snprintf(list, sizeof(list), "%s/%s.list", x->checked, LOOSE_PACK);
	snprintf(pack_path, sizeof(pack_path), "%s/%s.pack", x->checked, LOOSE_PACK);
	snprintf(idx_path, sizeof(idx_path), "%s/%s.idx", x->checked, LOOSE_PACK);
	snprintf(objects, sizeof(objects), "%s/objects", x->stage);
	FILE *ids = fopen(list, "w+e");
	int out = open(pack_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (!ids || out < 0) {
		if (ids)
			fclose(ids);
		return snprintf(x->why, x->why_size, "cannot pack the loose objects: %s",
				strerror(errno)),
		       -1;
	}
	for (size_t i = 0; i < x->req->loose.count; i++) {
		const char *path = x->req->loose.items[i]; /* objects/ab/cdef...: shape checked */
		fprintf(ids, "%.2s%.38s\n", path + 8, path + 11);
	}
	fflush(ids);
	rewind(ids);
	char *argv[] = {"git",
			"-c",
			"core.hooksPath=/dev/null",
			"-c",
			"safe.directory=*",
			"pack-objects",
			"-q",
			"--stdout",
			NULL};
	struct git_run run = {objects, fileno(ids), out, NULL, 0};
	int status = run_git(x, argv, &run, error_line, sizeof(error_line));
	fclose(ids);
	close(out);
	if (status != 0)
		return snprintf(x->why, x->why_size,
				"the loose objects could not be packed by git pack-objects: %s",
				error_line),
		       -1;
	return index_pack(x, pack_path, idx_path, "a loose object", hash, sizeof(hash));
}

int guard_index(const char *git, const char *repo, const char *stage, const char *checked)
{
	struct check_request req;
	struct strbuf out = {0};
	int got = guard_read_request(&req);
	if (got <= 0)
		return got < 0 ? GUARD_EXIT_USAGE : 0;
	struct indexer x = {
	    git, repo, stage, checked, &req, req.objects_reason, sizeof(req.objects_reason)};
	req.objects_ok = index_packs(&x) == 0 && index_loose(&x) == 0;
	check_format_facts(&req, &out);
	int rc = write_all(STDOUT_FILENO, out.data, out.len) == 0 ? 0 : GUARD_EXIT_FAILED;
	strbuf_free(&out);
	check_request_free(&req);
	return rc;
}

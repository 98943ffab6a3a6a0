/* SPDX-License-Identifier: ISC */
/*
 * gitcage-guard: what runs after git wrote to a repository. gitcage execs it when the sandbox
 * is gone (nothing of git's survives: it was pid 1 of its pid namespace), with the
 * repository fd and the snapshot taken before git started. It
 *   1. compares the layout with the snapshot and repairs it (changes_layout, rollback_layout);
 *   2. compares the refs, and checks every changed one with libgit2 (verify_refs);
 *   3. puts back every ref that failed (rollback_refs), and tells the client, one line each;
 *   4. writes the call's one audit record, and exits 125 if anything was undone.
 * It is also `gitcage verify DIR...`, the admin's offline check.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/audit.h"
#include "common/changes.h"
#include "common/config.h"
#include "common/notify.h"
#include "common/policy.h"
#include "common/snapshot.h"
#include "common/util.h"
#include "guard/verify.h"

struct guard {
	int repo_fd, snapshot_fd;
	int git_status;
	int timing;
	struct timespec began;
	long long setup;   /* microseconds from main to the verification: options, config */
	long long laps[5]; /* microseconds at: layout, refs, libgit2 ready, objects, rollback */
	struct timespec start;
	const char *config_path;
	struct config cfg;
	struct policy policy;
	struct audit_record audit;
	struct snapshot snapshot;
	struct changes changes;
	char reason[PATH_MAX + 256];
};

static long long microseconds_since(const struct timespec *start)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - start->tv_sec) * 1000000LL + (now.tv_nsec - start->tv_nsec) / 1000;
}

/* --timing: where the time goes, for the benchmark. */
static void print_timing(const struct guard *g)
{
	fprintf(
	    stderr,
	    "gitcage-guard: verified in %lld us (setup %lld, layout %lld, refs %lld, libgit2 init "
	    "%lld, objects %lld, rollback %lld)\n",
	    g->laps[4] - g->setup, g->setup, g->laps[0] - g->setup, g->laps[1] - g->laps[0],
	    g->laps[2] ? g->laps[2] - g->laps[1] : 0,
	    g->laps[3] ? g->laps[3] - (g->laps[2] ? g->laps[2] : g->laps[1]) : 0,
	    g->laps[4] - (g->laps[3] ? g->laps[3] : g->laps[1]));
}

static _Noreturn void usage(void)
{
	fputs("usage: gitcage-guard write --repo-fd N --snapshot-fd N --service S --user U\n"
	      "                     --repo PATH --status N --start SEC.NSEC [--key K]\n"
	      "                     [--client C] [--config FILE] [--timing]\n"
	      "       gitcage-guard verify [--config FILE] [--] DIR...\n"
	      "       gitcage-guard snapshot [--timing] DIR > FILE\n"
	      "gitcage runs it; by hand it serves tests and benchmarks.\n",
	      stderr);
	exit(EXIT_GITCAGE);
}

static int parse_fd(const char *text)
{
	char *end;
	long value = strtol(text, &end, 10);
	if (*end || value < 0 || value > 1023)
		usage();
	return (int)value;
}

static void parse_start(const char *text, struct timespec *out)
{
	long long sec = 0;
	long nsec = 0;
	if (sscanf(text, "%lld.%ld", &sec, &nsec) < 1)
		usage();
	out->tv_sec = (time_t)sec;
	out->tv_nsec = nsec;
}

/* Where a string option goes, or NULL when opt is not one. */
static const char **string_option(struct guard *g, int opt)
{
	switch (opt) {
	case 'S':
		return &g->audit.service;
	case 'u':
		return &g->audit.user;
	case 'k':
		return &g->audit.key;
	case 'c':
		return &g->audit.client;
	case 'p':
		return &g->audit.repo;
	case 'C':
		return &g->config_path;
	default:
		return NULL;
	}
}

static void parse_write_options(int argc, char **argv, struct guard *g)
{
	static const struct option options[] = {
	    {"repo-fd", required_argument, NULL, 'r'},
	    {"snapshot-fd", required_argument, NULL, 's'},
	    {"service", required_argument, NULL, 'S'},
	    {"user", required_argument, NULL, 'u'},
	    {"key", required_argument, NULL, 'k'},
	    {"client", required_argument, NULL, 'c'},
	    {"repo", required_argument, NULL, 'p'},
	    {"config", required_argument, NULL, 'C'},
	    {"status", required_argument, NULL, 'x'},
	    {"start", required_argument, NULL, 't'},
	    {"timing", no_argument, NULL, 'T'},
	    {NULL, 0, NULL, 0},
	};
	int opt;
	optind = 1;
	g->repo_fd = g->snapshot_fd = -1;
	clock_gettime(CLOCK_MONOTONIC, &g->start);
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		const char **text = string_option(g, opt);
		if (text)
			*text = optarg;
		else if (opt == 'r')
			g->repo_fd = parse_fd(optarg);
		else if (opt == 's')
			g->snapshot_fd = parse_fd(optarg);
		else if (opt == 'x')
			g->git_status = parse_fd(optarg);
		else if (opt == 't')
			parse_start(optarg, &g->start);
		else if (opt == 'T')
			g->timing = 1;
		else
			usage();
	}
	if (optind != argc || g->repo_fd < 0 || g->snapshot_fd < 0)
		usage();
}

/* Verification must finish whatever happens to the client: a hang-up mid-rollback would
 * leave the repository half repaired. Nothing here waits for long. */
static void stay_alive(void)
{
	static const int ignored[] = {SIGHUP, SIGINT, SIGTERM, SIGQUIT, SIGPIPE};
	for (size_t i = 0; i < ARRAY_SIZE(ignored); i++)
		signal(ignored[i], SIG_IGN);
	prctl(PR_SET_PDEATHSIG, 0);
	/* stdout is still git's protocol stream to the client: never write into it. */
	int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, STDOUT_FILENO);
		close(null);
	}
}

static void load_config(struct guard *g)
{
	struct config_errors errors = {0};
	config_init(&g->cfg);
	if (g->config_path && config_load(g->config_path, getuid(), &g->cfg, &errors) != 0) {
		/* The call already happened: record it anyway, where syslog can take it. */
		config_free(&g->cfg);
		config_init(&g->cfg);
	}
	config_errors_free(&errors);
}

static int write_file(const char *path, const char *content)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	int rc = fd >= 0 && write_all(fd, content, strlen(content)) == 0 ? 0 : -1;
	if (fd >= 0)
		close(fd);
	return rc;
}

/* libgit2's init parses the system's CA bundle, milliseconds of work for TLS that is never
 * used here. An empty tmpfs hides it, in a mount namespace of our own; the user namespace that
 * allows that mount maps only our own ids, and every capability it gave is dropped at once.
 * Best effort: without it, init is only slower. Not for `verify`: root in a user namespace
 * could no longer read other users' repositories. */
static void hide_ca_certificates(void)
{
	char map[64];
	uid_t uid = getuid();
	gid_t gid = getgid();
	if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0)
		return;
	snprintf(map, sizeof(map), "%u %u 1\n", uid, uid);
	if (write_file("/proc/self/setgroups", "deny") == 0 &&
	    write_file("/proc/self/uid_map", map) == 0) {
		snprintf(map, sizeof(map), "%u %u 1\n", gid, gid);
		if (write_file("/proc/self/gid_map", map) == 0 &&
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0)
			mount("tmpfs", "/etc/ssl/certs", "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV,
			      "size=4k,nr_inodes=2");
	}
	/* The guard never execs (and no_new_privs holds): emptying the effective and permitted
	 * sets is enough, the bounding set can stay. */
	cap_t empty = cap_init();
	if (empty)
		(void)cap_set_proc(empty); /* they reach only this namespace: never fatal */
	cap_free(empty);
}

static void hook_before_libgit2(void *payload)
{
	(void)payload;
	hide_ca_certificates();
}

static void hook_lap(void *payload, int step)
{
	struct guard *g = payload;
	g->laps[step] = microseconds_since(&g->began);
}

static int verify(struct guard *g)
{
	struct error err;
	struct verify_hooks hooks = {hook_before_libgit2, hook_lap, g};
	g->setup = microseconds_since(&g->began);
	/* Branch protection holds after git too: a protected ref rewound or deleted by anyone,
	 * a compromised git included, is put back. */
	policy_for(&g->cfg, g->audit.repo ? config_find_repo(&g->cfg, g->audit.repo) : NULL,
		   &g->policy);
	if (snapshot_from_fd(g->snapshot_fd, &g->snapshot, &err) != 0 ||
	    verify_write(g->repo_fd, &g->snapshot, &g->policy, &g->changes, &hooks, &err) != 0) {
		snprintf(g->reason, sizeof(g->reason), "cannot verify: %s", err.message);
		return -1;
	}
	return 0;
}

/* One line to the client. Names come from the repository, where a compromised git wrote
 * them: control characters (a terminal escape, a forged second line) become '?'. */
static void tell(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void tell(const char *fmt, ...)
{
	char line[PATH_MAX + 512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	for (unsigned char *p = (unsigned char *)line; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			*p = '?';
	warn_line("%s", line);
}

static void tell_client(const struct changes *changes)
{
	for (size_t i = 0; i < changes->problem_count; i++) {
		const struct layout_problem *p = &changes->problems[i];
		if (p->failure)
			tell("%s; it could not be undone: %s", p->what, p->failure);
		else if (p->repair == REPAIR_NONE)
			tell("%s; left for the administrator", p->what);
		else
			tell("%s; undone", p->what);
	}
	for (size_t i = 0; i < changes->ref_count; i++) {
		const struct ref_change *ref = &changes->refs[i];
		if (ref->rollback_error)
			tell("%s could not be rolled back (%s): %s", ref->name, ref->rollback_error,
			     ref->failure);
		else if (ref->failure)
			tell("%s rolled back: %s", ref->name, ref->failure);
	}
}

static const char *state_text(const struct ref_state *state)
{
	static const char *const names[] = {
	    [STATE_ABSENT] = "",
	    [STATE_SYMREF] = "(symbolic ref)",
	    [STATE_LINK] = "(symbolic link)",
	    [STATE_OTHER] = "(special file)",
	    [STATE_GARBAGE] = "(not an object id)",
	};
	return state->kind == STATE_OID ? state->oid : names[state->kind];
}

static int rolled_back(const struct changes *changes)
{
	for (size_t i = 0; i < changes->ref_count; i++)
		if (changes->refs[i].failure)
			return 1;
	return changes->problem_count > 0;
}

static void first_reason(struct guard *g)
{
	const struct changes *changes = &g->changes;
	if (g->reason[0])
		return;
	if (changes->problem_count) {
		snprintf(g->reason, sizeof(g->reason), "%s", changes->problems[0].what);
		return;
	}
	for (size_t i = 0; i < changes->ref_count; i++) {
		if (changes->refs[i].failure) {
			snprintf(g->reason, sizeof(g->reason), "%s %s", changes->refs[i].name,
				 changes->refs[i].failure);
			return;
		}
	}
}

static void write_audit(struct guard *g, int status, const char *verdict)
{
	size_t count = g->changes.ref_count;
	struct audit_ref *refs = xcalloc(count, sizeof(*refs));
	for (size_t i = 0; i < count; i++) {
		const struct ref_change *ref = &g->changes.refs[i];
		refs[i] = (struct audit_ref){ref->name, state_text(&ref->old_state),
					     state_text(&ref->new_state),
					     ref->failure ? ref->failure : "ok"};
	}
	g->audit.refs = refs;
	g->audit.ref_count = count;
	g->audit.verdict = verdict;
	g->audit.reason = g->reason[0] ? g->reason : NULL;
	g->audit.exit_status = status;
	g->audit.duration_ms = microseconds_since(&g->start) / 1000;
	audit_write(g->cfg.audit, &g->audit);
	free(refs);
}

/* notify = COMMAND, after a push that was verified whole: its stdin gets the accepted
 * updates, "old new ref" per line, as a post-receive hook would. */
static void start_notify(struct guard *g)
{
	static const char zero[] = "0000000000000000000000000000000000000000";
	if (!g->policy.notify || !g->audit.service ||
	    strcmp(g->audit.service, "git-receive-pack") != 0 || g->changes.ref_count == 0)
		return;
	size_t size = g->changes.ref_count * (2 * sizeof(zero) + PATH_MAX + 4) + 1;
	char *updates = xcalloc(size, 1);
	size_t len = 0;
	for (size_t i = 0; i < g->changes.ref_count; i++) {
		const struct ref_change *ref = &g->changes.refs[i];
		len += (size_t)snprintf(
		    updates + len, size - len, "%s %s %s\n",
		    ref->old_state.kind == STATE_OID ? ref->old_state.oid : zero,
		    ref->new_state.kind == STATE_OID ? ref->new_state.oid : zero, ref->name);
	}
	struct notify_request request = {g->policy.notify, g->audit.user,  g->audit.repo,
					 updates,	   NOTIFY_TIMEOUT, g->cfg.audit};
	if (notify_start(&request) < 0)
		warn_line("warning: notify could not be started: %s", strerror(errno));
	free(updates);
}

static int guard_write(int argc, char **argv)
{
	struct guard g = {0};
	clock_gettime(CLOCK_MONOTONIC, &g.began);
	parse_write_options(argc, argv, &g);
	stay_alive();
	util_set_prefix("error: gitcage: ");
	load_config(&g);
	int ok = verify(&g) == 0;
	int status = g.git_status;
	const char *verdict = status == 0 ? "ok" : "failed";
	if (!ok || rolled_back(&g.changes)) {
		status = EXIT_GITCAGE;
		verdict = ok ? "rolled back" : "failed";
		first_reason(&g);
	} else if (status != 0) {
		snprintf(g.reason, sizeof(g.reason), "%s",
			 status == EXIT_TIMEOUT ? "timeout" : "git failed");
	}
	tell_client(&g.changes);
	if (!ok)
		tell("%s", g.reason);
	write_audit(&g, status, verdict);
	if (status == 0)
		start_notify(&g);
	if (g.timing)
		print_timing(&g);
	changes_free(&g.changes);
	snapshot_free(&g.snapshot);
	config_free(&g.cfg);
	return status;
}

static int guard_verify(int argc, char **argv)
{
	struct config cfg;
	struct config_errors errors = {0};
	int first = 1, findings = 0;
	config_init(&cfg);
	if (argc > 3 && strcmp(argv[1], "--config") == 0) {
		if (config_load(argv[2], getuid(), &cfg, &errors) != 0) {
			for (size_t i = 0; i < errors.count; i++)
				warn_line("%s", errors.lines[i]);
			return EXIT_GITCAGE;
		}
		first = 3;
	}
	if (first < argc && strcmp(argv[first], "--") == 0)
		first++;
	if (first >= argc)
		usage();
	for (int i = first; i < argc; i++)
		findings += verify_offline(argv[i], cfg.repositories, stdout);
	fflush(stdout);
	config_free(&cfg);
	config_errors_free(&errors);
	return findings ? 1 : 0;
}

/* For tests and benchmarks: the snapshot gitcage would hand over, as a file. With --timing,
 * what taking and sealing it costs gitcage before every push. */
static int guard_snapshot(int argc, char **argv)
{
	struct error err;
	struct timespec began;
	int timing = argc == 3 && strcmp(argv[1], "--timing") == 0;
	if (argc != 2 + timing)
		usage();
	const char *dir = argv[1 + timing];
	int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		die_errno("%s", dir);
	clock_gettime(CLOCK_MONOTONIC, &began);
	int sealed = snapshot_take_memfd(fd, &err);
	long long took = microseconds_since(&began);
	struct stat st;
	if (sealed < 0 || fstat(sealed, &st) != 0)
		die("%s: %s", dir, err.message);
	if (timing)
		fprintf(stderr, "gitcage-guard: snapshot in %lld us (%lld bytes)\n", took,
			(long long)st.st_size);
	for (off_t offset = 0; offset < st.st_size;)
		if (sendfile(STDOUT_FILENO, sealed, &offset, (size_t)(st.st_size - offset)) <= 0)
			die_errno("cannot write the snapshot");
	close(sealed);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		usage();
	if (strcmp(argv[1], "write") == 0)
		return guard_write(argc - 1, argv + 1);
	if (strcmp(argv[1], "verify") == 0)
		return guard_verify(argc - 1, argv + 1);
	if (strcmp(argv[1], "snapshot") == 0)
		return guard_snapshot(argc - 1, argv + 1);
	usage();
}

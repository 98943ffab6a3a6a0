/* SPDX-License-Identifier: ISC */
/* The INI config (parsed with inih) -> struct config. Pure apart from reading the one fd. */
#ifndef GITCAGE_CONFIG_H
#define GITCAGE_CONFIG_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/util.h"

#define CONFIG_DEFAULT_PATH "/etc/gitcage/gitcage.conf"
#ifndef GITCAGE_HOOKS_DIR
#define GITCAGE_HOOKS_DIR "/usr/local/lib/gitcage/hooks"
#endif

/* A whitespace-separated list of words: users, @groups, ref patterns. */
struct words {
	char **items;
	size_t count;
};

struct limits {
	unsigned long long timeout;   /* seconds of wall clock; 0 = none */
	unsigned long long cpu;	      /* seconds of CPU (RLIMIT_CPU) */
	unsigned long long memory;    /* bytes of address space (RLIMIT_AS); with a cgroup, also
					 the session's memory.max */
	unsigned long long processes; /* RLIMIT_NPROC; with a cgroup, also pids.max */
	unsigned long long files;     /* open files (RLIMIT_NOFILE) */
	unsigned long long filesize;  /* bytes per written file (RLIMIT_FSIZE) */
	unsigned long long tmp;	      /* bytes of the sandbox's private /tmp */

	/* serve sessions at once, on the server and per user (0: no limit), and the seconds
	 * a session waits for a free slot. */
	unsigned long long sessions;
	unsigned long long user_sessions;
	unsigned long long session_wait;
	/* A cgroup v2 directory delegated to the service account: each sandbox runs in a leaf
	 * of its own with memory.max and pids.max. NULL: none (rlimits only). */
	char *cgroup;
};

struct config_group {
	char *name;
	struct words members; /* users; may also name other @groups */
	int line;
};

/* Git features gitcage.conf may turn on; each becomes a trusted -c setting (gitcmd.c). */
struct git_features {
	int allow_filter;	  /* partial clone: uploadpack.allowFilter */
	int push_options;	  /* git push -o: receive.advertisePushOptions */
	int archive_unreachable;  /* git archive --remote of any commit:
				     uploadArchive.allowUnreachable */
	struct words fsck_ignore; /* fsck message ids receive-pack ignores: receive.fsck.<id> */
};

/* How one word of a [repo ...] header names repositories. Names are compared without a
 * trailing ".git", as gitolite names them: [repo demo] and [repo demo.git] are one. */
enum repo_word_kind {
	REPO_WORD_NAME,	 /* exactly this repository */
	REPO_WORD_GLOB,	 /* fnmatch with FNM_PATHNAME: '*' does not cross '/' */
	REPO_WORD_REGEX, /* ~REGEX: POSIX ERE anchored at both ends, as gitolite's patterns */
	REPO_WORD_ALL,	 /* @all: every repository */
	REPO_WORD_GROUP, /* @group: only while parsing; then the group's members replace it */
};

struct repo_word {
	enum repo_word_kind kind;
	char *text; /* without ".git" (names, globs) or "~" (regexes) */
	regex_t regex;
};

/* What a rule grants, as gitolite's permission strings spell it. */
enum rule_bits {
	RULE_R = 1 << 0,
	RULE_W = 1 << 1,
	RULE_REWIND = 1 << 2, /* '+' */
	RULE_C = 1 << 3,      /* create refs ("RWC"), or repositories ("C" alone) */
	RULE_D = 1 << 4,
	RULE_DENY = 1 << 5, /* '-' */
};

/* One ref pattern of a rule, qualified as gitolite qualifies it: "refs/heads/" is put in front
 * unless it starts with "refs/"; no pattern at all is "refs/.*". */
struct rule_ref {
	char *text;
	regex_t regex; /* "^" + text; compiled when the text holds no "/USER/" */
	bool compiled;
};

/* One access rule: "PERM [REF...] = USERS" (or a shorthand key), in file order. */
struct access_rule {
	char *perm;    /* as written: "RW+", "-", "C"; "R" and "RW+" for read and write */
	unsigned bits; /* enum rule_bits */
	struct rule_ref *refs;
	size_t ref_count;
	struct words who; /* users, @groups, @all, CREATOR */
	char *text;	  /* the line as written, for messages: "RW+ main = alice" */
	int line;
};

struct repo_rule {
	char *path; /* the header's words as written, e.g. "demo.git ~u/CREATOR/..*" */
	struct repo_word *words;
	size_t word_count;
	struct access_rule *rules;
	size_t rule_count;
	struct words protect;
	int protect_line;
	unsigned long long max_blob_size; /* 0 = inherit the [server] default */
	int repo_hooks;			  /* -1 = inherit, 0 = no, 1 = yes */
	int deny_rules;			  /* -1 = inherit, 0 = no, 1 = yes */
	char *notify;			  /* NULL = inherit */
	struct git_features features;	  /* -1 and an empty list = inherit */
	int line;
};

struct config {
	const char *file; /* the name errors are reported with */
	/* [server] */
	char *repositories;   /* required by serve; absolute */
	char *git;	      /* default /usr/bin/git */
	char *audit;	      /* "syslog" (default), or an absolute file path */
	int audit_required;   /* refuse a call whose record cannot be written */
	char *keys;	      /* directory of USER.pub files, for `gitcage keys` */
	char *hooks;	      /* trusted hooks directory; default: the installed one */
	char *state;	      /* sessions, locks, journals; NULL: <repositories>/.gitcage */
	char *default_branch; /* HEAD of repositories gitcage creates */
	struct words protect; /* server-wide defaults for [repo] */
	int protect_line;
	unsigned long long max_blob_size; /* 0 = no limit */
	int repo_hooks;			  /* 0 or 1 */
	char *notify;
	struct git_features features; /* defaults for [repo]: each 0 (off) */
	char *push_cert_seed; /* a file with receive.certNonceSeed: signed pushes; NULL = off */
	/* [limits] */
	struct limits limits;
	/* [group NAME] */
	struct config_group *groups;
	size_t group_count;
	/* [repo PATH] */
	struct repo_rule *repos;
	size_t repo_count;
};

/* Every error found while parsing, each "FILE:LINE: message". */
struct config_errors {
	char **lines;
	size_t count;
};

/* Fill cfg with safe defaults (no repositories, default limits). */
void config_init(struct config *cfg);
void config_free(struct config *cfg);
void config_errors_free(struct config_errors *errors);

/* Parse an already opened regular file (as read_whole_file reads it). Unknown sections and keys and
 * bad values are errors; parsing goes on so that every error is reported at once. Returns the
 * number of errors. */
size_t config_parse_fd(int fd, const char *name, struct config *cfg, struct config_errors *errors);

/* Parse a string (for tests), or len bytes that may hold anything, NUL bytes too (for the
 * fuzz target: as config_parse_fd reads them). */
size_t config_parse_string(const char *text, const char *name, struct config *cfg,
			   struct config_errors *errors);
size_t config_parse_buffer(const char *text, size_t len, const char *name, struct config *cfg,
			   struct config_errors *errors);

/* Open path once, walking from / without following symbolic links; refuse it unless it and
 * every directory above it belong to root (or to also_trusted) and nobody else can write
 * them; then parse it, and check the git program (outside /usr) and the hooks directory it
 * names by the same rule. also_trusted is 0 for root alone: the config of serve, keys and
 * check-config. A uid there (the caller's own, for a file named on the command line of a
 * verb that needs only the caller's rights) also allows a root-owned sticky directory such
 * as /tmp above the file. Returns the number of errors (a refusal is one error, naming the
 * file and the reason). */
size_t config_load(const char *path, uid_t also_trusted, struct config *cfg,
		   struct config_errors *errors);

/* Group names: [A-Za-z0-9._-]+, not starting with '-' or '.'. */
bool config_valid_name(const char *name);

/* User names: as group names, and also '@' and '+' after the first character, as gitolite
 * allows them (user@example.com). */
bool config_valid_user(const char *name);

/* Split value at blanks into words; free them with config_words_free. */
void config_words_split(const char *value, struct words *out);
void config_words_free(struct words *words);

/* Why word cannot be a word of a [repo] header (a name, glob, ~REGEX or @group), or NULL. */
const char *config_repo_word_problem(const char *word);

/* "10M" -> 10485760; suffixes K, M, G, T (powers of 1024), no suffix = units.
 * Returns 0 or -1 on a malformed or overflowing value. */
int config_parse_size(const char *text, unsigned long long *out);

/* The name rules use for a repository path relative to repositories: without a trailing
 * ".git" ("team/demo.git" -> "team/demo"). Returns out, or NULL when it does not fit. */
char *config_repo_name(const char *relpath, char *out, size_t size);

/* True when the [repo] section rule covers the repository name (see config_repo_name). creator:
 * who created it, or NULL; "CREATOR" in a header word stands for that user, as in gitolite's
 * wild repositories (the first whole-word occurrence of creator in name is tried as CREATOR). */
bool config_repo_matches(const struct config *cfg, const struct repo_rule *rule, const char *name,
			 const char *creator);

/* The section for a repository path relative to repositories ("team/demo.git"): the first
 * that names it exactly, else the first whose patterns match. NULL if none. Access rules use
 * every matching section (acl.h); this is for code that wants one. */
const struct repo_rule *config_find_repo(const struct config *cfg, const char *relpath);

#endif

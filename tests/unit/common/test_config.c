/* SPDX-License-Identifier: ISC */
/* Unit tests for src/common/config.c, config_repo.c and config_ini.c. Run from the repository root:
 * one test reads config/gitcage.conf by its relative path. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/config.h"

#ifndef GITCAGE_HOOKS_DIR
#define GITCAGE_HOOKS_DIR "/usr/local/lib/gitcage/hooks"
#endif

#define NAME	       "t.conf"
#define EXAMPLE_CONFIG "config/gitcage.conf"

struct fixture {
	struct config cfg;
	struct config_errors errors;
	char dir[64]; /* a private temporary directory, for the config_load tests */
	char path[128];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	config_init(&f->cfg);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	config_free(&f->cfg);
	config_errors_free(&f->errors);
	if (f->path[0])
		unlink(f->path);
	if (f->dir[0])
		rmdir(f->dir);
	free(f);
	return 0;
}

static size_t parse(struct fixture *f, const char *text)
{
	return config_parse_string(text, NAME, &f->cfg, &f->errors);
}

/* Every error, in order, exactly. On a mismatch all are printed, to make it easy to read. */
static void assert_errors(const struct config_errors *errors, const char *const *expected,
			  size_t count)
{
	bool same = errors->count == count;
	for (size_t i = 0; same && i < count; i++)
		same = strcmp(errors->lines[i], expected[i]) == 0;
	for (size_t i = 0; !same && i < errors->count; i++)
		print_message("error %zu: %s\n", i, errors->lines[i]);
	assert_int_equal(errors->count, count);
	for (size_t i = 0; i < count; i++)
		assert_string_equal(errors->lines[i], expected[i]);
}

#define EXPECT_ERRORS(errors, ...)                                                                 \
	do {                                                                                       \
		const char *const expected_[] = {__VA_ARGS__};                                     \
		assert_errors(errors, expected_, sizeof(expected_) / sizeof(expected_[0]));        \
	} while (0)

/* Parse text into a fresh config; expect exactly one error, and compare it. */
static void expect_one_error(struct fixture *f, const char *text, const char *expected)
{
	config_free(&f->cfg);
	config_errors_free(&f->errors);
	config_init(&f->cfg);
	size_t count = config_parse_string(text, NAME, &f->cfg, &f->errors);
	EXPECT_ERRORS(&f->errors, expected);
	assert_int_equal(count, 1);
}

static void assert_words(const struct words *words, const char *joined)
{
	char buf[512] = "";
	for (size_t i = 0; i < words->count; i++) {
		if (i)
			strcat(buf, " ");
		strcat(buf, words->items[i]);
	}
	assert_string_equal(buf, joined);
}

/* The section's rules as written, one per line. */
static void assert_rules(const struct repo_rule *rule, const char *joined)
{
	char buf[1024] = "";
	for (size_t i = 0; i < rule->rule_count; i++) {
		if (i)
			strcat(buf, "\n");
		strcat(buf, rule->rules[i].text);
	}
	assert_string_equal(buf, joined);
}

/* ---- valid configs and defaults ---- */

static const char full_config[] = "; a full config\n"
				  "[server]\n"
				  "repositories = /srv/git\n"
				  "git = /opt/git/bin/git\n"
				  "audit = /var/log/gitcage.json\n"
				  "keys = /etc/gitcage/keys\n"
				  "hooks = /usr/lib/gitcage/hooks\n"
				  "protect = refs/heads/main refs/heads/release/*\n"
				  "max-blob-size = 100M\n"
				  "repo-hooks = yes\n"
				  "notify = /usr/local/bin/notify --all\n"
				  "\n"
				  "[limits]\n"
				  "timeout = 60\n"
				  "cpu = 30\n"
				  "memory = 2G\n"
				  "processes = 64\n"
				  "files = 1024\n"
				  "filesize = 1T\n"
				  "tmp = 64M\n"
				  "\n"
				  "[group devs]\n"
				  "members = alice bob @ops\n"
				  "[group ops]\n"
				  "members = carol\n"
				  "\n"
				  "[repo demo.git]\n"
				  "read = @all\n"
				  "write = alice @devs\n"
				  "protect = refs/heads/main refs/tags/*\n"
				  "max-blob-size = 10M\n"
				  "repo-hooks = no\n"
				  "notify = /usr/local/bin/ci-trigger demo\n"
				  "[repo team/*.git]   ; every team repository\n"
				  "read = @devs\n";

static void test_full_config(void **state)
{
	struct fixture *f = *state;
	struct config *cfg = &f->cfg;
	assert_int_equal(parse(f, full_config), 0);
	assert_int_equal(f->errors.count, 0);
	assert_string_equal(cfg->file, NAME);
	assert_string_equal(cfg->repositories, "/srv/git");
	assert_string_equal(cfg->git, "/opt/git/bin/git");
	assert_string_equal(cfg->audit, "/var/log/gitcage.json");
	assert_string_equal(cfg->keys, "/etc/gitcage/keys");
	assert_string_equal(cfg->hooks, "/usr/lib/gitcage/hooks");
	assert_words(&cfg->protect, "refs/heads/main refs/heads/release/*");
	assert_int_equal(cfg->max_blob_size, 100ULL << 20);
	assert_int_equal(cfg->repo_hooks, 1);
	assert_string_equal(cfg->notify, "/usr/local/bin/notify --all");

	assert_int_equal(cfg->limits.timeout, 60);
	assert_int_equal(cfg->limits.cpu, 30);
	assert_int_equal(cfg->limits.memory, 2ULL << 30);
	assert_int_equal(cfg->limits.processes, 64);
	assert_int_equal(cfg->limits.files, 1024);
	assert_int_equal(cfg->limits.filesize, 1ULL << 40);
	assert_int_equal(cfg->limits.tmp, 64ULL << 20);

	assert_int_equal(cfg->group_count, 2);
	assert_string_equal(cfg->groups[0].name, "devs");
	assert_words(&cfg->groups[0].members, "alice bob @ops");
	assert_int_equal(cfg->groups[0].line, 22);
	assert_string_equal(cfg->groups[1].name, "ops");
	assert_words(&cfg->groups[1].members, "carol");

	assert_int_equal(cfg->repo_count, 2);
	const struct repo_rule *demo = &cfg->repos[0];
	assert_string_equal(demo->path, "demo.git");
	assert_int_equal(demo->line, 27);
	assert_rules(demo, "read = @all\nwrite = alice @devs");
	assert_words(&demo->protect, "refs/heads/main refs/tags/*");
	assert_int_equal(demo->max_blob_size, 10ULL << 20);
	assert_int_equal(demo->repo_hooks, 0);
	assert_string_equal(demo->notify, "/usr/local/bin/ci-trigger demo");

	const struct repo_rule *team = &cfg->repos[1];
	assert_string_equal(team->path, "team/*.git"); /* the inline comment is not part of it */
	assert_int_equal(team->line, 34);
	assert_rules(team, "read = @devs");
	assert_int_equal(team->protect.count, 0);
	assert_int_equal(team->max_blob_size, 0); /* inherit */
	assert_int_equal(team->repo_hooks, -1);	  /* inherit */
	assert_null(team->notify);		  /* inherit */
}

static void assert_default_limits(const struct limits *limits)
{
	assert_int_equal(limits->timeout, 3600);
	assert_int_equal(limits->cpu, 600);
	assert_int_equal(limits->memory, 8ULL << 30);
	assert_int_equal(limits->processes, 512);
	assert_int_equal(limits->files, 4096);
	assert_int_equal(limits->filesize, 16ULL << 30);
	assert_int_equal(limits->tmp, 256ULL << 20);
	assert_int_equal(limits->sessions, 64);
	assert_int_equal(limits->user_sessions, 8);
	assert_int_equal(limits->session_wait, 10);
}

static void assert_server_defaults(const struct config *cfg)
{
	assert_string_equal(cfg->git, "/usr/bin/git");
	assert_string_equal(cfg->audit, "syslog");
	assert_int_equal(cfg->audit_required, 0);
	assert_null(cfg->keys);
	assert_int_equal(cfg->protect.count, 0);
	assert_int_equal(cfg->max_blob_size, 0);
	assert_int_equal(cfg->repo_hooks, 0);
	assert_null(cfg->notify);
}

static void test_defaults(void **state)
{
	struct fixture *f = *state;
	assert_null(f->cfg.repositories);
	assert_server_defaults(&f->cfg);
	assert_string_equal(f->cfg.hooks, GITCAGE_HOOKS_DIR);
	assert_null(f->cfg.state); /* <repositories>/.gitcage: state_default_path */
	assert_default_limits(&f->cfg.limits);
	assert_null(f->cfg.limits.cgroup);
	assert_int_equal(f->cfg.group_count, 0);
	assert_int_equal(f->cfg.repo_count, 0);

	/* An empty file and a file of comments change nothing. */
	assert_int_equal(parse(f, ""), 0);
	assert_int_equal(parse(f, "; nothing\n# at all\n\n   \n[server]\n[limits]\n"), 0);
	assert_null(f->cfg.repositories);
	assert_server_defaults(&f->cfg);
	assert_default_limits(&f->cfg.limits);
}

static void test_empty_repo_section(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(parse(f, "[repo quiet.git]\n"), 0);
	assert_int_equal(f->cfg.repo_count, 1);
	const struct repo_rule *rule = &f->cfg.repos[0];
	assert_string_equal(rule->path, "quiet.git");
	assert_int_equal(rule->rule_count, 0);
	assert_int_equal(rule->repo_hooks, -1);
}

static void test_booleans(void **state)
{
	static const char *const truths[] = {"yes", "true", "on", "1", "YES", "True"};
	static const char *const lies[] = {"no", "false", "off", "0", "No", "OFF"};
	struct fixture *f = *state;
	char text[128];
	for (size_t i = 0; i < sizeof(truths) / sizeof(truths[0]); i++) {
		snprintf(text, sizeof(text), "[repo a%zu.git]\nrepo-hooks = %s\n", i, truths[i]);
		assert_int_equal(parse(f, text), 0);
		assert_int_equal(f->cfg.repos[f->cfg.repo_count - 1].repo_hooks, 1);
		snprintf(text, sizeof(text), "[repo b%zu.git]\nrepo-hooks = %s\n", i, lies[i]);
		assert_int_equal(parse(f, text), 0);
		assert_int_equal(f->cfg.repos[f->cfg.repo_count - 1].repo_hooks, 0);
	}
	expect_one_error(f, "[server]\nrepo-hooks = maybe\n",
			 NAME ":2: invalid repo-hooks 'maybe' in [server]: expected yes, no, true, "
			      "false, on, off, 1 or 0");
}

static void test_audit_required(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(
	    parse(f, "[server]\naudit = /var/log/gitcage.json\naudit-required = yes\n"), 0);
	assert_int_equal(f->cfg.audit_required, 1);
	expect_one_error(f, "[server]\naudit-required = always\n",
			 NAME ":2: invalid audit-required 'always' in [server]: expected yes, no, "
			      "true, false, on, off, 1 or 0");
}

/* ---- sizes ---- */

static void test_parse_size_valid(void **state)
{
	static const struct {
		const char *text;
		unsigned long long value;
	} cases[] = {
	    {"0", 0},
	    {"1", 1},
	    {"007", 7},
	    {"512", 512},
	    {"10K", 10ULL << 10},
	    {"10k", 10ULL << 10},
	    {"10M", 10ULL << 20},
	    {"3G", 3ULL << 30},
	    {"2T", 2ULL << 40},
	    {"0T", 0},
	    {"18446744073709551615", ULLONG_MAX},
	    {"16777215T", 16777215ULL << 40},
	    {"17179869183G", 17179869183ULL << 30},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned long long value = 42;
		if (config_parse_size(cases[i].text, &value) != 0 || value != cases[i].value)
			fail_msg("size '%s': got %llu", cases[i].text, value);
	}
}

static void test_parse_size_invalid(void **state)
{
	static const char *const cases[] = {
	    "",
	    "K",
	    "-1",
	    "+1",
	    " 1",
	    "1 ",
	    "1 K",
	    "1KB",
	    "1.5G",
	    "0x10",
	    "1P",
	    "1e3",
	    "18446744073709551616", /* 2^64 */
	    "99999999999999999999999",
	    "16777216T",    /* 2^24 * 2^40 = 2^64 */
	    "17179869184G", /* 2^34 * 2^30 = 2^64 */
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned long long value = 42;
		/* -1, and the output untouched. */
		if (config_parse_size(cases[i], &value) != -1 || value != 42)
			fail_msg("size '%s' was accepted", cases[i]);
	}
}

static void test_limit_values(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(parse(f, "[limits]\ntimeout = 0\nmemory = 1\ntmp = 1K\n"), 0);
	assert_int_equal(f->cfg.limits.timeout, 0); /* none */
	assert_int_equal(f->cfg.limits.memory, 1);
	assert_int_equal(f->cfg.limits.tmp, 1024);
	assert_int_equal(parse(f, "[limits]\nmax-sessions = 0\nmax-user-sessions = 2\n"
				  "max-sessions-wait = 0\ncgroup = /sys/fs/cgroup/git\n"),
			 0);
	assert_int_equal(f->cfg.limits.sessions, 0); /* no limit */
	assert_int_equal(f->cfg.limits.user_sessions, 2);
	assert_int_equal(f->cfg.limits.session_wait, 0);
	assert_string_equal(f->cfg.limits.cgroup, "/sys/fs/cgroup/git");

	expect_one_error(f, "[limits]\ncgroup = git\n",
			 NAME ":2: invalid cgroup 'git' in [limits]: expected an absolute path");
	expect_one_error(f, "[limits]\nmax-user-sessions = some\n",
			 NAME ":2: invalid max-user-sessions 'some' in [limits]: expected a whole "
			      "number");
	expect_one_error(f, "[limits]\ncpu = 10M\n",
			 NAME ":2: invalid cpu '10M' in [limits]: expected a whole number of at "
			      "least 1");
	expect_one_error(f, "[limits]\ntimeout = 1h\n",
			 NAME ":2: invalid timeout '1h' in [limits]: expected a whole number");
	expect_one_error(f, "[limits]\ntimeout = -1\n",
			 NAME ":2: invalid timeout '-1' in [limits]: expected a whole number");
	expect_one_error(f, "[limits]\n\nprocesses = 0\n",
			 NAME
			 ":3: invalid processes '0' in [limits]: expected a whole number of at "
			 "least 1");
	expect_one_error(f, "[limits]\ntmp = 0\n",
			 NAME
			 ":2: invalid tmp '0' in [limits]: expected a size of at least 1, such "
			 "as 512K, 10M or 2G");
	expect_one_error(f, "[limits]\nmemory = 16777216T\n",
			 NAME ":2: invalid memory '16777216T' in [limits]: expected a size of at "
			      "least 1, such as 512K, 10M or 2G");
	expect_one_error(f, "[limits]\nfiles = 18446744073709551616\n",
			 NAME ":2: invalid files '18446744073709551616' in [limits]: expected a "
			      "whole number of at least 1");
	expect_one_error(f, "[server]\nmax-blob-size = 10 M\n",
			 NAME
			 ":2: invalid max-blob-size '10 M' in [server]: expected a size such as "
			 "0, 512K, 10M or 2G");
}

/* ---- errors name FILE:LINE ---- */

static void test_unknown_section(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(parse(f, "[server]\n"
				  "repositories = /srv/git\n"
				  "\n"
				  "[serveur]\n"
				  "git = /usr/bin/git\n" /* not reported again: its section is */
				  "[group]\n"
				  "[repo]\n"
				  "[server extra]\n"),
			 4);
	EXPECT_ERRORS(
	    &f->errors,
	    NAME ":4: unknown section [serveur] (expected [server], [limits], [group NAME] "
		 "or [repo PATH])",
	    NAME ":6: unknown section [group] (expected [server], [limits], [group NAME] "
		 "or [repo PATH])",
	    NAME ":7: unknown section [repo] (expected [server], [limits], [group NAME] "
		 "or [repo PATH])",
	    NAME ":8: unknown section [server extra] (expected [server], [limits], [group "
		 "NAME] or [repo PATH])");
	assert_string_equal(f->cfg.git, "/usr/bin/git");
}

static void test_unknown_key(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(parse(f, "[server]\n"		      /* 1 */
				  "repositories = /srv/git\n" /* 2 */
				  "\n"			      /* 3 */
				  "[group devs]\n"	      /* 4 */
				  "members = alice bob\n"     /* 5 */
				  "\n"			      /* 6 */
				  "; the demo\n"	      /* 7 */
				  "[repo demo.git]\n"	      /* 8 */
				  "read = @all\n"	      /* 9 */
				  "\n"			      /* 10 */
				  "# a typo follows\n"	      /* 11 */
				  "wirte = alice @devs\n"     /* 12 */
				  "[limits]\n"		      /* 13 */
				  "Timeout = 5\n"),	      /* 14: keys are case-sensitive */
			 2);
	EXPECT_ERRORS(&f->errors, NAME ":12: unknown key 'wirte' in [repo demo.git]",
		      NAME ":14: unknown key 'Timeout' in [limits]");
	assert_int_equal(f->cfg.limits.timeout, 3600);
	assert_rules(&f->cfg.repos[0], "read = @all");
}

static void test_bad_values(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(parse(f, "[server]\n"				  /* 1 */
				  "git = git\n"				  /* 2 */
				  "audit = journal\n"			  /* 3 */
				  "keys = keys/\n"			  /* 4 */
				  "hooks =\n"				  /* 5 */
				  "notify = ci-trigger\n"		  /* 6 */
				  "protect = main refs/heads/x\n"	  /* 7 */
				  "[repo a.git]\n"			  /* 8 */
				  "read = alice -bob .carol bad!name @\n" /* 9 */
				  "write = @.x @all\n"			  /* 10 */
				  "max-blob-size = lots\n"),		  /* 11 */
			 12);
	EXPECT_ERRORS(
	    &f->errors, NAME ":2: invalid git 'git' in [server]: expected an absolute path",
	    NAME ":3: invalid audit 'journal' in [server]: expected syslog or an absolute "
		 "file path",
	    NAME ":4: invalid keys 'keys/' in [server]: expected an absolute path",
	    NAME ":5: invalid hooks '' in [server]: expected an absolute path",
	    NAME ":6: invalid notify 'ci-trigger' in [server]: expected an absolute path "
		 "to a program, then its arguments",
	    NAME ":7: invalid protect in [server]: 'main' is not a ref pattern (it must "
		 "start with refs/)",
	    NAME ":9: invalid read in [repo a.git]: '-bob' is not a user name or @group",
	    NAME ":9: invalid read in [repo a.git]: '.carol' is not a user name or @group",
	    NAME ":9: invalid read in [repo a.git]: 'bad!name' is not a user name or @group",
	    NAME ":9: invalid read in [repo a.git]: '@' is not a user name or @group",
	    NAME ":10: invalid write in [repo a.git]: '@.x' is not a user name or @group",
	    NAME ":11: invalid max-blob-size 'lots' in [repo a.git]: expected a size such "
		 "as 0, 512K, 10M or 2G");
	/* A bad value leaves the default in place. */
	assert_string_equal(f->cfg.git, "/usr/bin/git");
	assert_string_equal(f->cfg.audit, "syslog");
	assert_int_equal(f->cfg.protect.count, 0);
	assert_int_equal(f->cfg.repos[0].rule_count, 0);
}

static void test_control_characters_in_paths(void **state)
{
	struct fixture *f = *state;
	expect_one_error(f, "[server]\ngit = /usr/bin/g\033it\n",
			 NAME
			 ":2: invalid git '/usr/bin/g\033it' in [server]: expected an absolute "
			 "path");
}

static void test_duplicates(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(parse(f, "[server]\n"			/* 1 */
				  "repositories = /srv/git\n"	/* 2 */
				  "repositories = /srv/other\n" /* 3 */
				  "[repo demo.git]\n"		/* 4 */
				  "read = alice\n"		/* 5 */
				  "read = bob\n"		/* 6 */
				  "[group devs]\n"		/* 7 */
				  "[repo demo.git]\n"		/* 8: repeats add rules */
				  "write = mallory\n"		/* 9 */
				  "[group devs]\n"		/* 10 */
				  "[server]\n"			/* 11 */
				  "[limits]\n"			/* 12 */
				  "[limits]\n"),		/* 13 */
			 5);
	EXPECT_ERRORS(&f->errors,
		      NAME ":3: duplicate key 'repositories' in [server] (first set at line 2)",
		      NAME ":6: duplicate key 'read' in [repo demo.git] (first set at line 5)",
		      NAME ":10: duplicate section [group devs] (first at line 7)",
		      NAME ":11: duplicate section [server] (first at line 1)",
		      NAME ":13: duplicate section [limits] (first at line 12)");
	/* The first value stays. A [repo] may come again, as gitolite's repo lines may: every
	 * section that matches contributes its rules, in file order. */
	assert_string_equal(f->cfg.repositories, "/srv/git");
	assert_int_equal(f->cfg.repo_count, 2);
	assert_rules(&f->cfg.repos[0], "read = alice");
	assert_rules(&f->cfg.repos[1], "write = mallory");
	assert_int_equal(f->cfg.group_count, 1);
}

static void test_relative_repositories(void **state)
{
	struct fixture *f = *state;
	expect_one_error(f, "; gitcage\n\n[server]\nrepositories = srv/git\n",
			 NAME
			 ":4: invalid repositories 'srv/git' in [server]: expected an absolute "
			 "path");
}

static void test_repo_paths(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(parse(f, "[repo ../etc.git]\n"	      /* 1 */
				  "read = @all\n"	      /* 2: not reported again */
				  "[repo team/../../x.git]\n" /* 3 */
				  "[repo /srv/git/a.git]\n"   /* 4 */
				  "[repo ./a.git]\n"	      /* 5 */
				  "[repo a/~alice.git]\n"     /* 6 */
				  "[repo a//b.git]\n"	      /* 7 */
				  "[repo team/]\n"	      /* 8 */
				  "[repo a\033b.git]\n"	      /* 9 */
				  "[repo team/..]\n"),	      /* 10 */
			 9);
	EXPECT_ERRORS(
	    &f->errors,
	    NAME ":1: invalid repository path '../etc.git': it must not contain '.' or "
		 "'..' components",
	    NAME ":3: invalid repository path 'team/../../x.git': it must not contain '.' "
		 "or '..' components",
	    NAME ":4: invalid repository path '/srv/git/a.git': it must be relative to "
		 "repositories (no leading '/')",
	    NAME ":5: invalid repository path './a.git': it must not contain '.' or '..' "
		 "components",
	    NAME ":6: invalid repository path 'a/~alice.git': it must not contain '~'",
	    NAME ":7: invalid repository path 'a//b.git': it must not contain empty "
		 "components ('//' or a trailing '/')",
	    NAME ":8: invalid repository path 'team/': it must not contain empty "
		 "components ('//' or a trailing '/')",
	    NAME ":9: invalid repository path 'a\033b.git': it must not contain control "
		 "characters",
	    NAME ":10: invalid repository path 'team/..': it must not contain '.' or '..' "
		 "components");
	assert_int_equal(f->cfg.repo_count, 0);
}

static void test_dots_inside_names_are_fine(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(parse(f, "[repo a..b.git]\n[repo .../x.git]\n[repo x.y/z.git]\n"), 0);
	assert_int_equal(f->cfg.repo_count, 3);
}

static void test_group_names(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(parse(f, "[group all]\n"	     /* 1 */
				  "members = alice\n"	     /* 2: not reported again */
				  "[group -x]\n"	     /* 3 */
				  "[group .x]\n"	     /* 4 */
				  "[group a b]\n"	     /* 5 */
				  "[group ok.name_1-2]\n"    /* 6 */
				  "members = A.b_c-1 @x\n"), /* 7 */
			 5);
	EXPECT_ERRORS(&f->errors,
		      NAME ":1: invalid group name 'all': use [A-Za-z0-9._-], not starting with "
			   "'-' or '.'; 'all' is reserved",
		      NAME ":3: invalid group name '-x': use [A-Za-z0-9._-], not starting with "
			   "'-' or '.'; 'all' is reserved",
		      NAME ":4: invalid group name '.x': use [A-Za-z0-9._-], not starting with "
			   "'-' or '.'; 'all' is reserved",
		      NAME ":5: invalid group name 'a b': use [A-Za-z0-9._-], not starting with "
			   "'-' or '.'; 'all' is reserved",
		      /* Groups are checked once the whole file is read. */
		      NAME ":7: unknown group '@x': there is no [group x]");
	assert_int_equal(f->cfg.group_count, 1);
}

static void test_groups_may_be_defined_later(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(parse(f, "[repo a.git]\nread = @late\n[group late]\nmembers = @all\n"), 0);
}

static void test_unknown_group(void **state)
{
	struct fixture *f = *state;
	expect_one_error(f, "[group devs]\nmembers = alice\n[repo a.git]\n\nwrite = @dves\n",
			 NAME ":5: unknown group '@dves': there is no [group dves]");
}

static void test_syntax_errors(void **state)
{
	struct fixture *f = *state;
	char long_line[400];
	snprintf(long_line, sizeof(long_line), "members = %0300d\n", 0);
	char text[2048];
	snprintf(text, sizeof(text),
		 "repositories = /srv/git\n" /* 1: before any section */
		 "[server\n"		     /* 2 */
		 "git = /usr/bin/git\n"	     /* 3: not reported: the header is */
		 "[limits]\n"		     /* 4 */
		 "timeout\n"		     /* 5 */
		 "= 5\n"		     /* 6 */
		 "[group devs]\n"	     /* 7 */
		 "%s"			     /* 8 */
		 "[limits] trailing\n"	     /* 9 */
		 "cpu = 5\n",		     /* 10: not reported: the header is */
		 long_line);
	assert_int_equal(parse(f, text), 6);
	EXPECT_ERRORS(&f->errors, NAME ":1: key 'repositories' comes before any [section]",
		      NAME ":2: malformed section header '[server': expected [NAME]",
		      NAME ":5: expected 'key = value', a [section] header or a comment",
		      NAME ":6: missing key name before '='",
		      NAME ":8: line is too long (310 characters; inih takes at most 199)",
		      NAME ":9: malformed section header '[limits] trailing': expected [NAME]");
	/* Keys under a bad header are ignored, not applied to the section before it. */
	assert_null(f->cfg.repositories);
	assert_int_equal(f->cfg.limits.cpu, 600);
}

/* inih would take an indented line as the continuation of the previous value: not here. */
static void test_indented_lines(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(parse(f, "[group devs]\n"
				  "\tmembers = alice\n"
				  "    bob\n"
				  "  [repo a.git]\n"
				  "    read = @devs   ; a comment\n"),
			 1);
	EXPECT_ERRORS(&f->errors,
		      NAME ":3: expected 'key = value', a [section] header or a comment");
	assert_words(&f->cfg.groups[0].members, "alice");
	assert_rules(&f->cfg.repos[0], "read = @devs");
}

/* inih keeps only 49 bytes of a section name; a cut [repo] name would be another repo's. */
static void test_long_section_names(void **state)
{
	struct fixture *f = *state;
	const char *path = "a-rather-long-team-name/and-a-long-project-name-too/"
			   "with-a-long-repository-name.git";
	char text[512];
	snprintf(text, sizeof(text), "[repo %s]\nread = alice\n", path);
	assert_int_equal(parse(f, text), 0);
	assert_int_equal(f->cfg.repo_count, 1);
	assert_string_equal(f->cfg.repos[0].path, path);
	assert_rules(&f->cfg.repos[0], "read = alice");
}

static void test_line_endings_and_bom(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(parse(f, "\xEF\xBB\xBF[server]\r\n"
				  "repositories = /srv/git\r\n"
				  "wrong = 1\r\n"
				  "git = /usr/bin/git"), /* no final newline */
			 1);
	EXPECT_ERRORS(&f->errors, NAME ":3: unknown key 'wrong' in [server]");
	assert_string_equal(f->cfg.repositories, "/srv/git");
}

static void test_glob_sections(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(parse(f, "[repo team/[ab]*.git] ; brackets in a glob\nread = x\n"), 0);
	assert_string_equal(f->cfg.repos[0].path, "team/[ab]*.git");
}

static void test_many_errors_reported_at_once(void **state)
{
	struct fixture *f = *state;
	size_t count = parse(f, "[server]\n"		  /* 1 */
				"repositories = srv\n"	  /* 2 */
				"gti = /usr/bin/git\n"	  /* 3 */
				"[limits]\n"		  /* 4 */
				"memory = 8Q\n"		  /* 5 */
				"[group all]\n"		  /* 6 */
				"[repo ../x.git]\n"	  /* 7 */
				"[repo ok.git]\n"	  /* 8 */
				"read = @nobody\n"	  /* 9 */
				"wirte = alice\n"	  /* 10 */
				"[repo ok.git]\n"	  /* 11: a repeat is fine */
				"[bogus]\n"		  /* 12 */
				"no equals sign here\n"); /* 13 */
	assert_int_equal(count, 9);
	assert_int_equal(f->errors.count, 9);
	static const char *const lines[] = {
	    ":2: ", ":3: ", ":5: ", ":6: ", ":7: ", ":10: ", ":12: ", ":13: ", ":9: "};
	for (size_t i = 0; i < 9; i++) {
		if (!strstr(f->errors.lines[i], lines[i]))
			print_message("%s\n", f->errors.lines[i]);
		assert_non_null(strstr(f->errors.lines[i], lines[i]));
		assert_int_equal(strncmp(f->errors.lines[i], NAME ":", strlen(NAME ":")), 0);
	}
}

/* Errors accumulate in the caller's list; the count returned is this parse's. */
static void test_errors_accumulate(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(parse(f, "[x]\n"), 1);
	assert_int_equal(config_parse_string("[y]\n[z]\n", "other.conf", &f->cfg, &f->errors), 2);
	EXPECT_ERRORS(
	    &f->errors,
	    NAME ":1: unknown section [x] (expected [server], [limits], [group NAME] or "
		 "[repo PATH])",
	    "other.conf:1: unknown section [y] (expected [server], [limits], [group NAME] "
	    "or [repo PATH])",
	    "other.conf:2: unknown section [z] (expected [server], [limits], [group NAME] "
	    "or [repo PATH])");
}

/* ---- config_parse_fd and config_load ---- */

static void make_temp_dir(struct fixture *f)
{
	snprintf(f->dir, sizeof(f->dir), "/tmp/gitcage-test-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/gitcage.conf", f->dir);
}

/* Write text to the fixture's file with mode; returns an fd open on it. */
static int write_config(struct fixture *f, const char *text, size_t len, mode_t mode)
{
	if (!f->dir[0])
		make_temp_dir(f);
	int fd = open(f->path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0); /* not subject to the umask */
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

static void test_parse_fd(void **state)
{
	struct fixture *f = *state;
	static const char text[] = "[server]\nrepositories = /srv/git\n";
	int fd = write_config(f, text, strlen(text), 0644);
	size_t count = config_parse_fd(fd, f->path, &f->cfg, &f->errors);
	close(fd);
	assert_int_equal(count, 0);
	assert_string_equal(f->cfg.repositories, "/srv/git");
	assert_string_equal(f->cfg.file, f->path);
}

static void test_parse_fd_nul_byte(void **state)
{
	struct fixture *f = *state;
	static const char text[] = "[server]\ngit = /usr/bin/\0git\nkeys = /k\n";
	int fd = write_config(f, text, sizeof(text) - 1, 0644);
	size_t count = config_parse_fd(fd, "nul.conf", &f->cfg, &f->errors);
	close(fd);
	assert_int_equal(count, 1);
	EXPECT_ERRORS(&f->errors, "nul.conf:2: line contains a NUL byte");
	assert_string_equal(f->cfg.git, "/usr/bin/git");
	assert_string_equal(f->cfg.keys, "/k"); /* parsing went on */
}

static void test_parse_fd_bad_fd(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(config_parse_fd(-1, "gone.conf", &f->cfg, &f->errors), 1);
	EXPECT_ERRORS(&f->errors, "gone.conf: Bad file descriptor");
}

/* Read through a sparse file rather than allocate a huge one. */
static void test_parse_fd_too_large(void **state)
{
	struct fixture *f = *state;
	int fd = write_config(f, "", 0, 0644);
	assert_int_equal(ftruncate(fd, 17 << 20), 0);
	size_t count = config_parse_fd(fd, "big.conf", &f->cfg, &f->errors);
	close(fd);
	assert_int_equal(count, 1);
	EXPECT_ERRORS(&f->errors, "big.conf: larger than 16 MiB; refusing it");
}

static const char valid_text[] = "[server]\nrepositories = /srv/git\n";

/* The owner trusted besides root in these tests. The fixtures live under /tmp, which only a
 * rule with a second owner accepts (a sticky directory); as root, that owner is a uid nobody
 * uses, and the files are root's. */
static uid_t trusted_uid(void)
{
	return geteuid() == 0 ? 4242 : getuid();
}

static size_t load(struct fixture *f, uid_t also_trusted)
{
	return config_load(f->path, also_trusted, &f->cfg, &f->errors);
}

/* "PATH: refusing this config file: REASON" */
static void expect_refusal(struct fixture *f, const char *reason)
{
	char expected[512];
	snprintf(expected, sizeof(expected), "%s: refusing this config file: %s", f->path, reason);
	EXPECT_ERRORS(&f->errors, expected);
}

static void test_load_accepts_own_0644(void **state)
{
	struct fixture *f = *state;
	close(write_config(f, valid_text, strlen(valid_text), 0644));
	assert_int_equal(load(f, trusted_uid()), 0);
	assert_int_equal(f->errors.count, 0);
	assert_string_equal(f->cfg.repositories, "/srv/git");
	assert_string_equal(f->cfg.file, f->path);
}

static void test_load_refuses_world_writable(void **state)
{
	struct fixture *f = *state;
	close(write_config(f, valid_text, strlen(valid_text), 0666));
	assert_int_equal(load(f, trusted_uid()), 1);
	expect_refusal(f, "others can write it (mode 0666)");
	assert_null(f->cfg.repositories); /* not parsed at all */
}

/* Writable by its group, whichever group that is: root's group too. */
static void test_load_refuses_group_writable(void **state)
{
	struct fixture *f = *state;
	char reason[128];
	struct stat st;
	int fd = write_config(f, valid_text, strlen(valid_text), 0664);
	assert_int_equal(fstat(fd, &st), 0);
	close(fd);
	assert_int_equal(load(f, trusted_uid()), 1);
	snprintf(reason, sizeof(reason), "group %u can write it (mode 0664)", (unsigned)st.st_gid);
	expect_refusal(f, reason);
}

/* Owned by neither root nor the trusted uid. As root, give the file to another uid.
 * Otherwise the file is ours, made right in /tmp (our own directory would be refused first),
 * and the trusted uid is said to be someone else's. */
static void test_load_refuses_other_owner(void **state)
{
	struct fixture *f = *state;
	char reason[128];
	uid_t owner = getuid(), trusted = owner + 1;
	int fd;
	if (geteuid() == 0) {
		owner = 4243;
		trusted = 4242;
		fd = write_config(f, valid_text, strlen(valid_text), 0644);
		assert_int_equal(fchown(fd, owner, (gid_t)-1), 0);
	} else {
		snprintf(f->path, sizeof(f->path), "/tmp/gitcage-test-XXXXXX");
		fd = mkstemp(f->path);
		assert_true(fd >= 0);
		assert_int_equal(fchmod(fd, 0644), 0);
	}
	close(fd);
	assert_int_equal(load(f, trusted), 1);
	snprintf(reason, sizeof(reason), "it belongs to uid %u, not root or uid %u",
		 (unsigned)owner, (unsigned)trusted);
	expect_refusal(f, reason);
}

/* Root alone: /tmp, where the fixture lives, is open to everyone (the sticky bit is not
 * enough when nothing but root may be on the path). */
static void test_load_root_alone_refuses_a_sticky_parent(void **state)
{
	struct fixture *f = *state;
	close(write_config(f, valid_text, strlen(valid_text), 0644));
	assert_int_equal(load(f, 0), 1);
	expect_refusal(f, "others can write the directory /tmp above it (mode 1777)");
}

static void test_load_refuses_writable_parent(void **state)
{
	struct fixture *f = *state;
	char reason[256];
	close(write_config(f, valid_text, strlen(valid_text), 0644));
	assert_int_equal(chmod(f->dir, 0777), 0);
	assert_int_equal(load(f, trusted_uid()), 1);
	snprintf(reason, sizeof(reason), "others can write the directory %s above it (mode 0777)",
		 f->dir);
	expect_refusal(f, reason);
}

static void test_load_refuses_symlink(void **state)
{
	struct fixture *f = *state;
	char target[160];
	close(write_config(f, valid_text, strlen(valid_text), 0644));
	snprintf(target, sizeof(target), "%s/real.conf", f->dir);
	assert_int_equal(rename(f->path, target), 0);
	assert_int_equal(symlink("real.conf", f->path), 0);
	assert_int_equal(load(f, trusted_uid()), 1);
	expect_refusal(f, "it is a symbolic link");
	unlink(target);
}

static void test_load_refuses_symlink_above(void **state)
{
	struct fixture *f = *state;
	char real_dir[96], link_dir[96], through[160];
	close(write_config(f, valid_text, strlen(valid_text), 0644));
	snprintf(real_dir, sizeof(real_dir), "%s", f->dir);
	snprintf(link_dir, sizeof(link_dir), "%s.link", f->dir);
	assert_int_equal(symlink(real_dir, link_dir), 0);
	snprintf(through, sizeof(through), "%s/gitcage.conf", link_dir);
	size_t count = config_load(through, trusted_uid(), &f->cfg, &f->errors);
	unlink(link_dir);
	assert_int_equal(count, 1);
	char expected[512];
	snprintf(expected, sizeof(expected),
		 "%s: refusing this config file: a symbolic link is on its path: %s", through,
		 link_dir);
	EXPECT_ERRORS(&f->errors, expected);
}

static void test_load_accepts_service_owner(void **state)
{
	struct fixture *f = *state;
	int fd = write_config(f, valid_text, strlen(valid_text), 0600);
	uid_t service = getuid();
	if (geteuid() == 0) {
		service = 4242;
		assert_int_equal(fchown(fd, service, (gid_t)-1), 0);
	}
	close(fd);
	assert_int_equal(load(f, service), 0);
}

static void test_load_missing_file(void **state)
{
	struct fixture *f = *state;
	make_temp_dir(f);
	assert_int_equal(load(f, trusted_uid()), 1);
	char expected[256];
	snprintf(expected, sizeof(expected), "%s: %s", f->path, strerror(ENOENT));
	EXPECT_ERRORS(&f->errors, expected);
}

static void test_load_refuses_directory(void **state)
{
	struct fixture *f = *state;
	make_temp_dir(f);
	assert_int_equal(mkdir(f->path, 0755), 0);
	size_t count = load(f, trusted_uid());
	rmdir(f->path);
	f->path[0] = '\0';
	assert_int_equal(count, 1);
	assert_non_null(strstr(f->errors.lines[0], "refusing this config file: it is not a "
						   "regular file"));
}

static void test_load_reports_parse_errors(void **state)
{
	struct fixture *f = *state;
	static const char text[] = "[server]\nrepositorys = /srv/git\n";
	close(write_config(f, text, strlen(text), 0644));
	assert_int_equal(load(f, trusted_uid()), 1);
	char expected[256];
	snprintf(expected, sizeof(expected), "%s:2: unknown key 'repositorys' in [server]",
		 f->path);
	EXPECT_ERRORS(&f->errors, expected);
}

/* A file in the fixture's directory, for git = and hooks =. */
static void fixture_file(struct fixture *f, const char *name, char *out, size_t size)
{
	snprintf(out, size, "%s/%s", f->dir, name);
}

/* The git program outside /usr and the hooks directory are held to the config's rule. */
static void test_load_refuses_untrusted_git_and_hooks(void **state)
{
	struct fixture *f = *state;
	char git[160], hooks[160], text[512], expected[2][512];
	make_temp_dir(f);
	fixture_file(f, "git", git, sizeof(git));
	fixture_file(f, "hooks", hooks, sizeof(hooks));
	int fd = open(git, O_WRONLY | O_CREAT | O_CLOEXEC, 0755);
	assert_true(fd >= 0);
	assert_int_equal(fchmod(fd, 0777), 0);
	close(fd);
	assert_int_equal(mkdir(hooks, 0755), 0);
	assert_int_equal(chmod(hooks, 0775), 0);
	snprintf(text, sizeof(text), "[server]\ngit = %s\nhooks = %s\n", git, hooks);
	close(write_config(f, text, strlen(text), 0644));
	size_t count = load(f, trusted_uid());
	struct stat st;
	assert_int_equal(stat(hooks, &st), 0);
	unlink(git);
	rmdir(hooks);
	assert_int_equal(count, 2);
	snprintf(expected[0], sizeof(expected[0]),
		 "%s: refusing this git program: others can write it (mode 0777)", git);
	snprintf(expected[1], sizeof(expected[1]),
		 "%s: refusing this hooks directory: group %u can write it (mode 0775)", hooks,
		 (unsigned)st.st_gid);
	EXPECT_ERRORS(&f->errors, expected[0], expected[1]);
}

/* Absent, they are left to the step that uses them; under /usr, git is the system's. */
static void test_load_accepts_absent_hooks_and_system_git(void **state)
{
	struct fixture *f = *state;
	char hooks[160], text[512];
	make_temp_dir(f);
	fixture_file(f, "no-hooks", hooks, sizeof(hooks));
	snprintf(text, sizeof(text), "[server]\ngit = /usr/bin/git\nhooks = %s\n", hooks);
	close(write_config(f, text, strlen(text), 0644));
	assert_int_equal(load(f, trusted_uid()), 0);
}

/* ---- access rules ---- */

static void test_rules(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(parse(f, "[group devs]\nmembers = alice\nmembers = bob\n"
				  "[repo demo ~u/CREATOR/..* @devs]\n"
				  "RW+ = alice\n"
				  "- master refs/tags/v[0-9] = @devs CREATOR\n"
				  "RWCD feature/ = bob\n"
				  "C = @all\n"),
			 0);
	assert_words(&f->cfg.groups[0].members, "alice bob"); /* members may repeat */
	const struct repo_rule *rule = &f->cfg.repos[0];
	assert_int_equal(rule->word_count, 4); /* the group's two members replace @devs */
	assert_int_equal(rule->words[0].kind, REPO_WORD_NAME);
	assert_int_equal(rule->words[1].kind, REPO_WORD_REGEX);
	assert_string_equal(rule->words[1].text, "u/CREATOR/..*");
	assert_string_equal(rule->words[2].text, "alice");
	assert_rules(rule, "RW+ = alice\n- master refs/tags/v[0-9] = @devs CREATOR\n"
			   "RWCD feature/ = bob\nC = @all");
	assert_int_equal(rule->rules[0].ref_count, 1);
	assert_string_equal(rule->rules[0].refs[0].text, "refs/.*");
	assert_string_equal(rule->rules[1].refs[0].text, "refs/heads/master");
	assert_string_equal(rule->rules[1].refs[1].text, "refs/tags/v[0-9]");
	assert_int_equal(rule->rules[1].bits, RULE_DENY);
	assert_int_equal(rule->rules[2].bits, RULE_R | RULE_W | RULE_C | RULE_D);
	assert_int_equal(rule->rules[2].line, 7);
	assert_int_equal(rule->rules[3].bits, RULE_C);
}

static void test_bad_rules(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(parse(f, "[repo a]\n"			      /* 1 */
				  "RWM = alice\n"		      /* 2 */
				  "RW VREF/NAME/x = alice\n"	      /* 3 */
				  "R master = alice\n"		      /* 4 */
				  "C foo = alice\n"		      /* 5 */
				  "RW ma(ster = alice\n"	      /* 6 */
				  "RW+ =\n"			      /* 7 */
				  "RW = al!ce @nogroup\n"	      /* 8 */
				  "WR = alice\n"		      /* 9 */
				  "read = CREATOR\n"		      /* 10 */
				  "[repo ~a(b @nogroup2]\n"	      /* 11 */
				  "[server]\ndefault-branch = -x\n"), /* 12, 13 */
			 12);
	EXPECT_ERRORS(
	    &f->errors,
	    NAME ":2: unsupported rule 'RWM' in [repo a]: M (merge checks) is not supported",
	    NAME ":3: invalid ref pattern 'VREF/NAME/x' in [repo a]: VREF rules are not supported",
	    NAME ":4: rule 'R master' in [repo a] takes no ref pattern: reads cannot be limited "
		 "to some refs",
	    NAME ":5: rule 'C foo' in [repo a] takes no ref pattern: it is about creating "
		 "repositories",
	    NAME ":6: invalid ref pattern 'ma(ster' in [repo a]: it is not a valid extended "
		 "regular expression",
	    NAME ":7: rule 'RW+' in [repo a] names nobody",
	    NAME ":8: invalid rule 'RW' in [repo a]: 'al!ce' is not a user name or @group",
	    NAME ":9: unknown key 'WR' in [repo a]",
	    NAME ":11: invalid repository path '~a(b': it is not a valid extended regular "
		 "expression",
	    NAME ":13: invalid default-branch '-x' in [server]: expected a branch name such as "
		 "main",
	    NAME ":8: unknown group '@nogroup': there is no [group nogroup]",
	    NAME ":11: unknown group '@nogroup2': there is no [group nogroup2]");
	assert_int_equal(f->cfg.repos[0].rule_count, 1); /* read = CREATOR is a rule too */
	assert_string_equal(f->cfg.default_branch, "main");
}

/* glibc's regcomp spells repetitions out, and nested ones multiply: a pattern that would take
 * gigabytes is refused before regcomp sees it; ordinary repetitions pass. */
static void test_costly_patterns(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(parse(f,
			       "[repo ~team/[a-z]+(-[0-9]{1,3})? ~u/(x|y){100} ~[[:alpha:]]{3}]\n"
			       "RW+ release/[0-9]+\\.[0-9]+ (a{100}){100} = alice\n"
			       "RW [a-z]{3}(x|y)* = alice\n"),
			 0);
	assert_int_equal(f->cfg.repos[0].rule_count, 2);
	const char *costly[] = {
	    "a++++++++++++++++++++++++++++++++++++++++", /* 2^40 copies */
	    "x{32767}{32767}",
	    "(a{300}){300}",
	    "((((a{9}){9}){9}){9}){9}",
	    NULL, /* 64 groups, one inside the other */
	};
	char deep[64 + 1 + 64 + 1];
	memset(deep, '(', 64);
	deep[64] = 'a';
	memset(deep + 65, ')', 64);
	deep[129] = '\0';
	costly[ARRAY_SIZE(costly) - 1] = deep;
	for (size_t i = 0; i < ARRAY_SIZE(costly); i++) {
		char text[512], expected[512];
		snprintf(text, sizeof(text), "[repo a]\nRW %s = alice\n", costly[i]);
		snprintf(expected, sizeof(expected),
			 NAME ":2: invalid ref pattern '%s' in [repo a]: it repeats too much "
			      "(regcomp would spell out more than 65536 pieces)",
			 costly[i]);
		expect_one_error(f, text, expected);
		snprintf(text, sizeof(text), "[repo ~%s]\n", costly[i]);
		snprintf(expected, sizeof(expected),
			 NAME ":1: invalid repository path '~%s': it repeats too much (regcomp "
			      "would spell out more than 65536 pieces)",
			 costly[i]);
		expect_one_error(f, text, expected);
	}
}

/* ---- config_find_repo ---- */

static void test_find_repo(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(parse(f, "[repo team/*.git]\n"
				  "[repo *.git]\n"
				  "[repo team/special.git]\n"
				  "[repo team/s*.git]\n"
				  "[repo exact.git]\n"),
			 0);
	const struct config *cfg = &f->cfg;
	/* Exact first, even when a glob comes earlier in the file. */
	assert_ptr_equal(config_find_repo(cfg, "team/special.git"), &cfg->repos[2]);
	assert_ptr_equal(config_find_repo(cfg, "exact.git"), &cfg->repos[4]);
	/* Else the first glob in file order. */
	assert_ptr_equal(config_find_repo(cfg, "team/small.git"), &cfg->repos[0]);
	assert_ptr_equal(config_find_repo(cfg, "other.git"), &cfg->repos[1]);
	/* '*' does not cross '/'. */
	assert_null(config_find_repo(cfg, "team/sub/x.git"));
	assert_null(config_find_repo(cfg, "x/y.git"));
	/* Names compare without ".git", as gitolite's: team/x is what team/x.git is. */
	assert_ptr_equal(config_find_repo(cfg, "team/x"), &cfg->repos[0]);
	assert_null(config_find_repo(cfg, ""));
	assert_null(config_find_repo(cfg, NULL));
	assert_null(config_find_repo(NULL, "exact.git"));
}

static void test_find_repo_none(void **state)
{
	struct fixture *f = *state;
	assert_null(config_find_repo(&f->cfg, "demo.git"));
}

/* ---- the example config ---- */

static void test_example_config_parses(void **state)
{
	struct fixture *f = *state;
	int fd = open(EXAMPLE_CONFIG, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fail_msg("%s: %s (run the tests from the repository root)", EXAMPLE_CONFIG,
			 strerror(errno));
	size_t count = config_parse_fd(fd, EXAMPLE_CONFIG, &f->cfg, &f->errors);
	close(fd);
	assert_errors(&f->errors, NULL, 0);
	assert_int_equal(count, 0);
	assert_string_equal(f->cfg.repositories, "/srv/git/repositories");
	/* The example's one other setting: the key directory make install and the package make. */
	assert_string_equal(f->cfg.keys, "/etc/gitcage/keys");
	free(f->cfg.keys);
	f->cfg.keys = NULL;
	assert_server_defaults(&f->cfg);
	assert_default_limits(&f->cfg.limits);
}

/* The example shows defaults and examples as "#key = value" lines. Turned on, they must parse
 * too, and the defaults they show must be the real ones. */
static void test_example_config_settings(void **state)
{
	struct fixture *f = *state;
	FILE *file = fopen(EXAMPLE_CONFIG, "re");
	if (!file)
		fail_msg("%s: %s (run the tests from the repository root)", EXAMPLE_CONFIG,
			 strerror(errno));
	char *text = calloc(1, 65536);
	char line[512];
	assert_non_null(text);
	size_t settings = 0;
	while (fgets(line, sizeof(line), file)) {
		/* a key, a section, or an access rule (RW+ ..., - ..., C = ...) */
		bool setting = line[0] == '#' && (line[1] == '[' || line[1] == '-' ||
						  (line[1] >= 'a' && line[1] <= 'z') ||
						  (line[1] >= 'A' && line[1] <= 'Z'));
		settings += setting;
		strcat(text, setting ? line + 1 : line);
	}
	fclose(file);
	size_t count = config_parse_string(text, EXAMPLE_CONFIG, &f->cfg, &f->errors);
	free(text);
	assert_errors(&f->errors, NULL, 0);
	assert_int_equal(count, 0);
	assert_true(settings >= 25); /* every key is shown */
	assert_string_equal(f->cfg.git, "/usr/bin/git");
	assert_string_equal(f->cfg.audit, "syslog");
	assert_int_equal(f->cfg.audit_required, 0);
	assert_string_equal(f->cfg.hooks, "/usr/local/lib/gitcage/hooks");
	assert_int_equal(f->cfg.max_blob_size, 0);
	assert_int_equal(f->cfg.repo_hooks, 0);
	assert_default_limits(&f->cfg.limits);
	assert_int_equal(f->cfg.group_count, 2);
	assert_int_equal(f->cfg.repo_count, 3);
	assert_string_equal(f->cfg.default_branch, "main");
	assert_true(f->cfg.repos[2].words[0].kind == REPO_WORD_REGEX);
	assert_int_equal(f->cfg.repos[2].rule_count, 3);
}

#define TEST(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    TEST(test_full_config),
	    TEST(test_defaults),
	    TEST(test_empty_repo_section),
	    TEST(test_booleans),
	    TEST(test_audit_required),
	    TEST(test_parse_size_valid),
	    TEST(test_parse_size_invalid),
	    TEST(test_limit_values),
	    TEST(test_unknown_section),
	    TEST(test_unknown_key),
	    TEST(test_bad_values),
	    TEST(test_control_characters_in_paths),
	    TEST(test_duplicates),
	    TEST(test_rules),
	    TEST(test_bad_rules),
	    TEST(test_relative_repositories),
	    TEST(test_repo_paths),
	    TEST(test_dots_inside_names_are_fine),
	    TEST(test_group_names),
	    TEST(test_groups_may_be_defined_later),
	    TEST(test_unknown_group),
	    TEST(test_syntax_errors),
	    TEST(test_indented_lines),
	    TEST(test_long_section_names),
	    TEST(test_line_endings_and_bom),
	    TEST(test_glob_sections),
	    TEST(test_many_errors_reported_at_once),
	    TEST(test_errors_accumulate),
	    TEST(test_parse_fd),
	    TEST(test_parse_fd_nul_byte),
	    TEST(test_parse_fd_bad_fd),
	    TEST(test_parse_fd_too_large),
	    TEST(test_load_accepts_own_0644),
	    TEST(test_load_refuses_world_writable),
	    TEST(test_load_refuses_group_writable),
	    TEST(test_load_refuses_other_owner),
	    TEST(test_load_root_alone_refuses_a_sticky_parent),
	    TEST(test_load_refuses_writable_parent),
	    TEST(test_load_refuses_symlink),
	    TEST(test_load_refuses_symlink_above),
	    TEST(test_load_accepts_service_owner),
	    TEST(test_load_missing_file),
	    TEST(test_load_refuses_directory),
	    TEST(test_load_reports_parse_errors),
	    TEST(test_load_refuses_untrusted_git_and_hooks),
	    TEST(test_load_accepts_absent_hooks_and_system_git),
	    TEST(test_costly_patterns),
	    TEST(test_find_repo),
	    TEST(test_find_repo_none),
	    TEST(test_example_config_parses),
	    TEST(test_example_config_settings),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

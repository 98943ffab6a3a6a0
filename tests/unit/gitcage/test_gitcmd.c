/* SPDX-License-Identifier: ISC */
/* Unit tests for src/gitcage/gitcmd.c: the git features of gitcage.conf on git's command line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "gitcage/gitcmd.h"

/* argv joined by blanks, for one comparison per test. */
static void joined(const struct strvec *argv, char *out, size_t size)
{
	out[0] = '\0';
	for (size_t i = 0; i < argv->count; i++) {
		strncat(out, argv->items[i], size - strlen(out) - 2);
		strcat(out, " ");
	}
}

static void assert_features(const struct gitcmd_features *features, enum service service,
			    const char *expected)
{
	struct strvec argv = {0};
	char text[1024];
	gitcmd_push_features(features, service, &argv);
	joined(&argv, text, sizeof(text));
	assert_string_equal(text, expected);
	strvec_free(&argv);
}

static void test_nothing_on_adds_nothing(void **state)
{
	struct gitcmd_features none = {0};
	(void)state;
	assert_features(&none, SERVICE_UPLOAD_PACK, "");
	assert_features(&none, SERVICE_RECEIVE_PACK, "");
	assert_features(&none, SERVICE_UPLOAD_ARCHIVE, "");
}

/* Each setting goes only to the service it concerns. */
static void test_each_feature_for_its_service(void **state)
{
	char *ids[] = {"badTimezone", "missingEmail"};
	struct words fsck = {ids, 2};
	struct gitcmd_features all = {.allow_filter = true,
				      .push_options = true,
				      .archive_unreachable = true,
				      .fsck_ignore = &fsck,
				      .push_cert_seed = "c2VlZHNlZWRzZWVkc2VlZA=="};
	(void)state;
	assert_features(&all, SERVICE_UPLOAD_PACK, "-c uploadpack.allowFilter=true ");
	assert_features(&all, SERVICE_UPLOAD_ARCHIVE, "-c uploadArchive.allowUnreachable=true ");
	assert_features(&all, SERVICE_RECEIVE_PACK,
			"-c receive.advertisePushOptions=true "
			"-c receive.certNonceSeed=c2VlZHNlZWRzZWVkc2VlZA== "
			"-c receive.fsck.badTimezone=ignore -c receive.fsck.missingEmail=ignore ");
}

/* The features come before the subcommand: after it, -c would be an argument of upload-pack. */
static void test_features_precede_the_subcommand(void **state)
{
	struct gitcmd_features features = {.allow_filter = true};
	struct gitcmd cmd = {"/usr/bin/git", SERVICE_UPLOAD_PACK, "/srv/git/demo.git", NULL,
			     &features};
	struct strvec argv = {0};
	char text[2048];
	(void)state;
	gitcmd_service_argv(&cmd, &argv);
	joined(&argv, text, sizeof(text));
	assert_non_null(strstr(text, "-c uploadpack.allowFilter=true upload-pack --strict "
				     "/srv/git/demo.git "));
	strvec_free(&argv);
}

static const char conf[] = "[server]\n"
			   "allow-filter = yes\n"
			   "fsck-ignore = badTimezone\n"
			   "[repo old.git]\n"
			   "allow-filter = no\n"
			   "push-options = yes\n"
			   "archive-unreachable = yes\n"
			   "fsck-ignore = zeroPaddedFilemode missingEmail\n"
			   "[repo plain.git]\n";

/* [repo] overrides [server]; what it leaves out is inherited. */
static void test_repo_overrides_server(void **state)
{
	struct config cfg;
	struct config_errors errors = {0};
	struct gitcmd_features f;
	struct error err;
	(void)state;
	config_init(&cfg);
	assert_int_equal(config_parse_string(conf, "test.conf", &cfg, &errors), 0);
	assert_int_equal(gitcmd_features_for(&cfg, config_find_repo(&cfg, "old.git"),
					     SERVICE_RECEIVE_PACK, &f, &err),
			 0);
	assert_false(f.allow_filter);
	assert_true(f.push_options);
	assert_true(f.archive_unreachable);
	assert_int_equal(f.fsck_ignore->count, 2);
	assert_string_equal(f.fsck_ignore->items[0], "zeroPaddedFilemode");
	assert_string_equal(f.push_cert_seed, "");
	assert_int_equal(gitcmd_features_for(&cfg, config_find_repo(&cfg, "plain.git"),
					     SERVICE_UPLOAD_PACK, &f, &err),
			 0);
	assert_true(f.allow_filter);
	assert_false(f.push_options);
	assert_int_equal(f.fsck_ignore->count, 1);
	config_free(&cfg);
}

/* write_seed TEXT MODE: a seed file, as root or the service account (this test) would write
 * it; returns its path in path. */
static void write_seed(char *path, const char *text, mode_t mode)
{
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(chmod(path, mode), 0);
}

static int features_with_seed(const char *path, struct gitcmd_features *f, struct error *err)
{
	struct config cfg;
	config_init(&cfg);
	cfg.push_cert_seed = strdup(path);
	int rc = gitcmd_features_for(&cfg, NULL, SERVICE_RECEIVE_PACK, f, err);
	config_free(&cfg);
	return rc;
}

static void test_seed_is_read_for_pushes(void **state)
{
	char path[] = "/tmp/gitcage-seed.XXXXXX";
	struct gitcmd_features f;
	struct error err;
	(void)state;
	write_seed(path, "c2VlZHNlZWRzZWVkc2VlZA==\n", 0640);
	assert_int_equal(features_with_seed(path, &f, &err), 0);
	assert_string_equal(f.push_cert_seed, "c2VlZHNlZWRzZWVkc2VlZA==");
	unlink(path);
}

static void test_bad_seeds_are_refused(void **state)
{
	char writable[] = "/tmp/gitcage-seed.XXXXXX", junk[] = "/tmp/gitcage-seed.XXXXXX";
	struct gitcmd_features f;
	struct error err;
	(void)state;
	write_seed(writable, "c2VlZHNlZWRzZWVkc2VlZA==\n", 0666);
	assert_int_equal(features_with_seed(writable, &f, &err), -1);
	assert_non_null(strstr(err.message, "only root or the service account may write"));
	write_seed(junk, "short\n", 0600);
	assert_int_equal(features_with_seed(junk, &f, &err), -1);
	assert_non_null(strstr(err.message, "expected one line of base64"));
	assert_int_equal(features_with_seed("/nonexistent/seed", &f, &err), -1);
	unlink(writable);
	unlink(junk);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_nothing_on_adds_nothing),
	    cmocka_unit_test(test_each_feature_for_its_service),
	    cmocka_unit_test(test_features_precede_the_subcommand),
	    cmocka_unit_test(test_repo_overrides_server),
	    cmocka_unit_test(test_seed_is_read_for_pushes),
	    cmocka_unit_test(test_bad_seeds_are_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

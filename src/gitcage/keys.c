/* SPDX-License-Identifier: ISC */
/* gitcage keys: authorized_keys lines from a directory of USER.pub / USER@anything.pub files,
 * as a whole file or, for sshd's AuthorizedKeysCommand (%t %k), the one matching line. */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "common/util.h"
#include "gitcage/verbs.h"

struct keys_context {
	char exe[PATH_MAX];
	char config[PATH_MAX];
	const char *want_type; /* NULL: print every key */
	const char *want_blob;
	int printed;
};

static const char *const key_types[] = {
    "ssh-ed25519",
    "ssh-rsa",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
};

static int known_type(const char *type)
{
	for (size_t i = 0; i < ARRAY_SIZE(key_types); i++)
		if (strcmp(type, key_types[i]) == 0)
			return 1;
	return 0;
}

static int base64_word(const char *s)
{
	size_t len = strlen(s);
	return len > 0 && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				    "0123456789+/=") == len;
}

/* "alice.pub" or "alice@laptop.pub" -> "alice"; NULL for anything else. */
static int user_of_file(const char *name, char *user, size_t size)
{
	size_t len = strlen(name);
	if (len < 5 || strcmp(name + len - 4, ".pub") != 0)
		return -1;
	size_t end = strcspn(name, "@");
	if (end > len - 4)
		end = len - 4;
	if (end == 0 || end >= size || name[0] == '.' || name[0] == '-')
		return -1;
	memcpy(user, name, end);
	user[end] = '\0';
	return config_valid_name(user) ? 0 : -1;
}

static void print_key_line(struct keys_context *ctx, const char *user, char *line)
{
	char *save = NULL;
	char *type = strtok_r(line, " \t\r\n", &save);
	char *blob = type ? strtok_r(NULL, " \t\r\n", &save) : NULL;
	if (!type || *type == '#' || !blob || !known_type(type) || !base64_word(blob))
		return; /* blank lines, comments, options, anything malformed */
	if (ctx->want_type &&
	    (strcmp(type, ctx->want_type) != 0 || strcmp(blob, ctx->want_blob) != 0))
		return;
	/* restrict: no forwarding, no pty, no ~/.ssh/rc; the command is the only thing run. */
	printf("restrict,command=\"%s --config %s serve %s\" %s %s %s\n", ctx->exe, ctx->config,
	       user, type, blob, user);
	ctx->printed++;
}

static void print_key_file(struct keys_context *ctx, int dir_fd, const char *name)
{
	char user[64], line[16384];
	if (user_of_file(name, user, sizeof(user)) != 0)
		return;
	int fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	FILE *file = fd >= 0 ? fdopen(fd, "r") : NULL;
	if (!file) {
		warn_line("keys: cannot read %s", name);
		if (fd >= 0)
			close(fd);
		return;
	}
	while (fgets(line, sizeof(line), file))
		print_key_line(ctx, user, line);
	fclose(file);
}

/* Paths go inside command="...": a quote or a space there would change the forced command. */
static void resolve_path(const char *path, char *out, const char *what)
{
	if (!realpath(path, out))
		die_errno("keys: cannot resolve the %s %s", what, path);
	if (strpbrk(out, "\"\\ \t\n"))
		die("keys: the %s path %s has a character that cannot be quoted in authorized_keys",
		    what, out);
}

int verb_keys(const struct global_options *options, int argc, char **argv)
{
	struct keys_context ctx = {0};
	struct config cfg;
	struct dirent **entries;
	if (argc != 1 && argc != 3)
		die("usage: gitcage [--config FILE] keys [TYPE BLOB]");
	if (argc == 3)
		ctx.want_type = argv[1], ctx.want_blob = argv[2];
	verbs_load_config(options, 0, &cfg);
	if (!cfg.keys)
		die("%s: [server] keys is not set", options->config_path);
	resolve_path("/proc/self/exe", ctx.exe, "gitcage binary");
	resolve_path(options->config_path, ctx.config, "config");
	int dir_fd = open(cfg.keys, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int count = dir_fd < 0 ? -1 : scandir(cfg.keys, &entries, NULL, alphasort);
	if (count < 0)
		die_errno("keys: cannot read the key directory %s", cfg.keys);
	for (int i = 0; i < count; i++) {
		print_key_file(&ctx, dir_fd, entries[i]->d_name);
		free(entries[i]);
	}
	free(entries);
	close(dir_fd);
	config_free(&cfg);
	/* For AuthorizedKeysCommand, no line means "no such key": sshd then refuses it. */
	return ctx.want_type && !ctx.printed ? 1 : 0;
}

/* SPDX-License-Identifier: ISC */
#include "sandbox/hygiene.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/util.h"

extern char **environ;

/* The only variables gitcage itself reads; everything else is dropped. */
static const char *const kept_names[] = {
    "SSH_ORIGINAL_COMMAND",
    "SSH_CONNECTION",
    "SSH_USER_AUTH",
    "GIT_PROTOCOL",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "LC_MESSAGES",
    "TERM",
};
static char *kept_values[ARRAY_SIZE(kept_names)];

void hygiene_fds(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		/* A closed stdio fd would be taken by the next open(), and git's output would land
		 * in a file we opened. */
		int null = open("/dev/null", O_RDWR);
		if (null != fd)
			_exit(EXIT_GITCAGE); /* fail safe: cannot even report it */
	}
	if (syscall(SYS_close_range, 3U, ~0U, 0U) != 0) {
		long max = sysconf(_SC_OPEN_MAX);
		for (long fd = 3; fd < (max > 0 ? max : 65536); fd++)
			close((int)fd);
	}
}

void hygiene_refuse_root(void)
{
	if (getuid() == 0 || geteuid() == 0)
		die("refusing to run as root: run gitcage as an unprivileged service account "
		    "(the sandbox maps only the caller's own uid)");
}

void hygiene_environment(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(kept_names); i++) {
		const char *value = getenv(kept_names[i]);
		kept_values[i] = value ? xstrdup(value) : NULL;
	}
	if (clearenv() != 0)
		die("cannot clear the environment");
	if (setenv("PATH", SANDBOX_PATH, 1) != 0)
		die("cannot set PATH");
}

const char *hygiene_getenv(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(kept_names); i++)
		if (strcmp(kept_names[i], name) == 0)
			return kept_values[i];
	return NULL;
}

/* Locale names and TERM values are short words; anything else is not passed on. */
static int plain_word(const char *value)
{
	size_t len = value ? strlen(value) : 0;
	if (len == 0 || len > 64)
		return 0;
	return strspn(value,
		      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._@-") == len;
}

char **hygiene_sandbox_env(int include_locale, int include_git_protocol)
{
	static char *env[ARRAY_SIZE(kept_names) + 3];
	static char storage[ARRAY_SIZE(kept_names)][320];
	size_t count = 0;
	env[count++] = "PATH=" SANDBOX_PATH;
	env[count++] = "HOME=" SANDBOX_HOME;
	for (size_t i = 0; i < ARRAY_SIZE(kept_names); i++) {
		const char *name = kept_names[i], *value = kept_values[i];
		int wanted = strcmp(name, "GIT_PROTOCOL") == 0
				 ? include_git_protocol && value && hygiene_protocol_valid(value)
				 : include_locale &&
				       (strncmp(name, "LC_", 3) == 0 || strcmp(name, "LANG") == 0 ||
					strcmp(name, "TERM") == 0) &&
				       plain_word(value);
		if (!wanted)
			continue;
		xsnprintf(storage[i], sizeof(storage[i]), "%s=%s", name, value);
		env[count++] = storage[i];
	}
	env[count] = NULL;
	return env;
}

/* GIT_PROTOCOL is "version=2" in practice; a long value is an attack on whoever logs it. */
#define PROTOCOL_MAX 256

static int is_protocol_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-';
}

/* One "key" or "key=value" item, both parts non-empty. */
static int protocol_item_valid(const char *item, size_t len)
{
	size_t key_len = 0;
	while (key_len < len && is_protocol_char((unsigned char)item[key_len]))
		key_len++;
	if (key_len == 0)
		return 0;
	if (key_len == len)
		return 1;
	if (item[key_len] != '=' || key_len + 1 == len)
		return 0;
	for (size_t i = key_len + 1; i < len; i++) {
		if (!is_protocol_char((unsigned char)item[i]))
			return 0;
	}
	return 1;
}

/* GIT_PROTOCOL is the only variable we pass from the client into the sandbox; a strict
 * alphabet keeps newlines, shell syntax and other git settings out of it. */
int hygiene_protocol_valid(const char *value)
{
	if (!value || value[0] == '\0' || strnlen(value, PROTOCOL_MAX + 1) > PROTOCOL_MAX)
		return 0;
	for (;;) {
		const char *colon = strchr(value, ':');
		size_t len = colon ? (size_t)(colon - value) : strlen(value);
		if (!protocol_item_valid(value, len))
			return 0;
		if (!colon)
			return 1;
		value = colon + 1;
	}
}

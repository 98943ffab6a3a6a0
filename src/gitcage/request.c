/* SPDX-License-Identifier: ISC */
/* SSH_ORIGINAL_COMMAND -> {service, path}.
 *
 * The command comes straight from a hostile client. Nothing here runs a shell or touches the
 * file system: the parser accepts one exact shape and refuses everything else, so that later
 * steps only ever see a service from a fixed table and a tame relative path. Refusal messages
 * never quote the client's text back, so they cannot carry terminal escapes or forged lines. */
#include "gitcage/request.h"

#include <string.h>

/* Longest command we read: a PATH_MAX path plus the verb and the quotes. Anything longer is
 * not a git client, and bounding it bounds every loop below. */
#define COMMAND_MAX (4096 + 64)

struct service_info {
	enum service service;
	const char *name;	/* what the client sends: "git-upload-pack" */
	const char *subcommand; /* what we run: "upload-pack"; NULL: not git */
	int writes;
};

/* An exact-match table, as in git's shell.c: no prefix matching, no other verbs. */
static const struct service_info services[] = {
    {SERVICE_UPLOAD_PACK, "git-upload-pack", "upload-pack", 0},
    {SERVICE_RECEIVE_PACK, "git-receive-pack", "receive-pack", 1},
    {SERVICE_UPLOAD_ARCHIVE, "git-upload-archive", "upload-archive", 0},
    {SERVICE_INFO, "info", NULL, 0},
    {SERVICE_HELP, "help", NULL, 0},
    {SERVICE_CREATE, "create", NULL, 1},
};

static const struct service_info *service_lookup(enum service service)
{
	for (size_t i = 0; i < ARRAY_SIZE(services); i++) {
		if (services[i].service == service)
			return &services[i];
	}
	return NULL;
}

const char *request_service_name(enum service service)
{
	const struct service_info *info = service_lookup(service);
	return info ? info->name : NULL;
}

const char *request_service_subcommand(enum service service)
{
	const struct service_info *info = service_lookup(service);
	return info ? info->subcommand : NULL;
}

int request_service_writes(enum service service)
{
	const struct service_info *info = service_lookup(service);
	/* An unknown service counts as a write: it then needs write access and verification. */
	return info ? info->writes : 1;
}

int request_service_is_git(enum service service)
{
	const struct service_info *info = service_lookup(service);
	return info && info->subcommand;
}

/* Control characters would let a client forge log lines, smuggle a second command past a
 * newline-splitting caller, or paint the admin's terminal; DEL is included for the same reason. */
static int check_command_bytes(const char *command, struct error *err)
{
	size_t len = strnlen(command, COMMAND_MAX + 1);
	if (len == 0)
		return error_set(err, "no command given");
	if (len > COMMAND_MAX)
		return error_set(err, "the command is too long");
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)command[i];
		if (c < 0x20 || c == 0x7f)
			return error_set(err, "the command contains a control character");
	}
	return 0;
}

/* Returns what follows "git-SUBCOMMAND" or "git SUBCOMMAND", or NULL when the verb differs.
 * The verb must end there: "git-upload-packx" is another program, not upload-pack. */
static const char *skip_verb(const char *command, const char *subcommand)
{
	if (strncmp(command, "git", 3) != 0 || (command[3] != '-' && command[3] != ' '))
		return NULL;
	const char *rest = command + 4;
	size_t len = strlen(subcommand);
	if (strncmp(rest, subcommand, len) != 0)
		return NULL;
	rest += len;
	if (*rest != '\0' && *rest != ' ')
		return NULL;
	return rest;
}

/* Git LFS's ssh commands ("git-lfs-authenticate 'repo' download"): refused by name, so that the
 * client says why and the audit record says what was asked. */
static const char *const lfs_commands[] = {"git-lfs-authenticate", "git-lfs-transfer"};

#define LFS_REFUSAL "gitcage: Git LFS is not supported on this server"

/* The LFS command that command starts with, or NULL. */
static const char *lfs_command(const char *command)
{
	for (size_t i = 0; i < ARRAY_SIZE(lfs_commands); i++) {
		size_t len = strlen(lfs_commands[i]);
		if (strncmp(command, lfs_commands[i], len) == 0 &&
		    (command[len] == '\0' || command[len] == ' '))
			return lfs_commands[i];
	}
	return NULL;
}

/* Finds the service and returns its single argument, still quoted. */
static const char *parse_verb(const char *command, enum service *service, struct error *err)
{
	for (size_t i = 0; i < ARRAY_SIZE(services); i++) {
		if (!services[i].subcommand)
			continue;
		const char *rest = skip_verb(command, services[i].subcommand);
		if (!rest)
			continue;
		if (*rest == '\0') {
			error_set(err, "%s needs a repository path", services[i].name);
			return NULL;
		}
		*service = services[i].service;
		return rest + 1; /* exactly one space; a second one fails the quote check */
	}
	error_set(err, lfs_command(command) ? LFS_REFUSAL : "unknown command");
	return NULL;
}

/* Inside single quotes git escapes only ' and !, as '\'' and '\!' (quote.c: need_bs_quote). */
static int is_escaped_char(char c)
{
	return c == '\'' || c == '!';
}

/* Decodes one word as git's sq_quote_buf writes it, like git's sq_dequote. Anything after the
 * closing quote is refused: that is where "'repo';id" or a second argument would hide. */
static int sq_dequote(const char *arg, char *out, size_t size, struct error *err)
{
	size_t len = 0;
	if (*arg != '\'')
		return error_set(err, "the path must be one single-quoted argument");
	arg++;
	for (;;) {
		char c = *arg++;
		if (c == '\0')
			return error_set(err, "the path has no closing quote");
		if (c == '\'') {
			if (*arg == '\0')
				break;
			if (arg[0] != '\\' || !is_escaped_char(arg[1]) || arg[2] != '\'')
				return error_set(err,
						 "the path must be one single-quoted argument");
			c = arg[1];
			arg += 3; /* back inside the quotes */
		}
		if (len + 1 >= size)
			return error_set(err, "the path is too long");
		out[len++] = c;
	}
	out[len] = '\0';
	return 0;
}

/* Checks on the path as the client wrote it, before the leading '/' is dropped. */
static int check_raw_path(const char *path, struct error *err)
{
	if (path[0] == '\0')
		return error_set(err, "the path is empty");
	/* A path that git (or any tool after us) could read as an option: "--upload-pack=...". */
	if (path[0] == '-')
		return error_set(err, "the path may not start with '-'");
	/* '~' means someone's home directory to shells and to git's own path expansion. */
	if (strchr(path, '~'))
		return error_set(err, "the path may not contain '~'");
	return 0;
}

/* The repositories root is the only base: one leading '/' is dropped, as git clients
 * send "/demo.git" for ssh://host/demo.git, and one trailing '/' is ignored. */
static void normalize_path(char *path)
{
	size_t len = strlen(path);
	if (path[0] == '/') {
		memmove(path, path + 1, len); /* includes the NUL */
		len--;
	}
	if (len > 0 && path[len - 1] == '/')
		path[len - 1] = '\0';
}

static int check_component(const char *name, size_t len, struct error *err)
{
	if (len == 0)
		return error_set(err, "the path may not contain empty components (\"//\")");
	/* ".." climbs out of the repositories root. */
	if (len == 2 && name[0] == '.' && name[1] == '.')
		return error_set(err, "the path may not contain '..'");
	if (len == 1 && name[0] == '.')
		return error_set(err, "the path may not contain '.' components");
	/* Hidden names (.git, .ssh) are never repositories we serve. */
	if (name[0] == '.')
		return error_set(err, "a path component may not start with '.'");
	/* An option in disguise once the component is used on its own. */
	if (name[0] == '-')
		return error_set(err, "a path component may not start with '-'");
	return 0;
}

static int check_components(const char *path, struct error *err)
{
	if (path[0] == '\0')
		return error_set(err, "the path names no repository");
	for (;;) {
		const char *slash = strchr(path, '/');
		size_t len = slash ? (size_t)(slash - path) : strlen(path);
		if (check_component(path, len, err) < 0)
			return -1;
		if (!slash)
			return 0;
		path = slash + 1;
	}
}

/* "create NAME": NAME as gitolite users type it, unquoted. Only gitolite's repository-name
 * characters: nothing a shell, a path or git could read as anything else. */
static int parse_create(const char *name, char *path, size_t size, struct error *err)
{
	static const char allowed[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				      "0123456789._@/+-";
	size_t len = strlen(name);
	if (len == 0)
		return error_set(err, "create needs a repository name");
	if (strspn(name, allowed) != len)
		return error_set(err, "create takes one repository name of letters, digits and "
				      "._@/+-");
	if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", name[0]))
		return error_set(err, "a repository name starts with a letter or a digit");
	if (name[len - 1] == '/')
		return error_set(err, "a repository name does not end with '/'");
	if (len >= size)
		return error_set(err, "the path is too long");
	memcpy(path, name, len + 1);
	return 0;
}

/* gitcage's own commands: "info", "help", "create NAME". Returns 1 when command is one of them
 * (out filled), 0 when it is not, -1 when it is one but malformed. */
static int parse_own_command(const char *command, struct request *out, struct error *err)
{
	char path[sizeof(out->path)] = "";
	if (strcmp(command, "info") == 0 || strcmp(command, "help") == 0) {
		out->service = command[0] == 'i' ? SERVICE_INFO : SERVICE_HELP;
		out->path[0] = '\0';
		return 1;
	}
	if (strncmp(command, "info ", 5) == 0 || strncmp(command, "help ", 5) == 0)
		return error_set(err, "%.4s takes no arguments", command);
	if (strncmp(command, "create", 6) != 0 || (command[6] != ' ' && command[6] != '\0'))
		return 0;
	if (parse_create(command[6] ? command + 7 : "", path, sizeof(path), err) < 0 ||
	    check_raw_path(path, err) < 0 || check_components(path, err) < 0)
		return -1;
	out->service = SERVICE_CREATE;
	memcpy(out->path, path, strlen(path) + 1);
	return 1;
}

int request_parse(const char *command, struct request *out, struct error *err)
{
	char path[sizeof(out->path)] = ""; /* fully initialized: no stale stack bytes */
	enum service service;

	if (!command)
		return error_set(err, "no command given");
	if (!out)
		return error_set(err, "internal error: no place for the request");
	if (check_command_bytes(command, err) < 0)
		return -1;
	/* On failure it leaves *out untouched, as the rest of this function does. */
	int own = parse_own_command(command, out, err);
	if (own != 0)
		return own < 0 ? -1 : 0;
	const char *arg = parse_verb(command, &service, err);
	if (!arg)
		return -1;
	if (sq_dequote(arg, path, sizeof(path), err) < 0)
		return -1;
	if (check_raw_path(path, err) < 0)
		return -1;
	normalize_path(path);
	if (check_components(path, err) < 0)
		return -1;
	/* Only a fully checked request reaches the caller; on failure *out is untouched. */
	out->service = service;
	memcpy(out->path, path, strlen(path) + 1);
	return 0;
}

/* The repository argument of an LFS command, "'path' OPERATION", checked as a git service's
 * path is; "" when it has none or a bad one. */
static void lfs_path(const char *command, const char *name, char *out, size_t size)
{
	struct error ignored;
	char quoted[COMMAND_MAX + 1];
	const char *arg = command + strlen(name);
	out[0] = '\0';
	if (*arg++ != ' ')
		return;
	const char *operation = strrchr(arg, ' ');
	size_t len = operation ? (size_t)(operation - arg) : strlen(arg);
	memcpy(quoted, arg, len);
	quoted[len] = '\0';
	if (sq_dequote(quoted, out, size, &ignored) < 0 || check_raw_path(out, &ignored) < 0) {
		out[0] = '\0';
		return;
	}
	normalize_path(out);
	if (check_components(out, &ignored) < 0)
		out[0] = '\0';
}

const char *request_describe_refused(const char *command, struct request *out)
{
	struct error ignored;
	out->path[0] = '\0';
	if (!command || check_command_bytes(command, &ignored) < 0)
		return "unknown";
	const char *lfs = lfs_command(command);
	if (lfs) {
		lfs_path(command, lfs, out->path, sizeof(out->path));
		return lfs;
	}
	for (size_t i = 0; i < ARRAY_SIZE(services); i++) {
		const char *name = services[i].name;
		size_t len = strlen(name);
		if (services[i].subcommand ? skip_verb(command, services[i].subcommand) != NULL
					   : strncmp(command, name, len) == 0 &&
						 (command[len] == ' ' || command[len] == '\0'))
			return name;
	}
	return "unknown";
}

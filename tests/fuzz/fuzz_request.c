/* SPDX-License-Identifier: ISC */
/* libFuzzer target for request_parse (src/gitcage/request.c), SSH_ORIGINAL_COMMAND as the
 * client sends it: an accepted request must carry a service from the table and a path that
 * keeps every promise of struct request (and quoting it again gives the same request); a
 * refusal must carry a clean reason, and request_describe_refused names a known service. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gitcage/request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok, const char *what, const char *path)
{
	if (!ok) {
		fprintf(stderr, "invariant broken: %s (path \"%s\")\n", what, path);
		abort();
	}
}

static int is_control(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

static void check_component(const char *name, size_t len, const char *path)
{
	check(len > 0, "empty component", path);
	check(!(len == 1 && name[0] == '.'), "'.' component", path);
	check(!(len == 2 && name[0] == '.' && name[1] == '.'), "'..' component", path);
	check(name[0] != '.', "component starts with '.'", path);
	check(name[0] != '-', "component starts with '-'", path);
}

/* The promises written in request.h, checked byte by byte. */
static void check_path(const char *path, size_t input_size)
{
	size_t len = strnlen(path, PATH_MAX);
	check(len < PATH_MAX, "path not terminated within PATH_MAX", "");
	check(len > 0, "empty path", path);
	check(len <= input_size, "path longer than the input", path);
	check(path[0] != '/', "leading '/'", path);
	check(path[len - 1] != '/', "trailing '/'", path);
	check(path[0] != '-', "leading '-'", path);
	for (size_t i = 0; i < len; i++) {
		check(path[i] != '~', "'~' in path", path);
		check(!is_control((unsigned char)path[i]), "control character in path", path);
	}
	const char *start = path;
	for (;;) {
		const char *slash = strchr(start, '/');
		size_t part = slash ? (size_t)(slash - start) : strlen(start);
		check_component(start, part, path);
		if (!slash)
			break;
		start = slash + 1;
	}
}

static void check_refusal(const struct error *err)
{
	size_t len = strnlen(err->message, sizeof(err->message));
	check(len > 0, "refusal without a reason", "");
	check(len < sizeof(err->message), "reason not terminated", "");
	for (size_t i = 0; i < len; i++)
		check(!is_control((unsigned char)err->message[i]), "control character in reason",
		      "");
}

/* Writing the parsed request again and parsing that must give the same request: the
 * normalized form is a fixed point. A git service's path is quoted again (only ' is escaped);
 * create's name is one unquoted word; info and help take nothing. */
static void check_round_trip(const struct request *req)
{
	static char command[4 * PATH_MAX + 64];
	size_t len = (size_t)sprintf(command, "%s", request_service_name(req->service));
	if (req->service == SERVICE_CREATE)
		len += (size_t)sprintf(command + len, " %s", req->path);
	if (request_service_is_git(req->service)) {
		memcpy(command + len, " '", 2);
		len += 2;
		for (const char *p = req->path; *p; p++) {
			if (*p == '\'') {
				memcpy(command + len, "'\\''", 4);
				len += 4;
			} else {
				command[len++] = *p;
			}
		}
		command[len++] = '\'';
	}
	command[len] = '\0';

	struct request again;
	struct error err = {.message = ""};
	check(request_parse(command, &again, &err) == 0, "re-quoted path refused", req->path);
	check(again.service == req->service, "re-quoted service differs", req->path);
	check(strcmp(again.path, req->path) == 0, "re-quoted path differs", req->path);
}

/* What the audit record says of a refused command: a name from a fixed list, and a path only
 * when it keeps the same promises as an accepted one. */
static void check_described(const char *command)
{
	static const char *const names[] = {
	    "git-upload-pack", "git-receive-pack",     "git-upload-archive", "info",   "help",
	    "create",	       "git-lfs-authenticate", "git-lfs-transfer",   "unknown"};
	struct request described;
	const char *name = request_describe_refused(command, &described);
	int known = 0;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		known |= name && strcmp(name, names[i]) == 0;
	check(known, "request_describe_refused named an unknown service", "");
	if (described.path[0])
		check_path(described.path, strlen(command));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *command = malloc(size + 1);
	if (!command)
		return 0;
	memcpy(command, data, size);
	command[size] = '\0';

	struct request req;
	struct error err = {.message = ""};
	int rc = request_parse(command, &req, &err);
	check(rc == 0 || rc == -1, "return value is neither 0 nor -1", "");
	if (rc == 0) {
		check(request_service_name(req.service) != NULL, "unknown service", req.path);
		if (req.service == SERVICE_INFO || req.service == SERVICE_HELP)
			check(req.path[0] == '\0', "info or help with a path", req.path);
		else
			check_path(req.path, size);
		check_round_trip(&req);
	} else {
		check_refusal(&err);
		check_described(command);
	}
	free(command);
	return 0;
}

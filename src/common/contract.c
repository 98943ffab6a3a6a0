/* SPDX-License-Identifier: ISC */
/* The gitcage <-> gitcage-guard contract (contract.h): writing and reading both messages. */
#include "common/contract.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void check_add_command(struct check_request *req, const char *old_id, const char *new_id,
		       const char *ref, bool ask_ff)
{
	grow_array(&req->commands, &req->cap, req->count + 1, sizeof(*req->commands));
	struct check_command *cmd = &req->commands[req->count++];
	*cmd = (struct check_command){.ref = xstrdup(ref), .ask_ff = ask_ff};
	snprintf(cmd->old_id, sizeof(cmd->old_id), "%s", old_id);
	snprintf(cmd->new_id, sizeof(cmd->new_id), "%s", new_id);
	snprintf(cmd->type, sizeof(cmd->type), "-");
}

void check_request_free(struct check_request *req)
{
	for (size_t i = 0; i < req->count; i++)
		free(req->commands[i].ref);
	free(req->commands);
	strvec_free(&req->fsck_ignore);
	strvec_free(&req->packs);
	strvec_free(&req->loose);
	*req = (struct check_request){0};
}

void check_format_request(const struct check_request *req, struct strbuf *out)
{
	strbuf_addf(out, "gitcage-check 1\nmax-blob-size %llu\nfsck %s\n", req->max_blob_size,
		    req->fsck == CHECK_FSCK_OBJECTS ? "objects" : "strict");
	for (size_t i = 0; i < req->fsck_ignore.count; i++)
		strbuf_addf(out, "fsck-ignore %s\n", req->fsck_ignore.items[i]);
	for (size_t i = 0; i < req->packs.count; i++)
		strbuf_addf(out, "pack %s\n", req->packs.items[i]);
	for (size_t i = 0; i < req->loose.count; i++)
		strbuf_addf(out, "loose %s\n", req->loose.items[i]);
	for (size_t i = 0; i < req->count; i++) {
		const struct check_command *cmd = &req->commands[i];
		strbuf_addf(out, "command %s %s %s %d\n", cmd->old_id, cmd->new_id, cmd->ref,
			    cmd->ask_ff);
	}
	strbuf_addf(out, "end\n");
}

/* Lines of a message, each NUL-terminated in a private copy. */
struct reader {
	char *copy, *p, *end;
};

/* A reader of a private copy of buf, the NUL after it included: lines are cut in place. */
static struct reader reader_of(const char *buf, size_t len)
{
	struct reader r = {.copy = xcalloc(len + 1, 1)};
	memcpy(r.copy, buf, len);
	r.p = r.copy;
	r.end = r.copy + len;
	return r;
}

static char *next_line(struct reader *r)
{
	if (r->p >= r->end)
		return NULL;
	char *line = r->p, *newline = memchr(r->p, '\n', (size_t)(r->end - r->p));
	if (!newline)
		return NULL;
	*newline = '\0';
	r->p = newline + 1;
	return line;
}

/* Only the two shapes of an object file: the guard never opens anything else. */
static bool is_pack(const char *path)
{
	return strlen(path) == 63 && strncmp(path, "objects/pack/pack-", 18) == 0 &&
	       hex_lower(path + 18, 40) && strcmp(path + 58, ".pack") == 0;
}

/* An fsck message id, as git names them: "badTimezone". */
static bool is_msg_id(const char *id)
{
	size_t len = strlen(id);
	return len > 0 && len < 64 &&
	       strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") == len;
}

static bool is_loose(const char *path)
{
	return strlen(path) == 49 && strncmp(path, "objects/", 8) == 0 && hex_lower(path + 8, 2) &&
	       path[10] == '/' && hex_lower(path + 11, 38);
}

static int parse_command_line(struct check_request *out, char *rest, struct error *err)
{
	char *save = NULL;
	char *old_id = strtok_r(rest, " ", &save), *new_id = strtok_r(NULL, " ", &save);
	char *ref = strtok_r(NULL, " ", &save), *ask = strtok_r(NULL, " ", &save);
	if (!ask || strtok_r(NULL, " ", &save) || !relay_is_oid(old_id, strlen(old_id)) ||
	    !relay_is_oid(new_id, strlen(new_id)) || (strcmp(ask, "0") && strcmp(ask, "1")))
		return error_set(err, "a malformed command line");
	check_add_command(out, old_id, new_id, ref, ask[0] == '1');
	return 0;
}

static int parse_request_line(struct check_request *out, char *line, struct error *err)
{
	char *end;
	if (strncmp(line, "max-blob-size ", 14) == 0) {
		out->max_blob_size = strtoull(line + 14, &end, 10);
		return *end ? error_set(err, "a malformed max-blob-size") : 0;
	}
	if (strcmp(line, "fsck strict") == 0 || strcmp(line, "fsck objects") == 0) {
		out->fsck = line[5] == 'o' ? CHECK_FSCK_OBJECTS : CHECK_FSCK_STRICT;
		return 0;
	}
	if (strncmp(line, "fsck-ignore ", 12) == 0 && is_msg_id(line + 12)) {
		strvec_push(&out->fsck_ignore, line + 12);
		return 0;
	}
	if (strncmp(line, "pack ", 5) == 0 && is_pack(line + 5)) {
		strvec_push(&out->packs, line + 5);
		return 0;
	}
	if (strncmp(line, "loose ", 6) == 0 && is_loose(line + 6)) {
		strvec_push(&out->loose, line + 6);
		return 0;
	}
	if (strncmp(line, "command ", 8) == 0)
		return parse_command_line(out, line + 8, err);
	return error_set(err, "an unexpected line in the request");
}

int check_parse_request(const char *buf, size_t len, struct check_request *out, struct error *err)
{
	struct reader r = reader_of(buf, len);
	*out = (struct check_request){0};
	char *line = next_line(&r);
	int rc = line && strcmp(line, "gitcage-check 1") == 0
		     ? 0
		     : error_set(err, "not a check request");
	while (rc == 0) {
		line = next_line(&r);
		if (!line)
			rc = error_set(err, "the request ends before its end line");
		else if (strcmp(line, "end") == 0)
			break;
		else
			rc = parse_request_line(out, line, err);
	}
	free(r.copy);
	if (rc != 0)
		check_request_free(out);
	return rc;
}

void check_format_facts(const struct check_request *req, struct strbuf *out)
{
	static const char ff_text[] = {
	    [CHECK_FF_UNASKED] = '-', [CHECK_FF_YES] = '1', [CHECK_FF_NO] = '0'};
	strbuf_addf(out, "gitcage-check 1\n");
	if (req->objects_ok)
		strbuf_addf(out, "objects ok\n");
	else
		strbuf_addf(out, "objects bad %s\n", req->objects_reason);
	for (size_t i = 0; i < req->count; i++) {
		const struct check_command *cmd = &req->commands[i];
		strbuf_addf(out, "command %d %d %s %c\n", cmd->name_valid, cmd->exists, cmd->type,
			    ff_text[cmd->ff]);
	}
	strbuf_addf(out, "end\n");
}

static int parse_objects_line(struct check_request *req, const char *line, struct error *err)
{
	if (strcmp(line, "objects ok") == 0) {
		req->objects_ok = true;
		return 0;
	}
	if (strncmp(line, "objects bad ", 12) != 0)
		return error_set(err, "the guard's answer has no objects line");
	req->objects_ok = false;
	snprintf(req->objects_reason, sizeof(req->objects_reason), "%s", line + 12);
	for (char *c = req->objects_reason; *c; c++)
		if ((unsigned char)*c < ' ' || *c == 0x7f)
			*c = '?';
	return 0;
}

static bool known_type(const char *type)
{
	static const char *const types[] = {"commit", "tree", "blob", "tag", "-"};
	for (size_t i = 0; i < ARRAY_SIZE(types); i++)
		if (strcmp(type, types[i]) == 0)
			return true;
	return false;
}

static int parse_facts_line(struct check_command *cmd, const char *line, struct error *err)
{
	char valid, exists, ff, type[8];
	int used = 0;
	if (sscanf(line, "command %c %c %7s %c%n", &valid, &exists, type, &ff, &used) != 4 ||
	    line[used] || (valid != '0' && valid != '1') || (exists != '0' && exists != '1') ||
	    !known_type(type) || (ff != '-' && ff != '0' && ff != '1'))
		return error_set(err, "a malformed line in the guard's answer");
	cmd->name_valid = valid == '1';
	cmd->exists = exists == '1';
	snprintf(cmd->type, sizeof(cmd->type), "%s", type);
	cmd->ff = ff == '-' ? CHECK_FF_UNASKED : ff == '1' ? CHECK_FF_YES : CHECK_FF_NO;
	return 0;
}

int check_parse_facts(const char *buf, size_t len, struct check_request *req, struct error *err)
{
	struct reader r = reader_of(buf, len);
	char *line = next_line(&r);
	int rc = line && strcmp(line, "gitcage-check 1") == 0
		     ? 0
		     : error_set(err, "the guard gave no answer");
	if (rc == 0)
		rc = (line = next_line(&r)) ? parse_objects_line(req, line, err)
					    : error_set(err, "the guard's answer ends early");
	for (size_t i = 0; rc == 0 && i < req->count; i++)
		rc = (line = next_line(&r)) ? parse_facts_line(&req->commands[i], line, err)
					    : error_set(err, "the guard's answer ends early");
	if (rc == 0 && (!(line = next_line(&r)) || strcmp(line, "end") != 0))
		rc = error_set(err, "the guard's answer does not end where it should");
	free(r.copy);
	return rc;
}

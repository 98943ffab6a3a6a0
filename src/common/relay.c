/* SPDX-License-Identifier: ISC */
/* The relay's wire format (relay.h). The request comes from inside the sandbox, where git may
 * be compromised: every line must have exactly the expected shape, every count is bounded,
 * and a refusal never quotes the line back. */
#include "common/relay.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char relay_zero_id[RELAY_OID_HEX + 1] = "0000000000000000000000000000000000000000";

bool relay_is_oid(const char *text, size_t len)
{
	return len == RELAY_OID_HEX && hex_lower(text, len);
}

/* A ref name or option as one word of the wire: printable, no blank. Whether it is a valid
 * ref name is for git and the verifier to say; this only keeps the framing intact. */
static bool is_word(const char *text, size_t len)
{
	if (len == 0 || len > RELAY_MAX_LINE)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c <= ' ' || c == 0x7f)
			return false;
	}
	return true;
}

/* Option text and messages: printable, blanks allowed, no line break or other control. */
static bool is_text(const char *text, size_t len)
{
	if (len > RELAY_MAX_LINE)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if ((c < ' ' && c != '\t') || c == 0x7f)
			return false;
	}
	return true;
}

void relay_add_command(struct relay_request *req, const char *old_id, const char *new_id,
		       const char *ref)
{
	grow_array(&req->commands, &req->cap, req->count + 1, sizeof(*req->commands));
	struct relay_command *cmd = &req->commands[req->count++];
	memcpy(cmd->old_id, old_id, RELAY_OID_HEX + 1);
	memcpy(cmd->new_id, new_id, RELAY_OID_HEX + 1);
	cmd->ref = xstrdup(ref);
}

static void add_option(struct relay_request *req, const char *text, size_t len)
{
	grow_array(&req->options, &req->option_cap, req->option_count + 1, sizeof(*req->options));
	char *copy = xcalloc(len + 1, 1);
	memcpy(copy, text, len);
	req->options[req->option_count++] = copy;
}

void relay_request_free(struct relay_request *req)
{
	for (size_t i = 0; i < req->count; i++)
		free(req->commands[i].ref);
	free(req->commands);
	for (size_t i = 0; i < req->option_count; i++)
		free(req->options[i]);
	free(req->options);
	*req = (struct relay_request){0};
}

void relay_answer_free(struct relay_answer *answer)
{
	strvec_free(&answer->messages);
	free(answer->verdicts);
	*answer = (struct relay_answer){0};
}

void relay_format_request(const struct relay_request *req, struct strbuf *out)
{
	strbuf_addf(out, "gitcage-relay 1\n");
	if (req->atomic)
		strbuf_addf(out, "atomic\n");
	for (size_t i = 0; i < req->option_count; i++)
		strbuf_addf(out, "option %s\n", req->options[i]);
	for (size_t i = 0; i < req->count; i++)
		strbuf_addf(out, "command %s %s %s\n", req->commands[i].old_id,
			    req->commands[i].new_id, req->commands[i].ref);
	strbuf_addf(out, "end\n");
}

void relay_format_answer(const struct relay_request *req, const struct relay_answer *answer,
			 struct strbuf *out)
{
	for (size_t i = 0; i < answer->messages.count; i++)
		strbuf_addf(out, "message %s\n", answer->messages.items[i]);
	for (size_t i = 0; i < req->count; i++) {
		const struct relay_verdict *v = &answer->verdicts[i];
		if (v->ok)
			strbuf_addf(out, "ok %s\n", req->commands[i].ref);
		else
			strbuf_addf(out, "ng %s %s\n", req->commands[i].ref,
				    v->reason[0] ? v->reason : "refused");
	}
	strbuf_addf(out, "end\n");
}

bool relay_complete(const char *buf, size_t len)
{
	return (len == 4 && memcmp(buf, "end\n", 4) == 0) ||
	       (len > 4 && memcmp(buf + len - 5, "\nend\n", 5) == 0);
}

/* A cursor over the message's lines. */
struct lines {
	const char *p, *end;
	size_t number;
};

/* The next line without its '\n'; false at the end or on a line that is not terminated. */
static bool next_line(struct lines *lines, const char **line, size_t *len)
{
	if (lines->p >= lines->end)
		return false;
	const char *newline = memchr(lines->p, '\n', (size_t)(lines->end - lines->p));
	if (!newline)
		return false;
	*line = lines->p;
	*len = (size_t)(newline - lines->p);
	lines->p = newline + 1;
	lines->number++;
	return true;
}

static bool starts(const char *line, size_t len, const char *word, size_t *rest)
{
	size_t n = strlen(word);
	if (len < n || memcmp(line, word, n) != 0)
		return false;
	*rest = n;
	return true;
}

/* "command OLD NEW REF" once "command " is consumed: at rest. */
static int parse_command(struct relay_request *out, const char *line, size_t len, struct error *err)
{
	const size_t ids = 2 * RELAY_OID_HEX + 2;
	if (out->count >= RELAY_MAX_COMMANDS)
		return error_set(err, "too many commands");
	if (len <= ids || !relay_is_oid(line, RELAY_OID_HEX) || line[RELAY_OID_HEX] != ' ' ||
	    !relay_is_oid(line + RELAY_OID_HEX + 1, RELAY_OID_HEX) || line[ids - 1] != ' ' ||
	    !is_word(line + ids, len - ids))
		return error_set(err, "a malformed command");
	char old_id[RELAY_OID_HEX + 1], new_id[RELAY_OID_HEX + 1];
	char *ref = xcalloc(len - ids + 1, 1);
	memcpy(old_id, line, RELAY_OID_HEX);
	old_id[RELAY_OID_HEX] = '\0';
	memcpy(new_id, line + RELAY_OID_HEX + 1, RELAY_OID_HEX);
	new_id[RELAY_OID_HEX] = '\0';
	memcpy(ref, line + ids, len - ids);
	relay_add_command(out, old_id, new_id, ref);
	free(ref);
	return 0;
}

static int parse_header(struct lines *lines, struct relay_request *out, struct error *err)
{
	const char *line;
	size_t len;
	(void)out;
	if (!next_line(lines, &line, &len) || len != 15 || memcmp(line, "gitcage-relay 1", 15))
		return error_set(err, "not a relay request");
	return 0;
}

/* One line of the body; 1 at "end". */
static int parse_body_line(struct relay_request *out, const char *line, size_t len,
			   struct error *err)
{
	size_t rest;
	if (len == 3 && memcmp(line, "end", 3) == 0)
		return 1;
	if (len == 6 && memcmp(line, "atomic", 6) == 0 && out->count == 0 && !out->atomic) {
		out->atomic = true;
		return 0;
	}
	if (starts(line, len, "option ", &rest) && out->count == 0) {
		if (out->option_count >= RELAY_MAX_OPTIONS || !is_text(line + rest, len - rest))
			return error_set(err, "a malformed or surplus push option");
		add_option(out, line + rest, len - rest);
		return 0;
	}
	if (starts(line, len, "command ", &rest))
		return parse_command(out, line + rest, len - rest, err);
	return error_set(err, "an unexpected line");
}

int relay_parse_request(const char *buf, size_t len, struct relay_request *out, struct error *err)
{
	struct lines lines = {buf, buf + len, 0};
	const char *line;
	size_t line_len;
	int rc = 0;
	*out = (struct relay_request){0};
	if (len > RELAY_MAX_BYTES)
		rc = error_set(err, "the request is too large");
	if (rc == 0)
		rc = parse_header(&lines, out, err);
	while (rc == 0) {
		if (!next_line(&lines, &line, &line_len)) {
			rc = error_set(err, "the request ends before its end line");
			break;
		}
		rc = parse_body_line(out, line, line_len, err);
	}
	if (rc == 1 && out->count == 0)
		rc = error_set(err, "a request without commands");
	if (rc == 1 && lines.p != lines.end)
		rc = error_set(err, "data after the end line");
	if (rc == 1)
		return 0;
	relay_request_free(out);
	return -1;
}

/* "ok REF" or "ng REF REASON" for command i. */
static int parse_verdict(const struct relay_request *req, size_t i, const char *line, size_t len,
			 struct relay_verdict *out, struct error *err)
{
	const char *ref = req->commands[i].ref;
	size_t ref_len = strlen(ref);
	bool ok = len >= 3 && memcmp(line, "ok ", 3) == 0;
	if (!ok && (len < 3 || memcmp(line, "ng ", 3) != 0))
		return error_set(err, "an unexpected line in the answer");
	if (len < 3 + ref_len || memcmp(line + 3, ref, ref_len) != 0)
		return error_set(err, "the answer names another ref than %s", ref);
	const char *rest = line + 3 + ref_len;
	size_t rest_len = len - 3 - ref_len;
	if (ok && rest_len != 0)
		return error_set(err, "an ok line with a reason");
	if (!ok && (rest_len < 2 || rest[0] != ' ' || !is_text(rest + 1, rest_len - 1)))
		return error_set(err, "an ng line without a reason");
	out->ok = ok;
	if (!ok)
		snprintf(out->reason, sizeof(out->reason), "%.*s", (int)(rest_len - 1), rest + 1);
	return 0;
}

int relay_parse_answer(const char *buf, size_t len, const struct relay_request *req,
		       struct relay_answer *out, struct error *err)
{
	struct lines lines = {buf, buf + len, 0};
	const char *line;
	size_t line_len, rest, done = 0;
	*out = (struct relay_answer){.verdicts = xcalloc(req->count, sizeof(*out->verdicts))};
	while (next_line(&lines, &line, &line_len)) {
		if (done == 0 && starts(line, line_len, "message ", &rest)) {
			if (!is_text(line + rest, line_len - rest)) {
				error_set(err, "a malformed message in the answer");
				goto fail;
			}
			char *text = xcalloc(line_len - rest + 1, 1);
			memcpy(text, line + rest, line_len - rest);
			strvec_push(&out->messages, text);
			free(text);
		} else if (done == req->count) {
			if (line_len == 3 && memcmp(line, "end", 3) == 0)
				return 0;
			error_set(err, "an unexpected line in the answer");
			goto fail;
		} else if (parse_verdict(req, done, line, line_len, &out->verdicts[done], err) !=
			   0) {
			goto fail;
		} else {
			done++;
		}
	}
	error_set(err, "the answer ends early");
fail:
	relay_answer_free(out);
	return -1;
}

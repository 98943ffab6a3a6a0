/* SPDX-License-Identifier: ISC */
/*
 * gitcage's `proc-receive` hook, inside the sandbox. It decides nothing. receive-pack gives it
 * every command of a push before it reports to the client, and writes no ref itself; the hook
 * hands them to the trusted publisher outside the sandbox, over the fd the sandbox passed
 * (RELAY_FD), and hands the answer back: its ok/ng lines become the client's status lines, so
 * the client learns the truth, and `git push --atomic` is all or nothing. It runs as the
 * compromised git would, so the publisher trusts nothing it says.
 *
 * Each call gets a channel of its own: a socketpair whose one end is sent over RELAY_FD with
 * SCM_RIGHTS, so that a second caller could never mix its lines with the first's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/relay.h"
#include "common/util.h"

#define PKT_MAX 65520

/* One pkt-line: its payload in buf (NUL-terminated, trailing '\n' removed). Returns the length,
 * 0 for a flush packet, -1 at the end of input or on a malformed packet. */
static int pkt_read(char *buf, size_t size)
{
	char head[5] = "";
	if (fread(head, 1, 4, stdin) != 4)
		return -1;
	char *end;
	long len = strtol(head, &end, 16);
	if (*end || len < 0 || len == 1 || len == 2 || len == 3 || len > PKT_MAX)
		return -1;
	if (len == 0)
		return 0;
	len -= 4;
	if ((size_t)len >= size || fread(buf, 1, (size_t)len, stdin) != (size_t)len)
		return -1;
	buf[len] = '\0';
	if (len > 0 && buf[len - 1] == '\n')
		buf[--len] = '\0';
	return (int)len;
}

static void pkt_write(const char *data, size_t len)
{
	if (len + 4 > PKT_MAX)
		len = PKT_MAX - 4;
	printf("%04zx", len + 4);
	fwrite(data, 1, len, stdout);
}

static void pkt_flush(void)
{
	fputs("0000", stdout);
	fflush(stdout);
}

/* Send the request over a fresh channel and read the whole answer. */
static int exchange(const struct relay_request *req, struct relay_answer *answer, struct error *err)
{
	int pair[2];
	struct strbuf out = {0}, in = {0};
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0)
		return error_set(err, "cannot make a channel: %s", strerror(errno));
	char byte = 'r', control[CMSG_SPACE(sizeof(int))] = {0};
	struct iovec iov = {&byte, 1};
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = control,
			     .msg_controllen = sizeof(control)};
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
	*cmsg = (struct cmsghdr){
	    .cmsg_len = CMSG_LEN(sizeof(int)), .cmsg_level = SOL_SOCKET, .cmsg_type = SCM_RIGHTS};
	memcpy(CMSG_DATA(cmsg), &pair[1], sizeof(int));
	int sent = sendmsg(RELAY_FD, &msg, MSG_NOSIGNAL) == 1;
	close(pair[1]);
	relay_format_request(req, &out);
	if (!sent || write_all(pair[0], out.data, out.len) != 0) {
		strbuf_free(&out);
		close(pair[0]);
		return error_set(err, "the publisher is not there");
	}
	strbuf_free(&out);
	char chunk[8192];
	ssize_t n;
	while (in.len < RELAY_MAX_BYTES && (n = read(pair[0], chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		strbuf_add(&in, chunk, (size_t)n);
		if (relay_complete(in.data, in.len))
			break;
	}
	close(pair[0]);
	int rc = in.len ? relay_parse_answer(in.data, in.len, req, answer, err)
			: error_set(err, "the publisher did not answer");
	strbuf_free(&in);
	return rc;
}

/* Ask, and always come back with a verdict per command: a publisher that cannot be reached
 * refuses everything. */
static void ask(const struct relay_request *req, struct relay_answer *answer)
{
	struct error err = {""};
	if (exchange(req, answer, &err) == 0)
		return;
	*answer = (struct relay_answer){.verdicts = xcalloc(req->count, sizeof(*answer->verdicts))};
	for (size_t i = 0; i < req->count; i++)
		snprintf(answer->verdicts[i].reason, sizeof(answer->verdicts[i].reason),
			 "not published: %.200s", err.message);
}

static void print_messages(const struct relay_answer *answer)
{
	for (size_t i = 0; i < answer->messages.count; i++)
		fprintf(stderr, "%s\n", answer->messages.items[i]);
	fflush(stderr);
}

/* "OLD NEW REF", as receive-pack sends a command. */
static int add_command(struct relay_request *req, const char *line)
{
	size_t len = strlen(line);
	if (len < 2 * RELAY_OID_HEX + 3 || !relay_is_oid(line, RELAY_OID_HEX) ||
	    line[RELAY_OID_HEX] != ' ' || !relay_is_oid(line + RELAY_OID_HEX + 1, RELAY_OID_HEX) ||
	    line[2 * RELAY_OID_HEX + 1] != ' ' || req->count >= RELAY_MAX_COMMANDS)
		return -1;
	char old_id[RELAY_OID_HEX + 1], new_id[RELAY_OID_HEX + 1];
	snprintf(old_id, sizeof(old_id), "%.40s", line);
	snprintf(new_id, sizeof(new_id), "%.40s", line + RELAY_OID_HEX + 1);
	relay_add_command(req, old_id, new_id, line + 2 * RELAY_OID_HEX + 2);
	return 0;
}

/* Version negotiation: receive-pack offers its capabilities, we ask for push options. */
static int negotiate(struct relay_request *req, char *buf, size_t size)
{
	int len = pkt_read(buf, size);
	if (len <= 0 || strncmp(buf, "version=1", 9) != 0)
		return -1;
	size_t first = strlen(buf);
	if ((size_t)len > first && strstr(buf + first + 1, "atomic"))
		req->atomic = true;
	while ((len = pkt_read(buf, size)) > 0)
		;
	if (len < 0)
		return -1;
	const char version[] = "version=1\0push-options";
	pkt_write(version, sizeof(version) - 1);
	pkt_flush();
	return 0;
}

static int read_push(struct relay_request *req, char *buf, size_t size)
{
	int len;
	while ((len = pkt_read(buf, size)) > 0)
		if (add_command(req, buf) != 0)
			return -1;
	if (len < 0)
		return -1;
	while ((len = pkt_read(buf, size)) > 0)
		if (req->option_count < RELAY_MAX_OPTIONS && !strpbrk(buf, "\r\n")) {
			grow_array(&req->options, &req->option_cap, req->option_count + 1,
				   sizeof(*req->options));
			req->options[req->option_count++] = xstrdup(buf);
		}
	return len < 0 ? -1 : 0;
}

static int proc_receive(void)
{
	static char buf[PKT_MAX + 1];
	struct relay_request req = {0};
	struct relay_answer answer;
	if (negotiate(&req, buf, sizeof(buf)) != 0 || read_push(&req, buf, sizeof(buf)) != 0 ||
	    req.count == 0)
		die("proc-receive: receive-pack spoke an unexpected protocol");
	ask(&req, &answer);
	print_messages(&answer);
	for (size_t i = 0; i < req.count; i++) {
		char line[RELAY_MAX_LINE + 300];
		int n = answer.verdicts[i].ok
			    ? snprintf(line, sizeof(line), "ok %s", req.commands[i].ref)
			    : snprintf(line, sizeof(line), "ng %s %s", req.commands[i].ref,
				       answer.verdicts[i].reason);
		pkt_write(line, n < (int)sizeof(line) ? (size_t)n : sizeof(line) - 1);
	}
	pkt_flush();
	relay_answer_free(&answer);
	relay_request_free(&req);
	return 0;
}

int main(int argc, char **argv)
{
	(void)argv;
	util_set_prefix("gitcage: ");
	if (argc != 1)
		die("proc-receive takes no arguments");
	return proc_receive();
}

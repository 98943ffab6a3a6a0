/* SPDX-License-Identifier: ISC */
#include "common/audit.h"

#include <stdlib.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"

struct out {
	char *buf;
	size_t size, len;
	int overflow;
};

static void put(struct out *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *out, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(out->buf + out->len, out->size - out->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= out->size - out->len)
		out->overflow = 1;
	else
		out->len += (size_t)n;
}

/* JSON string with every control character escaped: values come from clients (paths, ref
 * names) and must not forge a second record with an embedded newline. */
static void put_string(struct out *out, const char *separator, const char *key, const char *value)
{
	put(out, "%s\"%s\":", separator, key);
	if (!value) {
		put(out, "null");
		return;
	}
	put(out, "\"");
	for (const unsigned char *p = (const unsigned char *)value; *p && !out->overflow; p++) {
		if (*p == '"' || *p == '\\')
			put(out, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			put(out, "\\u%04x", *p);
		else
			put(out, "%c", *p);
	}
	put(out, "\"");
}

const char *audit_verdict_name(enum audit_verdict verdict)
{
	static const char *const names[] = {
	    [AUDIT_OK] = "ok", [AUDIT_REFUSED] = "refused", [AUDIT_FAILED] = "failed"};
	return verdict < ARRAY_SIZE(names) ? names[verdict] : "failed";
}

static void put_refs(struct out *out, const struct audit_record *record)
{
	put(out, ",\"refs\":[");
	for (size_t i = 0; i < record->ref_count; i++) {
		put(out, "%s{", i ? "," : "");
		put_string(out, "", "ref", record->refs[i].name);
		put_string(out, ",", "old", record->refs[i].old_id);
		put_string(out, ",", "new", record->refs[i].new_id);
		put_string(out, ",", "verdict", audit_verdict_name(record->refs[i].verdict));
		put_string(out, ",", "reason", record->refs[i].reason);
		put(out, "}");
	}
	put(out, "]");
}

int audit_format(const struct audit_record *record, long long unix_time, char *buf, size_t size)
{
	struct out out = {buf, size, 0, 0};
	char when[32];
	time_t t = (time_t)unix_time;
	struct tm tm;
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
	put(&out, "{");
	put_string(&out, "", "time", when);
	put_string(&out, ",", "user", record->user);
	put_string(&out, ",", "key", record->key);
	put_string(&out, ",", "client", record->client);
	put_string(&out, ",", "service", record->service);
	put_string(&out, ",", "repo", record->repo);
	put_string(&out, ",", "verdict", audit_verdict_name(record->verdict));
	put_string(&out, ",", "reason", record->reason);
	put_refs(&out, record);
	if (record->phases)
		put(&out, ",\"phases\":{\"stage_us\":%lld,\"verify_us\":%lld,\"publish_us\":%lld}",
		    record->phases->stage_us, record->phases->verify_us,
		    record->phases->publish_us);
	put(&out, ",\"duration_ms\":%lld,\"exit\":%d}\n", record->duration_ms, record->exit_status);
	return out.overflow ? -1 : (int)out.len;
}

/* glibc's syslog(3) reports nothing: a record sent with no socket at /dev/log is lost in
 * silence. Connecting first is the only way to know that it can arrive. */
static int syslog_reachable(void)
{
	struct sockaddr_un address = {.sun_family = AF_UNIX};
	strcpy(address.sun_path, AUDIT_SYSLOG_SOCKET);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int rc = connect(fd, (struct sockaddr *)&address, sizeof(address));
	close(fd);
	return rc;
}

static int is_syslog(const char *destination)
{
	return !destination || strcmp(destination, "syslog") == 0;
}

static int open_file(const char *destination)
{
	return open(destination, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
}

int audit_check(const char *destination)
{
	if (is_syslog(destination))
		return syslog_reachable();
	int fd = open_file(destination);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static int write_line(const char *destination, const char *line, int len)
{
	if (is_syslog(destination)) {
		if (syslog_reachable() != 0)
			return -1;
		openlog("gitcage", LOG_PID, LOG_AUTH);
		syslog(LOG_INFO, "%.*s", len - 1, line);
		closelog();
		return 0;
	}
	int fd = open_file(destination);
	int rc = fd >= 0 && write(fd, line, (size_t)len) == len ? 0 : -1;
	if (fd >= 0)
		close(fd);
	return rc;
}

/* The record's line, however many refs it names: every ref a client asked for is part of
 * the trail. Returns its length, or -1 (with *out NULL) past AUDIT_MAX_BYTES. */
static int format_whole(const struct audit_record *record, char **out)
{
	long long now = (long long)time(NULL);
	for (size_t size = 16384; size <= AUDIT_MAX_BYTES; size *= 2) {
		char *line = xcalloc(size, 1);
		int len = audit_format(record, now, line, size);
		if (len >= 0) {
			*out = line;
			return len;
		}
		free(line);
	}
	*out = NULL;
	return -1;
}

int audit_write(const char *destination, const struct audit_record *record)
{
	char *line;
	int len = format_whole(record, &line);
	if (len < 0) {
		struct audit_record short_record = *record;
		short_record.ref_count = 0;
		short_record.reason = "record too long; refs omitted";
		len = format_whole(&short_record, &line);
	}
	int rc = len >= 0 ? write_line(destination, line, len) : -1;
	free(line);
	if (rc == 0)
		return 0;
	/* The client reads this line as it is (no "fatal: " prefix: the call goes on), and it
	 * names no server path. */
	fputs("warning: this server could not record this call in its audit log\n", stderr);
	return -1;
}

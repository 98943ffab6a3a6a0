/* SPDX-License-Identifier: ISC */
#include "common/audit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
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

void audit_write(const char *destination, const struct audit_record *record)
{
	char line[16384];
	int len = audit_format(record, (long long)time(NULL), line, sizeof(line));
	if (len < 0) {
		struct audit_record short_record = *record;
		short_record.ref_count = 0;
		short_record.reason = "record too long; refs omitted";
		len = audit_format(&short_record, (long long)time(NULL), line, sizeof(line));
	}
	if (len < 0)
		return;
	if (!destination || strcmp(destination, "syslog") == 0) {
		openlog("gitcage", LOG_PID, LOG_AUTH);
		syslog(LOG_INFO, "%.*s", len - 1, line);
		closelog();
		return;
	}
	int fd = open(destination, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd < 0 || write(fd, line, (size_t)len) != len)
		warn_line("warning: cannot write the audit record to %s: %s", destination,
			  strerror(errno));
	if (fd >= 0)
		close(fd);
}

const char *audit_read_key(const char *user_auth_path)
{
	static char key[8192];
	if (!user_auth_path || *user_auth_path != '/')
		return NULL;
	FILE *file = fopen(user_auth_path, "re");
	if (!file)
		return NULL;
	const char *found = NULL;
	/* Lines are "publickey TYPE BLOB"; the last one is the method that succeeded. */
	char line[sizeof(key) + 32];
	while (fgets(line, sizeof(line), file))
		if (strncmp(line, "publickey ", 10) == 0) {
			size_t len = strcspn(line + 10, "\n");
			if (len >= sizeof(key))
				continue;
			memcpy(key, line + 10, len);
			key[len] = '\0';
			found = key;
		}
	fclose(file);
	return found;
}

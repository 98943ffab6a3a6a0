/* SPDX-License-Identifier: ISC */
#include "common/util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>

static const char *message_prefix = "gitcage: ";
static void (*die_hook)(int status);

void util_set_die_hook(void (*hook)(int status))
{
	die_hook = hook;
}

static _Noreturn void exit_failed(void)
{
	if (die_hook)
		die_hook(EXIT_GITCAGE);
	_exit(EXIT_GITCAGE); /* fail safe */
}

void util_set_prefix(const char *prefix)
{
	message_prefix = prefix;
}

/* One write(2) per line, so that concurrent writers to the same stderr never interleave. */
__attribute__((format(printf, 1, 0))) static void vprint_line(const char *fmt, va_list ap,
							      int errnum)
{
	char line[1024];
	int len = snprintf(line, sizeof(line), "%s", message_prefix);
	if (len < 0 || (size_t)len >= sizeof(line))
		len = 0;
	int more = vsnprintf(line + len, sizeof(line) - (size_t)len, fmt, ap);
	if (more > 0)
		len += more;
	if ((size_t)len >= sizeof(line) - 64)
		len = (int)sizeof(line) - 64;
	if (errnum)
		len += snprintf(line + len, sizeof(line) - (size_t)len, ": %s", strerror(errnum));
	line[len++] = '\n';
	(void)write_all(STDERR_FILENO, line, (size_t)len);
}

void warn_line(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprint_line(fmt, ap, 0);
	va_end(ap);
}

void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprint_line(fmt, ap, 0);
	va_end(ap);
	exit_failed();
}

void die_errno(const char *fmt, ...)
{
	int errnum = errno;
	va_list ap;
	va_start(ap, fmt);
	vprint_line(fmt, ap, errnum);
	va_end(ap);
	exit_failed();
}

void xsnprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int len = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	if (len < 0 || (size_t)len >= size)
		die("internal error: a formatted string does not fit in %zu bytes", size);
}

void *xcalloc(size_t count, size_t size)
{
	void *p = calloc(count ? count : 1, size ? size : 1);
	if (!p)
		die("out of memory");
	return p;
}

char *xstrdup(const char *s)
{
	char *copy = strdup(s);
	if (!copy)
		die("out of memory");
	return copy;
}

int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int error_set(struct error *err, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err->message, sizeof(err->message), fmt, ap);
		va_end(ap);
	}
	return -1;
}

long long clock_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

long long clock_us(void)
{
	return clock_ns() / 1000;
}

long long clock_ms(void)
{
	return clock_us() / 1000;
}

void grow_array(void *array, size_t *cap, size_t needed, size_t size)
{
	void **items = array;
	if (needed <= *cap)
		return;
	size_t grown = *cap ? *cap : 8;
	while (grown < needed)
		if (__builtin_mul_overflow(grown, 2, &grown))
			die("out of memory");
	void *bigger = reallocarray(*items, grown, size);
	if (!bigger)
		die("out of memory");
	*items = bigger;
	*cap = grown;
}

void *array_append(void *array, size_t count, size_t size)
{
	char *grown = reallocarray(array, count + 1, size);
	if (!grown)
		die("out of memory");
	memset(grown + count * size, 0, size);
	return grown;
}

int read_whole_file(int fd, size_t max, char **data, size_t *len)
{
	struct stat st;
	if (fstat(fd, &st) != 0)
		return -1;
	if (!S_ISREG(st.st_mode))
		return errno = EINVAL, -1;
	if ((uint64_t)st.st_size > max)
		return errno = EFBIG, -1;
	char *buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return -1;
	size_t done = 0;
	/* The size may change while reading: never read past what was allocated. */
	while (done < (size_t)st.st_size) {
		ssize_t n = pread(fd, buf + done, (size_t)st.st_size - done, (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(buf);
			return -1;
		}
		if (n == 0)
			break;
		done += (size_t)n;
	}
	buf[done] = '\0';
	*data = buf;
	*len = done;
	return 0;
}

void strbuf_read_fd(struct strbuf *out, int fd, size_t max)
{
	char chunk[65536];
	ssize_t n;
	off_t offset = 0;
	while (out->len < max && (n = pread(fd, chunk, sizeof(chunk), offset)) > 0) {
		strbuf_add(out, chunk, (size_t)n);
		offset += n;
	}
}

bool hex_lower(const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!((text[i] >= '0' && text[i] <= '9') || (text[i] >= 'a' && text[i] <= 'f')))
			return false;
	return true;
}

void strbuf_add(struct strbuf *buf, const void *data, size_t len)
{
	grow_array(&buf->data, &buf->cap, buf->len + len + 1, 1);
	memcpy(buf->data + buf->len, data, len);
	buf->len += len;
	buf->data[buf->len] = '\0';
}

void strbuf_addf(struct strbuf *buf, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int need = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (need < 0)
		die("internal error: cannot format");
	grow_array(&buf->data, &buf->cap, buf->len + (size_t)need + 1, 1);
	va_start(ap, fmt);
	vsnprintf(buf->data + buf->len, (size_t)need + 1, fmt, ap);
	va_end(ap);
	buf->len += (size_t)need;
}

void strbuf_free(struct strbuf *buf)
{
	free(buf->data);
	*buf = (struct strbuf){0};
}

void strvec_push(struct strvec *vec, const char *text)
{
	grow_array(&vec->items, &vec->cap, vec->count + 2, sizeof(*vec->items));
	vec->items[vec->count++] = xstrdup(text);
	vec->items[vec->count] = NULL;
}

void strvec_pushf(struct strvec *vec, const char *fmt, ...)
{
	char *text;
	va_list ap;
	va_start(ap, fmt);
	int rc = vasprintf(&text, fmt, ap);
	va_end(ap);
	if (rc < 0)
		die("out of memory");
	grow_array(&vec->items, &vec->cap, vec->count + 2, sizeof(*vec->items));
	vec->items[vec->count++] = text;
	vec->items[vec->count] = NULL;
}

void strvec_free(struct strvec *vec)
{
	for (size_t i = 0; i < vec->count; i++)
		free(vec->items[i]);
	free(vec->items);
	*vec = (struct strvec){0};
}

void path_beside_self(const char *name, const char *installed, char *out, size_t size)
{
	char self[4096];
	ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (len > 0) {
		self[len] = '\0';
		char *slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			if (snprintf(out, size, "%s/%s", self, name) < (int)size &&
			    access(out, F_OK) == 0)
				return;
		}
	}
	xsnprintf(out, size, "%s", installed);
}

void log_admin(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	openlog("gitcage", LOG_PID, LOG_AUTH);
	vsyslog(LOG_WARNING, fmt, ap);
	closelog();
	va_end(ap);
}

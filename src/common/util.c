/* SPDX-License-Identifier: ISC */
#include "common/util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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

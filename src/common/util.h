/* SPDX-License-Identifier: ISC */
/* Small helpers shared by every module: fail-closed exits and cleanup attributes. */
#ifndef GITCAGE_UTIL_H
#define GITCAGE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <unistd.h>

/* Exit statuses of gitcage itself. The command's own status passes through untouched;
 * a command killed by signal N gives 128+N, as in a shell. */
enum {
	EXIT_TIMEOUT = 124,	/* the wall-clock timeout killed the sandbox */
	EXIT_GITCAGE = 125,	/* gitcage refused the request or could not set up the sandbox */
	EXIT_CANNOT_EXEC = 126, /* the command exists but could not be executed */
	EXIT_NOT_FOUND = 127,	/* the command was not found inside the sandbox */
};

/* Where die() sends its message: "gitcage: " for the admin's tools, "fatal: " in serve,
 * where the client's git prints our stderr line as it prints its own errors. */
void util_set_prefix(const char *prefix);

/* Called by die() just before it exits, with the exit status. The sandbox's child uses it to
 * tell the parent that setup failed before the command ran. */
void util_set_die_hook(void (*hook)(int status));

/* Print one line "<prefix>message" to stderr and exit(EXIT_GITCAGE). Fail safe. */
_Noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same, with ": strerror(errno)" appended. */
_Noreturn void die_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print one line with the prefix, without exiting. */
void warn_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A warning for the administrator, to syslog (ident gitcage, facility auth), never to the
 * client: it may name server paths. */
void log_admin(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Format into a fixed buffer; dies if the result does not fit (no silent truncation of paths). */
void xsnprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void *xcalloc(size_t count, size_t size);
char *xstrdup(const char *s);

/* Write all of buf, retrying on EINTR and short writes. Returns 0 or -1 with errno. */
int write_all(int fd, const void *buf, size_t len);

/* A growable byte buffer, always NUL-terminated. */
struct strbuf {
	char *data;
	size_t len, cap;
};
void strbuf_add(struct strbuf *buf, const void *data, size_t len);
void strbuf_addf(struct strbuf *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void strbuf_free(struct strbuf *buf);

/* A growable NULL-terminated array of strings it owns (argv, envp). */
struct strvec {
	char **items;
	size_t count, cap;
};
void strvec_push(struct strvec *vec, const char *text);
void strvec_pushf(struct strvec *vec, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void strvec_free(struct strvec *vec);

/* Growable arrays. grow_array makes room for at least needed items of size bytes in *array
 * (capacity in *cap, doubled as it grows); array_append grows an array that keeps no capacity
 * by one zeroed item and returns it (the array's new address). Both die when out of memory or
 * on overflow. */
void grow_array(void *array, size_t *cap, size_t needed, size_t size);
void *array_append(void *array, size_t count, size_t size);

/* A regular file, whole: from its start whatever fd's offset (pread), at most max bytes, into
 * a new NUL-terminated buffer. Returns 0, or -1 with errno: EINVAL for a file that is not
 * regular, EFBIG for one larger than max. */
int read_whole_file(int fd, size_t max, char **data, size_t *len);

/* Append what fd holds from its start (pread: a memfd whose offset a child moved) to out,
 * until its end or until out holds max bytes or more. */
void strbuf_read_fd(struct strbuf *out, int fd, size_t max);

/* Whether text[0, len) is all lowercase hexadecimal digits, as git writes object ids. */
bool hex_lower(const char *text, size_t len);

/* A file of gitcage's: name beside this executable when it exists there (a build tree),
 * else the installed path. */
void path_beside_self(const char *name, const char *installed, char *out, size_t size);

/* CLOCK_MONOTONIC, in milliseconds, microseconds and nanoseconds. */
long long clock_ms(void);
long long clock_us(void);
long long clock_ns(void);

/* Error out-parameter of pure code: the caller decides whether and how to report it. */
struct error {
	char message[512];
};
int error_set(struct error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static inline void close_fdp(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}
static inline void free_p(void *p)
{
	free(*(void **)p);
}
#define cleanup_fd   __attribute__((cleanup(close_fdp)))
#define cleanup_free __attribute__((cleanup(free_p)))

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif

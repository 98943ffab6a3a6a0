/* SPDX-License-Identifier: ISC */
/* The INI syntax of gitcage.conf, read with inih; what the keys mean is config.c's.
 *
 * inih splits "key = value" lines; this file feeds it one line at a time through a reader of
 * its own. That reader is what keeps every error exact and every line honest:
 * - it counts lines, since Debian's inih is built without INI_HANDLER_LINENO;
 * - it parses [section] headers itself, because inih silently cuts them at 49 bytes, and a
 *   cut "[repo team/long-name...]" would be a rule for some other repository;
 * - it strips leading blanks, so that no line becomes an inih "continuation" of the last key;
 * - it refuses a line too long for inih's buffer instead of letting it be split in two;
 * - it notices a key line for which inih never called the handler: a syntax error, which inih
 *   would only report once, for the first such line. */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <ini.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/config.h"
#include "common/config_parse.h"
#include "common/trust.h"

#ifndef GITCAGE_HOOKS_DIR
#define GITCAGE_HOOKS_DIR "/usr/local/lib/gitcage/hooks"
#endif

/* A config file larger than this is refused rather than read into memory. */
#define CONFIG_MAX_BYTES (16u << 20)

#define BLANKS " \t\r\v\f"

/* The reader's state: the text, where it is, and a key line inih has not answered yet. */
struct reader {
	struct config_parser parser;
	const char *data;
	size_t len, pos;
	int pending_line; /* a key line inih has not (yet) called the handler for */
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static void trim_end(char *text)
{
	size_t len = strlen(text);
	while (len && is_blank(text[len - 1]))
		text[--len] = '\0';
}

/* inih's rule for values, applied to headers too: a ';' after a blank starts a comment. */
static void cut_inline_comment(char *text)
{
	for (char *c = text; *c; c++) {
		if (*c == ';' && c > text && is_blank(c[-1])) {
			*c = '\0';
			break;
		}
	}
	trim_end(text);
}

/* inner: what is between the brackets, e.g. " repo  team/demo.git ". */
static void open_section(struct reader *r, char *inner)
{
	char *kind = inner + strspn(inner, BLANKS);
	char *arg = kind + strcspn(kind, BLANKS);
	if (*arg)
		*arg++ = '\0';
	arg += strspn(arg, BLANKS);
	trim_end(arg);
	config_schema_section(&r->parser, kind, arg);
}

/* line: a whole trimmed line starting with '['. Everything after the last ']' must be blank
 * or an inline comment; the last one, so that globs such as [repo team/[ab]*.git] work. */
static void begin_section(struct reader *r, const char *line, size_t len)
{
	char *header = strndup(line, len);
	if (!header)
		die("out of memory");
	cut_inline_comment(header);
	size_t end = strlen(header);
	config_schema_header(&r->parser);
	if (end < 2 || header[end - 1] != ']') {
		config_parser_error(&r->parser, r->parser.line,
				    "malformed section header '%s': expected [NAME]", header);
	} else {
		header[end - 1] = '\0';
		open_section(r, header + 1);
	}
	free(header);
}

/* A key line handed to inih that never reached the handler is one inih could not parse. */
static void finish_pending(struct reader *r)
{
	if (r->pending_line)
		config_parser_error(&r->parser, r->pending_line,
				    "expected 'key = value', a [section] header or a comment");
	r->pending_line = 0;
}

/* The next raw line, without its '\n'. False at the end of the text. */
static bool next_raw_line(struct reader *r, const char **line, size_t *len)
{
	if (r->pos >= r->len)
		return false;
	const char *start = r->data + r->pos;
	const char *newline = memchr(start, '\n', r->len - r->pos);
	*line = start;
	*len = newline ? (size_t)(newline - start) : r->len - r->pos;
	r->pos += *len + (newline ? 1 : 0);
	return true;
}

static void trim(const char **line, size_t *len)
{
	while (*len && is_blank((*line)[*len - 1]))
		(*len)--;
	while (*len && is_blank(**line)) {
		(*line)++;
		(*len)--;
	}
}

/* Hand inih a key line as it is, if its buffer can hold it: a longer line would be split, and
 * its tail read as a line of its own. */
static void hand_key_line(struct reader *r, const char *line, size_t len, char *out, int size)
{
	if (len >= (size_t)size) {
		config_parser_error(&r->parser, r->parser.line,
				    "line is too long (%zu characters; inih takes at most %d)", len,
				    size - 1);
		return;
	}
	memcpy(out, line, len);
	out[len] = '\0';
	r->pending_line = r->parser.line;
}

/* inih's reader: one call per line of the file, so that its line count and ours agree.
 * Blank, comment and header lines reach inih as empty lines. */
static char *feed_line(char *out, int size, void *stream)
{
	struct reader *r = stream;
	const char *line;
	size_t len;
	finish_pending(r);
	if (!next_raw_line(r, &line, &len))
		return NULL;
	r->parser.line++;
	if (size < 1) {
		config_parser_error(&r->parser, r->parser.line,
				    "inih offers no line buffer"); /* fail closed */
		return NULL;
	}
	if (r->parser.line == 1 && len >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0) {
		line += 3; /* a UTF-8 byte order mark */
		len -= 3;
	}
	trim(&line, &len); /* no leading blank: inih would take the line as a continuation */
	out[0] = '\0';
	if (memchr(line, '\0', len))
		config_parser_error(&r->parser, r->parser.line, "line contains a NUL byte");
	else if (len == 0 || line[0] == ';' || line[0] == '#')
		; /* blank or comment */
	else if (line[0] == '[')
		begin_section(r, line, len);
	else
		hand_key_line(r, line, len, out, size);
	return out;
}

static int on_key(void *user, const char *section, const char *name, const char *value)
{
	struct reader *r = user;
	(void)section; /* inih's copy is cut at 49 bytes; the feeder keeps the whole header */
	r->pending_line = 0;
	if (*name == '\0')
		config_parser_error(&r->parser, r->parser.line, "missing key name before '='");
	else
		config_schema_key(&r->parser, name, value);
	return 1; /* never stop inih: every error is reported at once */
}

/* cfg must have been through config_init: a parse changes only what the file sets, so what it
 * leaves out keeps its default. */
static size_t parse_text(const char *data, size_t len, const char *name, struct config *cfg,
			 struct config_errors *errors)
{
	struct reader r = {
	    .parser = {.cfg = cfg, .errors = errors, .name = name}, .data = data, .len = len};
	config_schema_start(&r.parser);
	int rc = ini_parse_stream(feed_line, &r, on_key, &r);
	finish_pending(&r);
	/* Our handler never fails, so inih can only have stopped at a line the feeder already
	 * reported; never report success when it did not. */
	if (rc != 0 && r.parser.error_count == 0)
		config_parser_error(&r.parser, rc > 0 ? rc : r.parser.line,
				    "inih could not parse this file (%d)", rc);
	config_schema_finish(&r.parser);
	return r.parser.error_count;
}

size_t config_parse_fd(int fd, const char *name, struct config *cfg, struct config_errors *errors)
{
	char *text;
	size_t len;
	cfg->file = name;
	if (read_whole_file(fd, CONFIG_MAX_BYTES, &text, &len) < 0) {
		if (errno == EFBIG)
			config_errors_add(errors, "%s: larger than %u MiB; refusing it", name,
					  CONFIG_MAX_BYTES >> 20);
		else
			config_errors_add(errors, "%s: %s", name, strerror(errno));
		return 1;
	}
	size_t count = parse_text(text, len, name, cfg, errors);
	free(text);
	return count;
}

size_t config_parse_string(const char *text, const char *name, struct config *cfg,
			   struct config_errors *errors)
{
	return parse_text(text, strlen(text), name, cfg, errors);
}

size_t config_parse_buffer(const char *text, size_t len, const char *name, struct config *cfg,
			   struct config_errors *errors)
{
	return parse_text(text, len, name, cfg, errors);
}

/* The config decides who may write which repository, which program runs as git and which
 * hooks run: trust it only if nobody but root (or also_trusted) can have written it. */
static bool file_trusted(const char *path, uid_t also_trusted, int *fd,
			 struct config_errors *errors)
{
	struct trust_rule rule = {.also = also_trusted, .sticky_ok = also_trusted != 0};
	struct error err;
	struct stat st;
	/* O_NONBLOCK: a FIFO at the path must not hang us before fstat can refuse it. */
	*fd = trust_open(path, &rule, O_RDONLY | O_NOCTTY | O_NONBLOCK, &err);
	if (*fd < 0 && errno == ENOENT)
		config_errors_add(errors, "%s: %s", path, strerror(ENOENT));
	else if (*fd < 0)
		config_errors_add(errors, "%s: refusing this config file: %s", path, err.message);
	if (*fd < 0)
		return false;
	if (fstat(*fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		config_errors_add(errors, "%s: refusing this config file: it is not a regular file",
				  path);
		return false;
	}
	return true;
}

/* What the config makes gitcage run must be as trusted as the config itself. A path that
 * does not exist is left to the step that uses it (serve refuses a push without hooks). */
static size_t check_trusted(const char *path, const char *what, int flags, uid_t also_trusted,
			    struct config_errors *errors)
{
	struct trust_rule rule = {.also = also_trusted, .sticky_ok = also_trusted != 0};
	struct error err;
	int fd = trust_open(path, &rule, flags, &err);
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	if (errno == ENOENT)
		return 0;
	config_errors_add(errors, "%s: refusing this %s: %s", path, what, err.message);
	return 1;
}

/* git under /usr is the system's own, which root controls already; anywhere else it is
 * checked like the config. The hooks directory is checked wherever it is. */
static size_t check_programs(const struct config *cfg, uid_t also_trusted,
			     struct config_errors *errors)
{
	char hooks[PATH_MAX];
	size_t count = 0;
	if (cfg->git && strncmp(cfg->git, "/usr/", 5) != 0)
		count += check_trusted(cfg->git, "git program", O_PATH, also_trusted, errors);
	if (!cfg->hooks)
		return count;
	/* The directory serve will run: by default, in a build tree, the one beside gitcage. */
	if (strcmp(cfg->hooks, GITCAGE_HOOKS_DIR) == 0)
		path_beside_self("hooks", GITCAGE_HOOKS_DIR, hooks, sizeof(hooks));
	else
		xsnprintf(hooks, sizeof(hooks), "%s", cfg->hooks);
	return count +
	       check_trusted(hooks, "hooks directory", O_PATH | O_DIRECTORY, also_trusted, errors);
}

size_t config_load(const char *path, uid_t also_trusted, struct config *cfg,
		   struct config_errors *errors)
{
	char absolute[PATH_MAX];
	cleanup_fd int fd = -1;
	cfg->file = path;
	/* sshd starts us in the service account's home; a relative --config is from there. */
	if (path[0] != '/') {
		char cwd[PATH_MAX];
		if (!getcwd(cwd, sizeof(cwd)) || snprintf(absolute, sizeof(absolute), "%s/%s", cwd,
							  path) >= (int)sizeof(absolute)) {
			config_errors_add(errors, "%s: cannot make the path absolute", path);
			return 1;
		}
		path = absolute;
	}
	if (!file_trusted(path, also_trusted, &fd, errors))
		return 1;
	size_t count = config_parse_fd(fd, cfg->file, cfg, errors);
	return count + check_programs(cfg, also_trusted, errors);
}

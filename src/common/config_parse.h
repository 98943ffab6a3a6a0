/* SPDX-License-Identifier: ISC */
/* What the config schema (config.c) and its INI adapter (config_ini.c) share: the state of one
 * parse. Private to those two files; everything else uses config.h. */
#ifndef GITCAGE_COMMON_CONFIG_PARSE_H
#define GITCAGE_COMMON_CONFIG_PARSE_H

#include "common/config.h"

struct config_schema; /* the schema's own state: current section, keys seen, @group uses */

struct config_parser {
	struct config *cfg;
	struct config_errors *errors;
	size_t error_count; /* errors found by this parse */
	const char *name;   /* the file name errors start with */
	int line;	    /* the line being handled */
	struct config_schema *schema;
};

/* Record "FILE:LINE: message" and count it. */
void config_parser_error(struct config_parser *p, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Append one formatted line to errors. */
void config_errors_add(struct config_errors *errors, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void config_schema_start(struct config_parser *p);
/* A header line starts: what follows belongs to no section until one is opened. */
void config_schema_header(struct config_parser *p);
/* [KIND ARG] or [KIND]: arg is "" when absent. */
void config_schema_section(struct config_parser *p, const char *kind, const char *arg);
void config_schema_key(struct config_parser *p, const char *name, const char *value);
/* After the last line: checks that need the whole file (@group names); frees the state. */
void config_schema_finish(struct config_parser *p);

#endif

/* SPDX-License-Identifier: ISC */
/* What the config schema (config.c) and its INI adapter (config_ini.c) share: the state of one
 * parse. Private to those two files; everything else uses config.h. */
#ifndef GITCAGE_COMMON_CONFIG_PARSE_H
#define GITCAGE_COMMON_CONFIG_PARSE_H

#include <stdbool.h>

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
/* The current section as messages name it: "repo demo.git". */
const char *config_schema_title(const struct config_parser *p);
/* An @group named somewhere: it must exist once the whole file is read. */
void config_schema_group_ref(struct config_parser *p, const char *name);
/* True when word is a user, @group or @all (or CREATOR, when creator_ok). */
bool config_schema_principal(struct config_parser *p, const char *word, bool creator_ok);

/* Helpers of the schema that config_repo.c shares. */
bool config_has_control(const char *s);
const char *config_repo_path_problem(const char *path); /* why a path is unusable, or NULL */

/* config_repo.c: [repo ...] headers, access rules and matching. */
/* Parse the header's words into rule->words; false (with errors) when it names nothing. */
bool config_repo_header(struct config_parser *p, struct repo_rule *rule);
/* A key that is not one of the [repo] keys: an access rule "PERM [REF...]". False when the
 * key does not look like a rule at all (the caller reports an unknown key). */
bool config_repo_rule(struct config_parser *p, struct repo_rule *rule, const char *key,
		      const char *value);
/* read = USERS or write = USERS: the rules "R" and "RW+" at this line. */
void config_repo_shorthand(struct config_parser *p, struct repo_rule *rule, const char *key,
			   const char *value);
/* After the last line: [repo @group] words become the group's members. */
void config_repo_finish(struct config_parser *p);
void config_repo_free(struct repo_rule *rule);

#endif

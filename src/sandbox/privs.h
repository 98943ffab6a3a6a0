/* SPDX-License-Identifier: ISC */
/* Capabilities, rlimits and no_new_privs: the last steps before exec. */
#ifndef GITCAGE_PRIVS_H
#define GITCAGE_PRIVS_H

#include "common/config.h"

/* Set no_new_privs, so that no exec can ever gain privileges (setuid, file capabilities). */
void privs_no_new_privs(void);
/* Back to the plain Linux persona (PER_LINUX), whatever the caller set: the sandbox inherits
 * it, and its seccomp filter allows no other. */
void privs_reset_persona(void);
/* Empty every capability set: bounding, ambient, inheritable, permitted, effective. */
void privs_drop_capabilities(void);
/* Apply [limits] as rlimits; core dumps are always off. */
void privs_set_limits(const struct limits *limits);

#endif

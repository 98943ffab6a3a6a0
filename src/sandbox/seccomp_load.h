/* SPDX-License-Identifier: ISC */
/* The sandbox's seccomp filter, compiled at build time (src/sandbox/seccomp_gen.c). */
#ifndef GITCAGE_SECCOMP_LOAD_H
#define GITCAGE_SECCOMP_LOAD_H

/* Install the filter on the calling thread. Requires no_new_privs. Dies on failure. */
void seccomp_install(void);

#endif

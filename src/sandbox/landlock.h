/* SPDX-License-Identifier: ISC */
/* Landlock, the sandbox's second wall. The namespaces decide what exists for the command; this
 * decides what it may touch of what exists, so that a mount that shows too much, or a hole in
 * a namespace, still leaves the host out of reach:
 * - files: only beneath the sandbox's own trees, read-only except where a rule says otherwise;
 * - TCP: no bind, no connect (Landlock ABI 4 and later);
 * - abstract unix sockets and signals: nothing outside the sandbox (ABI 6 and later).
 * Best effort by the kernel's ABI: a kernel without Landlock runs the other walls unchanged. */
#ifndef GITCAGE_SANDBOX_LANDLOCK_H
#define GITCAGE_SANDBOX_LANDLOCK_H

#include <stddef.h>

enum landlock_access {
	LANDLOCK_LIST,	  /* list directories, nothing more */
	LANDLOCK_READ,	  /* read and execute files, list directories */
	LANDLOCK_DEVICES, /* read, write and truncate existing files, and their ioctls: /dev */
	LANDLOCK_WRITE,	  /* everything: create, write, rename and remove beneath */
};

/* One tree (or file) the command may reach, by its path in the new root. */
struct landlock_rule {
	const char *path;
	enum landlock_access access;
};

/* What this kernel's Landlock can do: the ABI version, 0 for none. */
int landlock_abi(void);

/* One line for --help and check-config: which of Landlock's walls this kernel puts up. */
void landlock_describe(char *buf, size_t size);

/* The sandbox's child calls this once, after pivot_root (the paths are the new root's) and
 * before seccomp, which then refuses what this needs: restrict this process and everything
 * it starts to the rules, and deny TCP, abstract unix sockets and signals as far as the ABI
 * goes. A rule whose path does not exist is skipped. Returns the ABI in force (0: this kernel
 * has no Landlock, and nothing changed). Dies when a kernel with Landlock refuses a step:
 * a half-built wall must never pass for a whole one. Needs no_new_privs. */
int landlock_restrict(const struct landlock_rule *rules, size_t count);

#endif

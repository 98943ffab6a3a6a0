#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# The checks of make lint that are gitcage's own (tools/lint-boundaries, tools/lint-functions,
# tools/lint-spdx), on a copy of the tree with one boundary broken at a time: each must fail
# and name the file and the line. Needs nothing but bash and awk; run by tests/run-all lint.

setup() {
	ROOT=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
	TREE=$BATS_TEST_TMPDIR/tree
	mkdir -p "$TREE/tests"
	cp -R "$ROOT/src" "$ROOT/tools" "$TREE/"
	cp -R "$ROOT/tests/unit" "$ROOT/tests/fuzz" "$TREE/tests/"
}

flunk() {
	printf '%s\n' "$@" >&2
	return 1
}

# insert_after FILE LINE TEXT: TEXT becomes line LINE + 1 of FILE.
insert_after() {
	sed -i "$2a\\
$3" "$1"
}

@test "the tree keeps its boundaries" {
	run "$ROOT/tools/lint-boundaries"
	[ "$status" -eq 0 ] && [ -z "$output" ] || flunk "$output"
}

@test "a git2.h include in src/gitcage fails, naming the file and the line" {
	local line
	line=$(grep -n '^#include "gitcage/request.h"' "$TREE/src/gitcage/request.c" | cut -d: -f1)
	insert_after "$TREE/src/gitcage/request.c" "$line" '#include <git2.h>'
	run "$TREE/tools/lint-boundaries"
	[ "$status" -eq 1 ] || flunk "status $status: $output"
	[ "$output" = "src/gitcage/request.c:$((line + 1)): includes git2.h: only src/guard may use libgit2" ] ||
		flunk "$output"
}

@test "a git2 header under git2/ in src/common fails too; src/guard and its tests may" {
	insert_after "$TREE/src/common/util.c" 1 '#  include "git2/oid.h"'
	insert_after "$TREE/src/guard/gitconfig.c" 1 '#include <git2.h>'
	insert_after "$TREE/tests/unit/guard/test_gitconfig.c" 1 '#include <git2.h>'
	run "$TREE/tools/lint-boundaries"
	[ "$status" -eq 1 ] || flunk "status $status: $output"
	[ "$output" = "src/common/util.c:2: includes git2.h: only src/guard may use libgit2" ] ||
		flunk "$output"
}

@test "a mount() call outside src/sandbox fails, naming the file and the line" {
	printf '%s\n' 'void lint_probe(void);' 'void lint_probe(void)' '{' \
		'	mount("none", "/mnt", "tmpfs", 0, NULL);' '}' >>"$TREE/src/txn/txn.c"
	local line
	line=$(grep -n 'mount("none"' "$TREE/src/txn/txn.c" | cut -d: -f1)
	run "$TREE/tools/lint-boundaries"
	[ "$status" -eq 1 ] || flunk "status $status: $output"
	[ "$output" = "src/txn/txn.c:$line: calls mount(): only src/sandbox may change namespaces, mounts, capabilities or rlimits" ] ||
		flunk "$output"
}

@test "namespaces, capabilities and rlimits outside src/sandbox fail, one line each" {
	printf '%s\n' 'static void probe(void)' '{' '	unshare(CLONE_NEWNS);' \
		'	setns(3, 0);' '	cap_set_proc(caps);' '	setrlimit(RLIMIT_AS, &limit);' \
		'	syscall(SYS_pivot_root, ".", ".");' '}' >>"$TREE/src/gitcage/serve.c"
	run "$TREE/tools/lint-boundaries"
	[ "$status" -eq 1 ] || flunk "status $status: $output"
	local expected
	for expected in "calls unshare()" "uses CLONE_NEWNS" "calls setns()" "calls cap_set_proc()" \
		"calls setrlimit()" "uses SYS_pivot_root"; do
		[[ $output == *"src/gitcage/serve.c:"*": $expected: only src/sandbox may"* ]] ||
			flunk "no line for $expected" "$output"
	done
	[ "${#lines[@]}" -eq 6 ] || flunk "not one line each: $output"
}

@test "calls named in comments and strings, and calls in src/sandbox, are not findings" {
	printf '%s\n' '/* mount(2) and unshare(CLONE_NEWNS) are src/sandbox'"'"'s: see' \
		' * setns(). */' 'static const char *lint_note = "mount(";  // umount2(x)' \
		>>"$TREE/src/gitcage/serve.c"
	printf '%s\n' 'static void probe(void)' '{' '	mount("a", "b", 0, 0, 0);' '}' \
		>>"$TREE/src/sandbox/mounts.c"
	run "$TREE/tools/lint-boundaries"
	[ "$status" -eq 0 ] && [ -z "$output" ] || flunk "$output"
}

@test "a function of 61 lines fails, naming it; one of 60 does not" {
	local file=$BATS_TEST_TMPDIR/long.c
	{
		printf 'static int\nsixty(int a,\n      int b)\n{\n'
		for _ in $(seq 60); do printf '\ta += b;\n'; done
		printf '}\n'
	} >"$file"
	run "$ROOT/tools/lint-functions" "$file"
	[ "$status" -eq 0 ] || flunk "$output"
	sed -i 's/^}$/\ta += b;\n}/' "$file"
	run "$ROOT/tools/lint-functions" "$file"
	[ "$status" -eq 1 ] && [ "$output" = "$file:4: sixty is 61 lines long (at most 60)" ] ||
		flunk "$output"
}

@test "a script without an SPDX line fails, naming it" {
	printf '#!/bin/sh\n# no licence here\necho\n' >"$TREE/tools/unlicensed"
	run "$TREE/tools/lint-spdx"
	[ "$status" -eq 1 ] || flunk "status $status: $output"
	[ "$output" = "tools/unlicensed: no SPDX-License-Identifier: ISC line" ] || flunk "$output"
}

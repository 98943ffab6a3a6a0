#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Honest work succeeds in `gitcage run`: git reads a repository read-only, and with --writable
# writes objects and moves a ref, which git outside then sees, with fsck clean.

load ../lib/common

setup() {
	require_unprivileged
	require_built
	CONFIG=$BATS_TEST_TMPDIR/gitcage.conf
	write_config "$CONFIG" 60
	REPO=$(make_bare_repo repo.git)
	add_commits "$REPO" 3
	BRANCH=$(git -C "$REPO" symbolic-ref HEAD)
}

# in_repo [--writable] COMMAND...: COMMAND in the sandbox on $REPO, stderr kept apart.
in_repo() {
	local writable=()
	if [ "$1" = --writable ]; then
		writable=(--writable)
		shift
	fi
	run --separate-stderr cage --repo "$REPO" "${writable[@]}" -- "$@"
}

@test "git log works on a read-only repository" {
	in_repo git log --format=%s
	exit_status_is 0
	[ "$output" = "$(printf 'commit 3\ncommit 2\ncommit 1')" ] || flunk "got $(ran)" "$stderr"
}

@test "git fsck works on a read-only repository" {
	in_repo git fsck --strict
	exit_status_is 0
	[ -z "$stderr$output" ] || flunk "fsck said: $output $stderr"
}

@test "git cannot write objects without --writable" {
	local blob
	blob=$(echo "not written" | git hash-object --stdin)
	in_repo sh -c 'echo "not written" | git hash-object -w --stdin'
	[ "$status" -ne 0 ] || flunk "hash-object -w worked on a read-only repository: $(ran)"
	! git -C "$REPO" cat-file -e "$blob" 2>/dev/null || flunk "the object is in the repository"
}

@test "with --writable: hash-object -w, commit-tree and update-ref move the branch" {
	local old commit
	old=$(git -C "$REPO" rev-parse "$BRANCH")
	in_repo --writable sh -c '
		blob=$(echo "written in the sandbox" | git hash-object -w --stdin) &&
		tree=$(printf "100644 blob %s\tsandbox.txt\n" "$blob" | git mktree) &&
		commit=$(git -c user.name=sandbox -c user.email=sandbox@gitcage.invalid \
			commit-tree "$tree" -p "$1" -m "from the sandbox") &&
		git update-ref "$2" "$commit" "$1" && echo "$commit"' sh "$old" "$BRANCH"
	exit_status_is 0
	commit=$output
	[ "$(git -C "$REPO" rev-parse "$BRANCH")" = "$commit" ] || flunk "the branch did not move"
	[ "$(git -C "$REPO" rev-parse "$BRANCH^")" = "$old" ] || flunk "wrong parent"
	[ "$(git -C "$REPO" show "$BRANCH:sandbox.txt")" = "written in the sandbox" ] ||
		flunk "wrong content"
	run git -C "$REPO" fsck --strict
	exit_status_is 0
}

@test "with --writable: an object no ref reaches is not published" {
	local blob
	blob=$(echo "nobody refers to me" | git hash-object --stdin)
	in_repo --writable sh -c 'echo "nobody refers to me" | git hash-object -w --stdin'
	exit_status_is 0
	! git -C "$REPO" cat-file -e "$blob" 2>/dev/null || flunk "the unreferenced blob was published"
}

@test "without --writable, update-ref cannot move the branch" {
	local old
	old=$(git -C "$REPO" rev-parse "$BRANCH")
	in_repo git update-ref "$BRANCH" "$(git -C "$REPO" rev-parse "$BRANCH^")" "$old"
	[ "$status" -ne 0 ] || flunk "update-ref worked on a read-only repository"
	[ "$(git -C "$REPO" rev-parse "$BRANCH")" = "$old" ] || flunk "the branch moved"
}

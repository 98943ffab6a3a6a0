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
	# shellcheck disable=SC2016 # the script expands in the sandbox's sh
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

# Loose objects are fsck'ed as a push's packs are (packed and indexed by git in the indexer's
# cage): a tree with an entry named .git never reaches a branch.
@test "with --writable: a loose tree fsck refuses (an entry named .git) is not published" {
	local before
	before=$(git -C "$REPO" for-each-ref)
	# shellcheck disable=SC2016 # the script expands in the sandbox's sh
	in_repo --writable sh -c '
		blob=$(printf "[core]\n\tfsmonitor = touch /tmp/pwned\n" | git hash-object -w --stdin) &&
		tree=$(printf "100644 blob %s\t.git\n" "$blob" | git mktree) &&
		commit=$(git -c user.name=x -c user.email=x@x commit-tree -m dotgit "$tree") &&
		git update-ref refs/heads/dotgit "$commit"'
	[ "$status" -ne 0 ] || flunk "the run exited 0: $(ran)" "$stderr"
	[[ $stderr == *"refs/heads/dotgit not published: a loose object was refused by git index-pack --fsck-objects"*hasDotgit* ]] ||
		flunk "$stderr"
	[ "$(git -C "$REPO" for-each-ref)" = "$before" ] || flunk "the refs changed"
	run git -C "$REPO" fsck --strict --no-dangling
	[ "$status" -eq 0 ] && [ -z "$output" ] || flunk "fsck: $(ran)"
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

repo_state() {
	(cd "$REPO" && find . -printf '%y %m %p\n' | sort &&
		find . -type f -print0 | sort -z | xargs -0 sha256sum)
}

@test "with --writable: git gc is refused, and the repository is byte for byte as it was" {
	local before
	before=$(repo_state)
	in_repo --writable git gc --prune=now -q
	exit_status_is 125
	[[ $stderr == *"deleted existing objects (gc, repack or prune?)"* ]] || flunk "$(ran)" "$stderr"
	[ "$(repo_state)" = "$before" ] || flunk "the repository changed"
}

@test "with --writable: a fetch from a bundle publishes its refs; FETCH_HEAD is not" {
	local other tip
	other=$(make_bare_repo other.git)
	add_commits "$other" 2
	tip=$(git -C "$other" rev-parse HEAD)
	git -C "$other" bundle create -q "$REPO/incoming.bundle" HEAD "$BRANCH" 2>/dev/null
	in_repo --writable git fetch -q ./incoming.bundle "+$BRANCH:refs/heads/fetched"
	exit_status_is 0
	[[ $stderr == *"not published: FETCH_HEAD"* ]] || flunk "no word on FETCH_HEAD: $stderr"
	[ "$(git -C "$REPO" rev-parse refs/heads/fetched)" = "$tip" ] || flunk "not published: $stderr"
	[ ! -e "$REPO/FETCH_HEAD" ] || flunk "FETCH_HEAD was published"
	run git -C "$REPO" fsck --strict
	exit_status_is 0
}

@test "with --writable, a directory that is not a bare repository is refused at once" {
	mkdir "$BATS_TEST_TMPDIR/plain"
	run --separate-stderr cage --repo "$BATS_TEST_TMPDIR/plain" --writable -- true
	exit_status_is 125
	[[ $stderr == *"--writable needs a bare repository"* ]] || flunk "$(ran)" "$stderr"
}

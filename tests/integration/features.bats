#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# The git features of gitcage.conf, each exercised by a real git client over a real sshd: a
# partial clone that is really partial, push -o, push --signed, git archive --remote of an
# unreachable commit, and a push of an old history that fsck would refuse. Each has its
# control: without the key, the client is refused (or gets a full clone) as git says.

load ../lib/common
load ../lib/sshd

setup_file() {
	sshd_setup_file alice
}

teardown_file() {
	sshd_stop
}

# write_conf [LINE...]: the config; the lines go into [repo demo.git].
write_conf() {
	{
		printf '[server]\nrepositories = %s\naudit = %s\nhooks = %s\n' "$ROOT" "$AUDIT" \
			"$(dirname "$GITCAGE")/hooks"
		[ -z "${SEED:-}" ] || echo "push-cert-seed = $SEED"
		printf '[limits]\ntimeout = 60\n[repo demo.git]\nread = alice\nwrite = alice\n'
		printf '%s\n' "$@"
	} >"$CONF"
	trust "$CONF" >/dev/null
}

setup() {
	ROOT=$BATS_TEST_TMPDIR/repos
	CONF=$BATS_TEST_TMPDIR/gitcage.conf
	AUDIT=$BATS_TEST_TMPDIR/audit.log
	SEED=
	mkdir -p "$ROOT"
	git init -q --bare "$ROOT/demo.git"
	add_commits "$ROOT/demo.git" 3
	BRANCH=$(git -C "$ROOT/demo.git" symbolic-ref HEAD)
	write_conf
	sshd_authorize_gitcage "$(trust "$CONF")" alice
	URL="ssh://$(id -un)@127.0.0.1:$SSHD_PORT/demo.git"
	export GIT_SSH_COMMAND
	GIT_SSH_COMMAND=$(sshd_git_ssh_command alice)
}

tip() {
	git -C "$ROOT/demo.git" rev-parse "$BRANCH"
}

# A work tree with one new commit on top of the repository's branch.
work_with_commit() {
	WORK=$BATS_TEST_TMPDIR/work
	git clone -q "$ROOT/demo.git" "$WORK"
	git -C "$WORK" commit -q --allow-empty -m "$1"
}

# The objects a clone lacks: git rev-list prints them with a leading '?'.
missing_objects() {
	git -C "$1" rev-list --objects --missing=print --all | grep -c '^?' || true
}

@test "allow-filter = yes: a --filter=blob:none clone is really partial, and fetches blobs on demand" {
	write_conf "allow-filter = yes"
	run git clone -q --filter=blob:none --no-checkout "$URL" "$BATS_TEST_TMPDIR/partial"
	exit_status_is 0
	[[ $output != *"filtering not recognized"* ]] || flunk "the server ignored the filter: $output"
	[ "$(missing_objects "$BATS_TEST_TMPDIR/partial")" -ge 1 ] ||
		flunk "no blob is missing: the clone is not partial"
	run git -C "$BATS_TEST_TMPDIR/partial" checkout -q "${BRANCH#refs/heads/}"
	exit_status_is 0
	[ "$(wc -l <"$BATS_TEST_TMPDIR/partial/file.txt")" -eq 3 ] || flunk "the blob did not arrive"
}

@test "without allow-filter, the server ignores the filter and the clone is whole" {
	run git clone -q --filter=blob:none --no-checkout "$URL" "$BATS_TEST_TMPDIR/whole"
	exit_status_is 0
	[[ $output == *"filtering not recognized by server"* ]] || flunk "no warning: $output"
	[ "$(missing_objects "$BATS_TEST_TMPDIR/whole")" -eq 0 ] || flunk "objects are missing"
}

@test "push-options = yes: git push -o is accepted and the push lands" {
	write_conf "push-options = yes"
	work_with_commit "with options"
	run git -C "$WORK" push -o ci.skip -o "reviewer=bob" "$URL" "HEAD:$BRANCH"
	exit_status_is 0
	[ "$(tip)" = "$(git -C "$WORK" rev-parse HEAD)" ] || flunk "the push did not land: $output"
}

@test "without push-options, git push -o is refused and the repository is unchanged" {
	local before
	before=$(tip)
	work_with_commit "with options"
	run git -C "$WORK" push -o ci.skip "$URL" "HEAD:$BRANCH"
	[ "$status" -ne 0 ] || flunk "accepted: $output"
	[[ $output == *"does not support push options"* ]] || flunk "unclear: $output"
	[ "$(tip)" = "$before" ] || flunk "the repository changed"
}

# The client signs the push certificate with an ssh key (gpg.format = ssh), so no gpg is needed.
signed_push() {
	ssh-keygen -q -t ed25519 -N '' -C signer -f "$BATS_TEST_TMPDIR/signer"
	git -C "$WORK" -c gpg.format=ssh -c "user.signingkey=$BATS_TEST_TMPDIR/signer" \
		push --signed "$URL" "HEAD:$BRANCH"
}

@test "push-cert-seed: git push --signed is accepted and the push lands" {
	SEED=$BATS_TEST_TMPDIR/push-cert-seed
	(umask 077 && head -c 32 /dev/urandom | base64 >"$SEED")
	write_conf
	work_with_commit "signed"
	run signed_push
	exit_status_is 0
	[ "$(tip)" = "$(git -C "$WORK" rev-parse HEAD)" ] || flunk "the push did not land: $output"
}

@test "without push-cert-seed, git push --signed is refused and the repository is unchanged" {
	local before
	before=$(tip)
	work_with_commit "signed"
	run signed_push
	[ "$status" -ne 0 ] || flunk "accepted: $output"
	[[ $output == *"does not support --signed push"* ]] || flunk "unclear: $output"
	[ "$(tip)" = "$before" ] || flunk "the repository changed"
}

# A commit in the repository that no ref reaches (made there directly, as an old rewrite leaves).
unreachable_commit() {
	local tree
	tree=$(git -C "$ROOT/demo.git" rev-parse "$BRANCH^{tree}")
	git -C "$ROOT/demo.git" commit-tree -m unreachable "$tree"
}

@test "archive-unreachable = yes: git archive --remote of an unreachable commit works" {
	write_conf "archive-unreachable = yes"
	local commit
	commit=$(unreachable_commit)
	run git archive --remote="$URL" --format=tar -o "$BATS_TEST_TMPDIR/old.tar" "$commit"
	exit_status_is 0
	tar -tf "$BATS_TEST_TMPDIR/old.tar" | grep -qx file.txt || flunk "the archive has no file.txt"
}

@test "without archive-unreachable, git archive --remote of an unreachable commit is refused" {
	local commit
	commit=$(unreachable_commit)
	run git archive --remote="$URL" --format=tar "$commit"
	[ "$status" -ne 0 ] || flunk "accepted"
	[[ $output == *"no such ref"* || $output == *"not a valid object name"* ]] ||
		flunk "unclear: $output"
}

# An old history: a commit whose author line has a bad time zone, which fsck refuses
# (badTimezone), as some old converted repositories have.
old_history_commit() {
	local tree parent
	tree=$(git -C "$WORK" rev-parse 'HEAD^{tree}')
	parent=$(git -C "$WORK" rev-parse HEAD)
	printf 'tree %s\nparent %s\nauthor Old <old@example.invalid> 1000000000 +05\ncommitter Old <old@example.invalid> 1000000000 +05\n\nold history\n' \
		"$tree" "$parent" | git -C "$WORK" hash-object -t commit -w --literally --stdin
}

@test "fsck-ignore = badTimezone in [repo]: an old history with a bad time zone can be pushed" {
	write_conf "fsck-ignore = badTimezone"
	work_with_commit unused
	local commit
	commit=$(old_history_commit)
	run git -C "$WORK" push "$URL" "$commit:refs/heads/old"
	exit_status_is 0
	[ "$(git -C "$ROOT/demo.git" rev-parse refs/heads/old)" = "$commit" ] ||
		flunk "the old history did not land: $output"
}

@test "without fsck-ignore, the same push is refused by fsck and nothing lands" {
	work_with_commit unused
	local commit
	commit=$(old_history_commit)
	run git -C "$WORK" push "$URL" "$commit:refs/heads/old"
	[ "$status" -ne 0 ] || flunk "accepted: $output"
	[[ ${output,,} == *badtimezone* ]] || flunk "fsck's reason is not shown: $output"
	run git -C "$ROOT/demo.git" rev-parse --verify -q refs/heads/old
	[ "$status" -ne 0 ] || flunk "refs/heads/old exists"
}

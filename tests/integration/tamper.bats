#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# A compromised git. A test-only "git" (configured as `git =`) damages the repository in one way,
# before or after doing its work with the real /usr/bin/git, or talks to the publisher itself as
# a compromised receive-pack could. A real `git push` goes through a real sshd and
# `gitcage serve`. git writes only a private layer; afterwards the repository must be exactly
# what it was, or that plus the honest push: every file's type, mode and hash is compared.

load ../lib/common
load ../lib/sshd
load ../lib/tamper

setup_file() {
	sshd_setup_file alice
}

teardown_file() {
	sshd_stop
}

setup() {
	tamper_setup
}

@test "control: an honest push is published, and only it" {
	compromise ":"
	remember_state
	push_honest refs/heads/main
	[ "$PUSH_STATUS" -eq 0 ] || flunk "$PUSH_OUTPUT"
	expect_only_honest refs/heads/main
	grep -q '"verdict":"ok"' "$AUDIT" || flunk "$(cat "$AUDIT")"
	[ "$(grep -c . "$AUDIT")" -eq 1 ] || flunk "not one audit record: $(cat "$AUDIT")"
	grep -q "\"ref\":\"refs/heads/main\",\"old\":\"$MAIN_BEFORE\",\"new\":\"$HONEST\",\"verdict\":\"ok\"" "$AUDIT" ||
		flunk "no old->new in the audit record: $(cat "$AUDIT")"
}

# config and hooks/ stay read-only binds on the private layer: git never reads a config or
# runs a hook that the pusher wrote during the session.
@test "config appended, before and after git's work: the read-only bind stops it" {
	damage_before "printf '[core]\\n\\thooksPath = /tmp\\n' >>config"
	expect_only_honest refs/heads/main
	expect_told "Read-only file system"
	compromise_after "printf '[core]\\n\\thooksPath = /tmp\\n' >>config"
	remember_state
	push_honest refs/heads/main
	expect_only_honest refs/heads/main
	expect_told "Read-only file system"
}

@test "a hook added, and the hooks directory swapped" {
	damage_before "mkdir -p hooks.evil && printf '#!/bin/sh\\n' >hooks.evil/post-receive && mv hooks hooks.orig; mv hooks.evil hooks"
	expect_refused
	damage_after "printf '#!/bin/sh\\necho pwned\\n' >hooks/post-receive; chmod +x hooks/post-receive; mkdir hooks2"
}

@test "alternates and commondir" {
	damage_before "echo /tmp/elsewhere >commondir"
	expect_refused
	damage_after "echo /tmp/elsewhere/objects >>objects/info/alternates; echo x >commondir"
}

@test "a dangling ref, and main pointing to a missing object" {
	damage_before "echo $MISSING_OID >refs/heads/dangling"
	expect_refused
	damage_after "echo $MISSING_OID >refs/heads/main; echo $MISSING_OID >refs/heads/dangling"
}

@test "main moved to a blob after git's work" {
	# shellcheck disable=SC2016 # the damage runs in the sandbox's shell
	damage_after 'blob=$(/usr/bin/git rev-parse HEAD:file.txt) && echo $blob >refs/heads/main'
}

@test "a ref replaced by a symlink to /etc/passwd or to a file of the service account" {
	damage_before "ln -s /etc/passwd refs/heads/passwd"
	expect_refused
	damage_after "rm -f refs/heads/main; ln -s $BATS_TEST_TMPDIR/victim refs/heads/main"
}

@test "HEAD rewritten" {
	damage_before "echo 'ref: refs/heads/evil' >HEAD"
	expect_refused
	damage_after "echo 'ref: refs/heads/evil' >HEAD"
	[ "$(git -C "$REPO" symbolic-ref HEAD)" = refs/heads/main ] || flunk "HEAD moved"
}

@test "an entry injected into packed-refs" {
	damage_before "echo '$MISSING_OID refs/heads/injected' >>packed-refs"
	expect_refused
	damage_after "echo '$MISSING_OID refs/heads/injected' >>packed-refs"
}

@test "a stale refs/heads/main.lock and a FIFO under logs/" {
	damage_before "touch refs/heads/main.lock"
	expect_refused
	damage_after "mkdir -p logs/refs/heads && mkfifo logs/refs/heads/main && touch refs/heads/main.lock"
	compromise ":"
	push_honest refs/heads/main # a later push is not stuck behind them
	[ "$PUSH_STATUS" -eq 0 ] || flunk "the next push failed: $PUSH_OUTPUT"
	[ "$(git -C "$REPO" rev-parse main)" = "$HONEST" ] || flunk "the next push did not land: $PUSH_OUTPUT"
}

@test "the .idx of an existing pack edited in place" {
	local idx idxs=("$REPO"/objects/pack/*.idx)
	idx=${idxs[0]#"$REPO"/}
	damage_before "chmod u+w $idx; printf 'X' | dd of=$idx bs=1 seek=1100 conv=notrunc 2>/dev/null"
	expect_refused
	damage_after "chmod u+w $idx; printf 'X' | dd of=$idx bs=1 seek=1100 conv=notrunc 2>/dev/null"
}

@test "a planted shallow file, junk in objects/, world-writable directories" {
	damage_before "echo $MISSING_OID >shallow"
	expect_refused
	damage_before "echo junk >objects/junk"
	expect_refused
	damage_after "chmod 777 objects refs refs/heads; echo junk >objects/pack/junk.pack; echo $MISSING_OID >shallow"
	run stat -c %a "$REPO/objects" "$REPO/refs"
	[[ $output != *777* ]] || flunk "a directory became world-writable: $output"
}

@test "an existing pack deleted (what gc would do)" {
	damage_before "rm -f objects/pack/*.pack"
	[ "$PUSH_STATUS" -ne 0 ] || flunk "the push exited 0: $PUSH_OUTPUT"
	expect_told "deletes existing objects"
	expect_identical
}

@test "a background process that writes three seconds after git exits dies with the sandbox" {
	compromise "( sleep 3; echo $MISSING_OID >refs/heads/main; echo late >late-write ) >/dev/null 2>&1 &"
	remember_state
	push_honest refs/heads/main
	[ "$PUSH_STATUS" -eq 0 ] || flunk "$PUSH_OUTPUT"
	sleep 4
	expect_only_honest refs/heads/main
}

@test "a ref to an object the repository does not have is refused" {
	relay_says "COMMAND='0000000000000000000000000000000000000000 $MISSING_OID refs/heads/ghost'"
	remember_state
	push_honest refs/heads/main
	[[ $PUSH_OUTPUT == *"ng refs/heads/ghost points to a missing object"* ]] ||
		flunk "the publisher's answer: $PUSH_OUTPUT"
	[ "$PUSH_STATUS" -ne 0 ] || flunk "exit 0: $PUSH_OUTPUT"
	expect_identical
}

@test "a hand-made pack whose commit lacks a blob never becomes reachable" {
	# A commit whose tree names a blob the pack leaves out.
	local work=$BATS_TEST_TMPDIR/work commit
	echo "secret $RANDOM" >"$work/missing.txt"
	git -C "$work" add missing.txt
	git -C "$work" commit -q -m "needs a blob"
	commit=$(git -C "$work" rev-parse HEAD)
	printf '%s\n%s\n' "$commit" "$(git -C "$work" rev-parse 'HEAD^{tree}')" |
		git -C "$work" pack-objects -q "$BIN/handmade" >/dev/null
	mv "$BIN"/handmade-*.pack "$BIN/handmade.pack"
	git -C "$work" reset -q --hard HEAD^
	relay_says "/usr/bin/git index-pack --stdin <$BIN/handmade.pack >/dev/null || exit 1
		COMMAND='0000000000000000000000000000000000000000 $commit refs/heads/handmade'"
	remember_state
	push_honest refs/heads/main
	[[ $PUSH_OUTPUT == *"ng refs/heads/handmade the pushed pack was refused by git index-pack --strict: fatal: did not receive expected object"* ]] ||
		flunk "the publisher's answer: $PUSH_OUTPUT"
	! git -C "$REPO" cat-file -e "$commit" 2>/dev/null || flunk "the commit is in the repository"
	# A later session that only names it fails too: the objects were never published.
	relay_says "COMMAND='0000000000000000000000000000000000000000 $commit refs/heads/later'"
	push_honest refs/heads/main
	[[ $PUSH_OUTPUT == *"ng refs/heads/later points to a missing object"* ]] ||
		flunk "the publisher's answer: $PUSH_OUTPUT"
	! git -C "$REPO" rev-parse -q --verify refs/heads/later >/dev/null || flunk "later exists"
	fsck_clean
}

@test "objects of a push refused for max-blob-size are never reachable later" {
	write_tamper_conf "max-blob-size = 4K"
	compromise ":"
	local work=$BATS_TEST_TMPDIR/work commit
	head -c 8192 /dev/urandom >"$work/big.bin"
	git -C "$work" add big.bin
	git -C "$work" commit -q -m big
	commit=$(git -C "$work" rev-parse HEAD)
	run env GIT_SSH_COMMAND="$(sshd_git_ssh_command alice)" git -C "$work" push "$URL" HEAD:refs/heads/big
	[ "$status" -ne 0 ] || flunk "the big blob went through: $(ran)"
	! git -C "$REPO" cat-file -e "$commit" 2>/dev/null || flunk "the commit is in the repository"
	relay_says "COMMAND='0000000000000000000000000000000000000000 $commit refs/heads/big'"
	git -C "$work" reset -q --hard HEAD^
	remember_state
	push_honest refs/heads/main
	[[ $PUSH_OUTPUT == *"ng refs/heads/big points to a missing object"* ]] ||
		flunk "the publisher's answer: $PUSH_OUTPUT"
	expect_identical
}

@test "gitcage verify finds nothing wrong after the damage" {
	damage_after "echo $MISSING_OID >refs/heads/dangling; echo x >commondir"
	run "$GITCAGE" --config "$CONF" verify "$REPO"
	exit_status_is 0
	[ "$output" = "$REPO: ok" ] || flunk "$(ran)"
}

@test "gitcage verify names each risky key and broken ref, and exits non-zero" {
	git -C "$REPO" config core.hooksPath /tmp
	git -C "$REPO" config uploadpack.packObjectsHook 'sh -c id'
	git -C "$REPO" config 'includeIf.gitdir:/x/.path' /tmp/x
	echo "$MISSING_OID" >"$REPO/refs/heads/dangling"
	ln -s /etc/passwd "$REPO/refs/heads/link"
	run "$GITCAGE" --config "$CONF" verify "$REPO"
	[ "$status" -ne 0 ] || flunk "$(ran)"
	[[ $output == *"$REPO: config line "*" sets core.hookspath"* ]] || flunk "$(ran)"
	[[ $output == *"sets uploadpack.packobjectshook"* ]] || flunk "$(ran)"
	[[ $output == *"sets includeif.gitdir:/x/.path"* ]] || flunk "$(ran)"
	[[ $output == *"$REPO: refs/heads/dangling points to a missing object"* ]] || flunk "$(ran)"
	[[ $output == *"$REPO: refs/heads/link is a symbolic link"* ]] || flunk "$(ran)"
	[ "$(grep -c "^$REPO: " <<<"$output")" -eq 5 ] || flunk "$(ran)"
}

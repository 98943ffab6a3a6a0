#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# The repository guard against a compromised git. A test-only "git" (configured as `git =`)
# damages the repository in one way, then runs the real /usr/bin/git. A real `git push` goes
# through a real sshd and `gitcage serve`. After each push, the repository must be as it was
# or hold only the honest push, `git fsck` must be clean, and the client must have been told.
#
# Inside the sandbox config, hooks/, info/ and objects/info/ are read-only binds, so several
# damages fail at once; those tests still check the end state and the client's message (the
# damage's own error, then). The others are undone by gitcage-guard after git exits.

load ../lib/common
load ../lib/sshd

MISSING_OID=1234567890123456789012345678901234567890

setup_file() {
	sshd_setup_file alice
}

teardown_file() {
	sshd_stop
}

setup() {
	ROOT=$BATS_TEST_TMPDIR/repos
	REPO=$ROOT/demo.git
	CONF=$BATS_TEST_TMPDIR/gitcage.conf
	AUDIT=$BATS_TEST_TMPDIR/audit.log
	EVIL=$BATS_TEST_TMPDIR/bin/git
	mkdir -p "$ROOT" "$BATS_TEST_TMPDIR/bin"
	cat >"$CONF" <<-EOF
		[server]
		repositories = $ROOT
		git = $EVIL
		hooks = $GITCAGE_ROOT/hooks
		audit = $AUDIT
		[limits]
		timeout = 60
		[repo demo.git]
		read = alice
		write = alice
	EOF
	chmod 600 "$CONF"
	git init -q --bare -b main "$REPO"
	add_commits "$REPO" 2
	git clone -q "$REPO" "$BATS_TEST_TMPDIR/work" 2>/dev/null
	sshd_authorize_gitcage "$CONF" alice
	URL="ssh://$(id -un)@127.0.0.1:$SSHD_PORT/demo.git"
	echo victim >"$BATS_TEST_TMPDIR/victim"
}

# compromise DAMAGE: the git that gitcage runs does DAMAGE (shell, in the repository) before
# it becomes the real git. Fetches run the real git untouched.
compromise() {
	cat >"$EVIL" <<-EOF
		#!/bin/sh
		case " \$* " in *" receive-pack "*) ;; *) exec /usr/bin/git "\$@" ;; esac
		for repo; do :; done
		cd "\$repo" || exit 1
		$1
		exec /usr/bin/git "\$@"
	EOF
	chmod 755 "$EVIL"
}

# compromise_after DAMAGE: the git that gitcage runs does its work honestly, then DAMAGE.
compromise_after() {
	cat >"$EVIL" <<-EOF
		#!/bin/sh
		case " \$* " in *" receive-pack "*) ;; *) exec /usr/bin/git "\$@" ;; esac
		for repo; do :; done
		/usr/bin/git "\$@"
		status=\$?
		cd "\$repo" || exit 1
		$1
		exit \$status
	EOF
	chmod 755 "$EVIL"
}

# Everything but the refs that must come out of a push unchanged.
layout_state() {
	cat "$REPO/HEAD"
	cksum <"$REPO/config"
	ls -A "$REPO" "$REPO/hooks" "$REPO/info" "$REPO/objects/info"
	find "$REPO/refs" "$REPO/objects" -type l
	cksum </etc/passwd
	cat "$BATS_TEST_TMPDIR/victim"
}

refs_state() {
	git -C "$REPO" for-each-ref --format='%(refname) %(objectname)'
}

remember_state() {
	LAYOUT_BEFORE=$(layout_state)
	REFS_BEFORE=$(refs_state)
}

# push_honest REF: a new commit pushed as REF; sets HONEST (its id) and the run variables.
push_honest() {
	local work=$BATS_TEST_TMPDIR/work
	echo "honest $RANDOM" >>"$work/file.txt"
	git -C "$work" commit -q -am honest
	HONEST=$(git -C "$work" rev-parse HEAD)
	run env GIT_SSH_COMMAND="$(sshd_git_ssh_command alice)" \
		git -C "$work" push "$URL" "HEAD:$1"
}

# expect_before_or_honest REF: the layout is as it was; every ref is as it was, but REF may
# instead hold the honest push; nothing else appeared; fsck is clean.
expect_before_or_honest() {
	local ref=$1 name oid refs_now
	[ "$(layout_state)" = "$LAYOUT_BEFORE" ] ||
		flunk "the layout changed:" "$LAYOUT_BEFORE" "---" "$(layout_state)" "$(ran)"
	refs_now=$(refs_state)
	while read -r name oid; do
		[ -n "$name" ] || continue
		if [ "$name" = "$ref" ] && [ "$oid" = "$HONEST" ]; then
			continue
		fi
		grep -qxF "$name $oid" <<<"$REFS_BEFORE" || flunk "ref $name is now $oid" "$(ran)"
	done <<<"$refs_now"
	while read -r name oid; do
		[ -n "$name" ] && [ "$name" != "$ref" ] || continue
		grep -qxF "$name $oid" <<<"$refs_now" || flunk "ref $name changed or vanished" "$(ran)"
	done <<<"$REFS_BEFORE"
	run git -C "$REPO" fsck --strict --no-dangling
	[ "$status" -eq 0 ] && [ -z "$output" ] || flunk "fsck: $(ran)"
}

# expect_told PATTERN: the push's output (the client's stderr) matched PATTERN.
expect_told() {
	[[ $PUSH_OUTPUT == *$1* ]] || flunk "the client was not told '$1':" "$PUSH_OUTPUT"
}

# push_and_check REF: push the honest commit as REF, keep what the client saw.
push_and_check() {
	remember_state
	push_honest "$1"
	PUSH_OUTPUT=$output
	PUSH_STATUS=$status
}

@test "control: an honest push goes through the guard untouched" {
	compromise ":"
	push_and_check refs/heads/main
	[ "$PUSH_STATUS" -eq 0 ] || flunk "$PUSH_OUTPUT"
	[ "$(git -C "$REPO" rev-parse main)" = "$HONEST" ] || flunk "not pushed: $PUSH_OUTPUT"
	expect_before_or_honest refs/heads/main
	grep -q '"verdict":"ok"' "$AUDIT" || flunk "$(cat "$AUDIT")"
	[ "$(grep -c . "$AUDIT")" -eq 1 ] || flunk "not one audit record: $(cat "$AUDIT")"
	grep -q "\"ref\":\"refs/heads/main\",\"old\":\"[0-9a-f]\{40\}\",\"new\":\"$HONEST\"" "$AUDIT" ||
		flunk "no old->new in the audit record: $(cat "$AUDIT")"
}

@test "appending to config" {
	compromise "printf '[core]\\n\\thooksPath = /tmp\\n' >>config"
	push_and_check refs/heads/main
	expect_before_or_honest refs/heads/main
	expect_told "config"
	grep -qi hookspath "$REPO/config" && flunk "config was changed"
	true
}

@test "adding a hook" {
	compromise "printf '#!/bin/sh\\necho pwned\\n' >hooks/post-receive; chmod +x hooks/post-receive"
	push_and_check refs/heads/main
	expect_before_or_honest refs/heads/main
	[ ! -e "$REPO/hooks/post-receive" ] || flunk "the hook is there"
	expect_told "hooks/post-receive"
}

@test "swapping the hooks dir" {
	compromise "mkdir hooks.evil && printf '#!/bin/sh\\n' >hooks.evil/post-receive && mv hooks hooks.orig; mv hooks.evil hooks"
	push_and_check refs/heads/main
	expect_before_or_honest refs/heads/main
	[ ! -e "$REPO/hooks.evil" ] && [ ! -e "$REPO/hooks.orig" ] || flunk "$(ls "$REPO")"
	expect_told "error: gitcage: hooks.evil was added"
	[ "$PUSH_STATUS" -ne 0 ] || flunk "the push succeeded: $PUSH_OUTPUT"
}

@test "adding alternates" {
	compromise "echo /tmp/elsewhere/objects >>objects/info/alternates"
	push_and_check refs/heads/main
	expect_before_or_honest refs/heads/main
	[ ! -e "$REPO/objects/info/alternates" ] || flunk "alternates are there"
	expect_told "objects/info/alternates"
}

@test "adding commondir" {
	compromise "echo /tmp/elsewhere >commondir"
	push_and_check refs/heads/main
	expect_before_or_honest refs/heads/main
	[ ! -e "$REPO/commondir" ] || flunk "commondir is there"
	expect_told "error: gitcage: commondir was added"
	grep -q '"verdict":"rolled back","reason":"commondir was added' "$AUDIT" ||
		flunk "$(cat "$AUDIT")"
}

@test "a dangling new ref" {
	compromise "echo $MISSING_OID >refs/heads/dangling"
	push_and_check refs/heads/main
	expect_before_or_honest refs/heads/main
	expect_told "error: gitcage: refs/heads/dangling rolled back: points to a missing object"
}

@test "a dangling new ref, written after git did its work, leaves only the honest push" {
	compromise_after "echo $MISSING_OID >refs/heads/dangling"
	push_and_check refs/heads/main
	expect_before_or_honest refs/heads/main
	[ "$(git -C "$REPO" rev-parse main)" = "$HONEST" ] || flunk "the honest push was lost"
	expect_told "error: gitcage: refs/heads/dangling rolled back: points to a missing object"
	[ "$PUSH_STATUS" -ne 0 ] || flunk "exit 0 after a rollback"
}

@test "main pointing to a missing object" {
	compromise "echo $MISSING_OID >refs/heads/main"
	push_and_check refs/heads/topic
	expect_before_or_honest refs/heads/topic
	expect_told "error: gitcage: refs/heads/main rolled back: points to a missing object"
}

@test "main moved to a blob after git's work" {
	compromise_after 'blob=$(/usr/bin/git rev-parse HEAD:file.txt) && echo $blob >refs/heads/main'
	push_and_check refs/heads/topic
	expect_before_or_honest refs/heads/topic
	expect_told "error: gitcage: refs/heads/main rolled back: points to a blob, not to a commit"
}

@test "a ref replaced by a symlink to /etc/passwd" {
	local passwd
	passwd=$(cksum </etc/passwd)
	compromise "rm -f refs/heads/main && ln -s /etc/passwd refs/heads/main"
	push_and_check refs/heads/topic
	expect_before_or_honest refs/heads/topic
	[ ! -L "$REPO/refs/heads/main" ] || flunk "main is still a link"
	[ "$(cksum </etc/passwd)" = "$passwd" ] || flunk "/etc/passwd changed"
	expect_told "error: gitcage: refs/heads/main"
}

@test "a ref replaced by a symlink to a file of the service account" {
	compromise "rm -f refs/heads/main && ln -s $BATS_TEST_TMPDIR/victim refs/heads/main"
	push_and_check refs/heads/topic
	expect_before_or_honest refs/heads/topic
	[ "$(cat "$BATS_TEST_TMPDIR/victim")" = victim ] || flunk "the victim file was written"
	expect_told "error: gitcage: refs/heads/main"
}

@test "HEAD rewritten" {
	compromise "echo 'ref: refs/heads/evil' >HEAD"
	push_and_check refs/heads/main
	expect_before_or_honest refs/heads/main
	expect_told "error: gitcage: HEAD was changed; undone"
}

@test "an entry injected into packed-refs" {
	git -C "$REPO" pack-refs --all
	compromise "echo '$MISSING_OID refs/heads/injected' >>packed-refs"
	push_and_check refs/heads/main
	expect_before_or_honest refs/heads/main
	grep -q injected "$REPO/packed-refs" && flunk "the entry is still there"
	expect_told "error: gitcage: refs/heads/injected rolled back"
}

@test "an entry injected into packed-refs after git's work leaves only the honest push" {
	git -C "$REPO" pack-refs --all
	compromise_after "echo '$MISSING_OID refs/heads/injected' >>packed-refs"
	push_and_check refs/heads/main
	expect_before_or_honest refs/heads/main
	[ "$(git -C "$REPO" rev-parse main)" = "$HONEST" ] || flunk "the honest push was lost"
	grep -q injected "$REPO/packed-refs" && flunk "the entry is still there"
	expect_told "error: gitcage: refs/heads/injected rolled back: points to a missing object"
}

@test "a background process that moves a ref three seconds after git exits" {
	compromise "( sleep 3; echo $MISSING_OID >refs/heads/main; echo late >late-write ) >/dev/null 2>&1 &"
	push_and_check refs/heads/main
	[ "$PUSH_STATUS" -eq 0 ] || flunk "$PUSH_OUTPUT"
	sleep 4
	[ ! -e "$REPO/late-write" ] || flunk "the background process outlived git"
	[ "$(git -C "$REPO" rev-parse main)" = "$HONEST" ] || flunk "main moved"
	expect_before_or_honest refs/heads/main
	[[ $PUSH_OUTPUT != *"error: gitcage"* ]] || flunk "$PUSH_OUTPUT"
}

@test "gitcage verify finds nothing wrong after each repair" {
	compromise "echo $MISSING_OID >refs/heads/dangling; echo x >commondir"
	push_and_check refs/heads/main
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

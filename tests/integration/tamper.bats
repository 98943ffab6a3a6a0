#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# A compromised git. A test-only "git" (configured as `git =`) damages the repository in one way,
# before or after doing its work with the real /usr/bin/git, or talks to the publisher itself as
# a compromised receive-pack could. A real `git push` goes through a real sshd and
# `gitcage serve`. git writes only a private layer; afterwards the repository must be exactly
# what it was, or that plus the honest push: every file's type, mode and hash is compared.

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
	BIN=$BATS_TEST_TMPDIR/bin
	EVIL=$BIN/git
	mkdir -p "$ROOT" "$BIN"
	write_tamper_conf ""
	git init -q --bare -b main "$REPO"
	add_commits "$REPO" 2
	git -C "$REPO" repack -q -a -d
	git -C "$REPO" pack-refs --all
	git clone -q "$REPO" "$BATS_TEST_TMPDIR/work" 2>/dev/null
	sshd_authorize_gitcage "$CONF" alice
	URL="ssh://$(id -un)@127.0.0.1:$SSHD_PORT/demo.git"
	echo victim >"$BATS_TEST_TMPDIR/victim"
}

write_tamper_conf() {
	cat >"$CONF" <<-EOF
		[server]
		repositories = $ROOT
		git = $EVIL
		audit = $AUDIT
		$1
		[limits]
		timeout = 60
		[repo demo.git]
		read = alice
		write = alice
	EOF
	chmod 600 "$CONF"
}

# compromise DAMAGE: the git that gitcage runs does DAMAGE (shell, in the repository's view)
# before it becomes the real git. Fetches run the real git untouched.
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

# Every entry of the repository: type, mode and path, and the hash of every file.
repo_state() {
	(cd "$REPO" && find . -printf '%y %m %p\n' | sort &&
		find . -type f -print0 | sort -z | xargs -0 sha256sum)
}

remember_state() {
	STATE_BEFORE=$(repo_state)
	MAIN_BEFORE=$(git -C "$REPO" rev-parse main)
	cksum </etc/passwd >"$BATS_TEST_TMPDIR/passwd.sum"
}

# push_honest REF: a new commit pushed as REF; sets HONEST (its id) and the run variables.
push_honest() {
	local work=$BATS_TEST_TMPDIR/work
	echo "honest $RANDOM" >>"$work/file.txt"
	git -C "$work" commit -q -am honest
	HONEST=$(git -C "$work" rev-parse HEAD)
	run env GIT_SSH_COMMAND="$(sshd_git_ssh_command alice)" \
		git -C "$work" push "$URL" "HEAD:$1"
	PUSH_OUTPUT=$output
	PUSH_STATUS=$status
}

check_host() {
	[ "$(cksum </etc/passwd)" = "$(cat "$BATS_TEST_TMPDIR/passwd.sum")" ] || flunk "/etc/passwd changed"
	[ "$(cat "$BATS_TEST_TMPDIR/victim")" = victim ] || flunk "the victim file was written"
}

fsck_clean() {
	run git -C "$REPO" fsck --strict --no-dangling
	[ "$status" -eq 0 ] && [ -z "$output" ] || flunk "fsck: $(ran)"
}

# The repository is byte for byte what it was.
expect_identical() {
	[ "$(repo_state)" = "$STATE_BEFORE" ] ||
		flunk "the repository changed:" "$(diff <(echo "$STATE_BEFORE") <(repo_state))" \
			"push: $PUSH_OUTPUT"
	check_host
}

# The repository is what it was plus the honest push to REF: its pack and its ref, nothing
# else added, nothing else changed.
expect_only_honest() {
	local ref=$1 added
	[ "$(git -C "$REPO" rev-parse "$ref")" = "$HONEST" ] || flunk "the honest push is lost: $PUSH_OUTPUT"
	added=$(diff <(echo "$STATE_BEFORE") <(repo_state) | grep -v '^[0-9,acd]*$' | grep -v '^---$' |
		grep -vE "^> (f 444 \./objects/pack/pack-[0-9a-f]{40}\.(pack|idx)|[0-9a-f]{64}  \./objects/pack/pack-[0-9a-f]{40}\.(pack|idx))$" |
		grep -vE "^[<>] (f 6[046]4 \./${ref}|[0-9a-f]{64}  \./${ref})$" || true)
	[ -z "$added" ] || flunk "besides the honest push, the repository changed:" "$added" "push: $PUSH_OUTPUT"
	fsck_clean
	check_host
}

expect_told() {
	[[ $PUSH_OUTPUT == *"$1"* ]] || flunk "the client was not told '$1':" "$PUSH_OUTPUT"
}

# Refused whole: the client is told, in git's status line when the damage came before
# receive-pack asked, and the repository is exactly what it was.
expect_refused() {
	[ "$PUSH_STATUS" -ne 0 ] || flunk "the push exited 0: $PUSH_OUTPUT"
	expect_told "git wrote outside the push"
	expect_identical
}

# damage_before DAMAGE: damage written before git's work refuses the whole push, or (where
# the sandbox's read-only binds stop it) fails and leaves the honest push alone.
damage_before() {
	compromise "$1"
	remember_state
	push_honest refs/heads/main
}

damage_after() {
	compromise_after "$1"
	remember_state
	push_honest refs/heads/main
	expect_only_honest refs/heads/main
	[ "$PUSH_STATUS" -ne 0 ] || flunk "exit 0 after a compromised git: $PUSH_OUTPUT"
	expect_told "error: gitcage: discarded what git wrote outside the push"
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
	local idx
	idx=$(cd "$REPO" && ls objects/pack/*.idx | head -n 1)
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

# A compromised receive-pack talks to the publisher itself, through gitcage's relay, with
# commands no honest client sent.
relay_says() {
	cat >"$EVIL" <<-EOF
		#!/bin/sh
		case " \$* " in *" receive-pack "*) ;; *) exec /usr/bin/git "\$@" ;; esac
		for repo; do :; done
		cd "\$repo" || exit 1
		pkt() { printf '%04x%s' \$((\${#1} + 4)) "\$1"; }
		$1
		# The answer goes to the client with git's own stderr.
		{ pkt version=1; printf 0000; pkt "\$COMMAND"; printf 0000; printf 0000; } |
			$GITCAGE_ROOT/build/hooks/proc-receive 2>&1 | tr -d '\\000' >&2
		exec /usr/bin/git "\$@"
	EOF
	chmod 755 "$EVIL"
}

@test "a ref to an object the repository does not have is refused" {
	relay_says "COMMAND='0000000000000000000000000000000000000000 $MISSING_OID refs/heads/ghost'"
	remember_state
	push_honest refs/heads/main
	[[ $PUSH_OUTPUT == *"ng refs/heads/ghost points to a missing object"* ]] ||
		flunk "the publisher's answer: $PUSH_OUTPUT"
	expect_only_honest refs/heads/main
}

@test "a hand-made pack whose commit lacks a blob never becomes reachable" {
	# A commit whose tree names a blob the pack leaves out.
	local work=$BATS_TEST_TMPDIR/work commit
	echo "secret $RANDOM" >"$work/missing.txt"
	git -C "$work" add missing.txt
	git -C "$work" commit -q -m "needs a blob"
	commit=$(git -C "$work" rev-parse HEAD)
	printf '%s\n%s\n' "$commit" "$(git -C "$work" rev-parse HEAD^{tree})" |
		git -C "$work" pack-objects -q "$BIN/handmade" >/dev/null
	git -C "$work" reset -q --hard HEAD^
	relay_says "/usr/bin/git index-pack -q --stdin <$BIN/handmade-*.pack >/dev/null
		COMMAND='0000000000000000000000000000000000000000 $commit refs/heads/handmade'"
	remember_state
	push_honest refs/heads/main
	[[ $PUSH_OUTPUT == *"ng refs/heads/handmade"*"missing"* ]] ||
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
	expect_only_honest refs/heads/main
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

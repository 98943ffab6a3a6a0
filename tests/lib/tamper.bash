# SPDX-License-Identifier: ISC
# What the tests of a compromised git share (tamper.bats, attacks.bats): a repository with a
# packed history, a test-only "git" (`git =`) that damages the repository's view in one way or
# talks to the publisher itself, an honest push through sshd, and the checks of the
# repository afterwards: every file's type, mode and hash. Load after common and sshd.
# shellcheck shell=bash

# shellcheck disable=SC2034 # for the tests that load this file
MISSING_OID=1234567890123456789012345678901234567890

tamper_setup() {
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
	sshd_authorize_gitcage "$(trust "$CONF")" alice
	URL="ssh://$(id -un)@127.0.0.1:$SSHD_PORT/demo.git"
	echo victim >"$BATS_TEST_TMPDIR/victim"
}

write_tamper_conf() {
	cat >"$CONF" <<-EOF
		[server]
		repositories = $ROOT
		git = $(trusted_path "$EVIL")
		audit = $AUDIT
		$1
		[limits]
		timeout = 60
		[repo demo.git]
		read = alice
		write = alice
	EOF
	trust "$CONF" >/dev/null
}

# stage_evil: git = names a root-owned copy of $EVIL (gitcage trusts no other), and the
# sandbox shows that copy's directory, not $BIN: every file of $BIN is staged beside it, and
# the script's mentions of $BIN name the copies.
stage_evil() {
	local file staged
	staged=$(trusted_path "$BIN")
	chmod 755 "$EVIL"
	sed -i "s|$BIN/|$staged/|g" "$EVIL"
	while IFS= read -r file; do
		trust "$file" "$(stat -c %a "$file")" >/dev/null
	done < <(find "$BIN" -type f)
}

# evil_git BEFORE AFTER: the git that gitcage runs for receive-pack does BEFORE (shell, in the
# repository's view), its work with the real git, then AFTER, and exits with git's status.
# Fetches run the real git untouched.
evil_git() {
	cat >"$EVIL" <<-EOF
		#!/bin/sh
		case " \$* " in *" receive-pack "*) ;; *) exec /usr/bin/git "\$@" ;; esac
		for repo; do :; done
		cd "\$repo" || exit 1
		$1
		/usr/bin/git "\$@"
		status=\$?
		cd "\$repo" || exit 1
		$2
		exit \$status
	EOF
	stage_evil
}

# compromise DAMAGE: the git that gitcage runs does DAMAGE before it becomes the real git.
compromise() {
	evil_git "$1" ":"
}

# compromise_after DAMAGE: the git that gitcage runs does its work honestly, then DAMAGE.
compromise_after() {
	evil_git ":" "$1"
}

# Every entry of the repository: type, mode and path, and the hash of every file.
repo_state() {
	(cd "$REPO" && find . -printf '%y %m %p\n' | sort &&
		find . -type f -print0 | sort -z | xargs -0 sha256sum)
}

remember_state() {
	STATE_BEFORE=$(repo_state)
	# shellcheck disable=SC2034 # for the tests that load this file
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
	# shellcheck disable=SC2154 # bats's run sets status
	PUSH_STATUS=$status
}

check_host() {
	[ "$(cksum </etc/passwd)" = "$(cat "$BATS_TEST_TMPDIR/passwd.sum")" ] || flunk "/etc/passwd changed"
	[ "$(cat "$BATS_TEST_TMPDIR/victim")" = victim ] || flunk "the victim file was written"
}

fsck_clean() {
	run git -C "$REPO" fsck --strict --no-dangling
	[[ $status -eq 0 && -z $output ]] || flunk "fsck: $(ran)"
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

# A compromised receive-pack talks to the publisher itself, through gitcage's relay, with
# commands no honest client sent. The publisher answers one request a session (receive-pack
# asks once a push): the honest receive-pack that follows is not answered, and refuses.
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
	stage_evil
}


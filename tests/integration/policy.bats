#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Push policy over real ssh: protected branches, blob size limits, the repository's own hooks
# (repo-hooks) and notify. Enforced by the publisher, outside the sandbox, before receive-pack
# reports: the client learns each refusal in git's own status line.

load ../lib/common
load ../lib/sshd

setup_file() {
	sshd_setup_file alice bob
}

teardown_file() {
	sshd_stop
}

# write_conf [EXTRA [REPO_EXTRA]]: the config, with extra [server] and [repo demo.git] lines.
write_conf() {
	cat >"$CONF" <<-EOF
		[server]
		repositories = $ROOT
		audit = $BATS_TEST_TMPDIR/audit.log
		hooks = $GITCAGE_ROOT/build/hooks
		git = ${GIT_BINARY:-/usr/bin/git}
		${1:-}
		[limits]
		timeout = 60
		[repo demo.git]
		read = @all
		write = alice bob
		protect = refs/heads/main refs/heads/release/*
		max-blob-size = 4K
		${2:-}
	EOF
	trust "$CONF" >/dev/null
}

setup() {
	ROOT=$BATS_TEST_TMPDIR/repos
	CONF=$BATS_TEST_TMPDIR/gitcage.conf
	mkdir -p "$ROOT"
	git init -q --bare -b main "$ROOT/demo.git"
	write_conf
	sshd_authorize_gitcage "$(trust "$CONF")" alice bob
	URL="ssh://$(id -un)@127.0.0.1:$SSHD_PORT/demo.git"
	WORK=$BATS_TEST_TMPDIR/work
	git init -q -b main "$WORK"
	git -C "$WORK" remote add origin "$URL"
	commit_file base 1
	as alice git -C "$WORK" push -q origin main
	as alice git -C "$WORK" push -q origin main:refs/heads/topic
}

as() {
	local user=$1
	shift
	GIT_SSH_COMMAND=$(sshd_git_ssh_command "$user") "$@"
}

# commit_file NAME SIZE_KIB: a commit in $WORK adding NAME with SIZE_KIB KiB of random data.
commit_file() {
	head -c "$(($2 * 1024))" /dev/urandom >"$WORK/$1"
	git -C "$WORK" add "$1"
	git -C "$WORK" commit -q -m "add $1"
}

server() {
	git -C "$ROOT/demo.git" rev-parse --verify -q "$1"
}

@test "a fast-forward to a protected branch is accepted" {
	commit_file more 1
	run as alice git -C "$WORK" push origin main
	exit_status_is 0
	[ "$(server main)" = "$(git -C "$WORK" rev-parse main)" ] || flunk "not pushed"
}

@test "a force-push to a protected branch is refused with git's rejected status" {
	local before
	before=$(server main)
	git -C "$WORK" commit -q --amend -m "rewritten"
	run as alice git -C "$WORK" push -f origin main
	[ "$status" -ne 0 ] || flunk "the force-push went through: $(ran)"
	[[ $output == *"! [remote rejected] main -> main"* ]] || flunk "$(ran)"
	[[ $output == *"! [remote rejected] main -> main (alice may not rewind refs/heads/main)"* ]] ||
		flunk "$(ran)"
	[[ $output == *"remote: gitcage: alice may not rewind refs/heads/main"* ]] || flunk "$(ran)"
	[ "$(server main)" = "$before" ] || flunk "main moved"
}

# main is also HEAD, which git itself refuses to delete: a glob-protected branch shows ours.
@test "deleting a protected branch is refused (a glob: release/*)" {
	as alice git -C "$WORK" push -q origin main:refs/heads/release/1.0
	run as alice git -C "$WORK" push origin :refs/heads/release/1.0
	[ "$status" -ne 0 ] || flunk "$(ran)"
	[[ $output == *"! [remote rejected] release/1.0"* ]] || flunk "$(ran)"
	[[ $output == *"alice may not delete refs/heads/release/1.0"* ]] || flunk "$(ran)"
	server refs/heads/release/1.0 >/dev/null || flunk "release/1.0 is gone"
}

@test "a force-push to a glob-protected branch is refused" {
	as alice git -C "$WORK" push -q origin main:refs/heads/release/1.0
	git -C "$WORK" commit -q --amend -m "rewritten"
	run as alice git -C "$WORK" push -f origin main:refs/heads/release/1.0
	[ "$status" -ne 0 ] || flunk "$(ran)"
	[[ $output == *"alice may not rewind refs/heads/release/1.0"* ]] || flunk "$(ran)"
}

@test "force-push and deletion on an unprotected branch are accepted" {
	git -C "$WORK" commit -q --amend -m "rewritten"
	run as alice git -C "$WORK" push -f origin main:topic
	exit_status_is 0
	[ "$(server topic)" = "$(git -C "$WORK" rev-parse main)" ] || flunk "topic not rewritten"
	run as alice git -C "$WORK" push origin :topic
	exit_status_is 0
	! server topic >/dev/null || flunk "topic still exists"
}

@test "a blob over max-blob-size is refused, named, and not stored" {
	commit_file big.bin 8
	local blob
	blob=$(git -C "$WORK" rev-parse HEAD:big.bin)
	run as alice git -C "$WORK" push origin main
	[ "$status" -ne 0 ] || flunk "$(ran)"
	[[ $output == *"! [remote rejected] main -> main (big.bin (blob ${blob:0:12}) is 8192 bytes, over max-blob-size (4096))"* ]] ||
		flunk "$(ran)"
	! git -C "$ROOT/demo.git" cat-file -e "$blob" 2>/dev/null || flunk "the blob is in the repository"
}

@test "a blob under the limit is accepted" {
	commit_file small.bin 2
	run as alice git -C "$WORK" push origin main
	exit_status_is 0
}

@test "repo-hooks = yes chains to the repository's own hooks, inside the sandbox" {
	write_conf "" "repo-hooks = yes"
	cat >"$ROOT/demo.git/hooks/pre-receive" <<-'EOF'
		#!/bin/sh
		while read -r old new ref; do
			case $ref in refs/heads/wip*) echo "repo hook: no wip branches" >&2; exit 1 ;; esac
		done
		# No network in the sandbox: a hook that tries to call out learns it here.
		if (exec 3<>/dev/tcp/127.0.0.1/22) 2>/dev/null; then echo "repo hook: network!" >&2; fi
		exit 0
	EOF
	chmod +x "$ROOT/demo.git/hooks/pre-receive"
	run as alice git -C "$WORK" push origin main:refs/heads/wip
	[ "$status" -ne 0 ] || flunk "the repository's hook did not run: $(ran)"
	[[ $output == *"repo hook: no wip branches"* ]] || flunk "$(ran)"
	run as alice git -C "$WORK" push origin main:refs/heads/feature
	exit_status_is 0
	[[ $output != *"network!"* ]] || flunk "the hook reached the network"
}

@test "repo-hooks off (the default): the repository's own hooks do not run" {
	cat >"$ROOT/demo.git/hooks/pre-receive" <<-'EOF'
		#!/bin/sh
		echo "repo hook ran" >&2
		exit 1
	EOF
	chmod +x "$ROOT/demo.git/hooks/pre-receive"
	run as alice git -C "$WORK" push origin main:refs/heads/wip
	exit_status_is 0
	[[ $output != *"repo hook ran"* ]] || flunk "$(ran)"
}

# wait_for FILE: notify runs detached, after the push returned.
wait_for() {
	local i
	for ((i = 0; i < 100; i++)); do
		[ -s "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

write_notify_script() {
	cat >"$BATS_TEST_TMPDIR/notify.sh" <<-EOF
		#!/bin/sh
		cat >"$BATS_TEST_TMPDIR/notify.in.tmp"
		echo "\$GITCAGE_USER \$GITCAGE_REPO" >"$BATS_TEST_TMPDIR/notify.env"
		mv "$BATS_TEST_TMPDIR/notify.in.tmp" "$BATS_TEST_TMPDIR/notify.in"
	EOF
	chmod +x "$BATS_TEST_TMPDIR/notify.sh"
	write_conf "notify = $BATS_TEST_TMPDIR/notify.sh"
}

@test "notify receives exactly the accepted updates, with user and repository" {
	write_notify_script
	local old new
	old=$(server main)
	commit_file more 1
	new=$(git -C "$WORK" rev-parse main)
	run as bob git -C "$WORK" push origin main main:refs/heads/feature
	exit_status_is 0
	wait_for "$BATS_TEST_TMPDIR/notify.in" || flunk "notify did not run" "$(cat "$BATS_TEST_TMPDIR/audit.log")"
	run sort "$BATS_TEST_TMPDIR/notify.in"
	[ "$output" = "$(printf '%s %s refs/heads/feature\n%s %s refs/heads/main' \
		0000000000000000000000000000000000000000 "$new" "$old" "$new")" ] || flunk "$(ran)"
	[ "$(cat "$BATS_TEST_TMPDIR/notify.env")" = "bob demo.git" ] || flunk "env"
	# Its record is written when it has ended, just after the file appeared.
	local i
	for ((i = 0; i < 100; i++)); do
		grep -q '"service":"notify","repo":"demo.git","verdict":"ok"' "$BATS_TEST_TMPDIR/audit.log" && break
		sleep 0.1
	done
	grep -q '"service":"notify","repo":"demo.git","verdict":"ok"' "$BATS_TEST_TMPDIR/audit.log" ||
		flunk "no audit record of notify: $(cat "$BATS_TEST_TMPDIR/audit.log")"
}

# A notify command that reaches a CI over https needs the host's CA certificates and network:
# it runs outside every namespace of gitcage's. (An earlier design ran it inside the
# verifier's namespace, with the CA bundle hidden: this test would have caught it.)
@test "notify runs outside every namespace, with the host's CA certificates" {
	cat >"$BATS_TEST_TMPDIR/notify.sh" <<-EOF
		#!/bin/sh
		wc -c </etc/ssl/certs/ca-certificates.crt >"$BATS_TEST_TMPDIR/certs.tmp"
		readlink /proc/self/ns/net /proc/self/ns/user /proc/self/ns/mnt >"$BATS_TEST_TMPDIR/ns.tmp"
		mv "$BATS_TEST_TMPDIR/ns.tmp" "$BATS_TEST_TMPDIR/ns"
		mv "$BATS_TEST_TMPDIR/certs.tmp" "$BATS_TEST_TMPDIR/certs"
	EOF
	chmod +x "$BATS_TEST_TMPDIR/notify.sh"
	write_conf "notify = $BATS_TEST_TMPDIR/notify.sh"
	commit_file more 1
	run as alice git -C "$WORK" push origin main
	exit_status_is 0
	wait_for "$BATS_TEST_TMPDIR/certs" || flunk "notify did not run: $(cat "$BATS_TEST_TMPDIR/audit.log")"
	[ "$(cat "$BATS_TEST_TMPDIR/certs")" = "$(wc -c </etc/ssl/certs/ca-certificates.crt)" ] ||
		flunk "notify saw another CA bundle: $(cat "$BATS_TEST_TMPDIR/certs")"
	[ "$(cat "$BATS_TEST_TMPDIR/ns")" = "$(readlink /proc/self/ns/net /proc/self/ns/user /proc/self/ns/mnt)" ] ||
		flunk "notify ran in other namespaces: $(cat "$BATS_TEST_TMPDIR/ns")"
}

@test "notify is not run after a refused push" {
	write_notify_script
	git -C "$WORK" commit -q --amend -m "rewritten"
	run as alice git -C "$WORK" push -f origin main
	[ "$status" -ne 0 ] || flunk "$(ran)"
	sleep 2
	[ ! -e "$BATS_TEST_TMPDIR/notify.in" ] || flunk "notify ran: $(cat "$BATS_TEST_TMPDIR/notify.in")"
}

@test "a slow notify does not hold the push" {
	cat >"$BATS_TEST_TMPDIR/notify.sh" <<-EOF
		#!/bin/sh
		sleep 30
	EOF
	chmod +x "$BATS_TEST_TMPDIR/notify.sh"
	write_conf "notify = $BATS_TEST_TMPDIR/notify.sh"
	commit_file more 1
	local began=$SECONDS
	run as alice git -C "$WORK" push origin main
	exit_status_is 0
	[ $((SECONDS - began)) -lt 20 ] || flunk "the push waited for notify"
	pkill -f "$BATS_TEST_TMPDIR/notify.sh" || true
}

# A compromised git (a script configured as git =) that rewinds the protected main while
# serving someone else's push to another branch: its write lands in the session's private
# layer, and is discarded.
@test "a compromised git that rewinds the protected branch: main never moves" {
	mkdir -p "$BATS_TEST_TMPDIR/evil"
	commit_file more 1
	as alice git -C "$WORK" push -q origin main
	local main_before
	main_before=$(server main)
	cat >"$BATS_TEST_TMPDIR/evil/git" <<-EOF
		#!/bin/sh
		/usr/bin/git "\$@"
		status=\$?
		for repo; do :; done
		/usr/bin/git -C "\$repo" update-ref refs/heads/main refs/heads/main~1
		exit \$status
	EOF
	chmod +x "$BATS_TEST_TMPDIR/evil/git"
	GIT_BINARY=$(trust "$BATS_TEST_TMPDIR/evil/git") write_conf
	run as bob git -C "$WORK" push origin main:refs/heads/bob-topic
	[ "$status" -ne 0 ] || flunk "exit 0 after a compromised git: $(ran)"
	[[ $output == *"error: gitcage: discarded what git wrote outside the push: refs/heads/main was written by git itself"* ]] ||
		flunk "$(ran)"
	[ "$(server main)" = "$main_before" ] || flunk "main moved"
	[ "$(server bob-topic)" = "$(git -C "$WORK" rev-parse main)" ] || flunk "the honest push is lost"
	run git -C "$ROOT/demo.git" fsck --strict
	exit_status_is 0
}

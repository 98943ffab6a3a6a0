#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# What goes wrong around a push: a client killed halfway, a disk that fills up (the filesize
# limit stands in for it: the same EFBIG/SIGXFSZ a full file system gives git). Nothing may be
# lost or half written, the repository stays clean, and the call is still audited.

load ../lib/common
load ../lib/sshd

setup_file() {
	sshd_setup_file alice
}

teardown_file() {
	sshd_stop
}

setup() {
	ROOT=$BATS_TEST_TMPDIR/repos
	CONF=$BATS_TEST_TMPDIR/gitcage.conf
	AUDIT=$BATS_TEST_TMPDIR/audit.log
	mkdir -p "$ROOT"
	git init -q --bare -b main "$ROOT/demo.git"
	write_conf ""
	sshd_authorize_gitcage "$(trust "$CONF")" alice
	WORK=$BATS_TEST_TMPDIR/work
	git init -q -b main "$WORK"
	git -C "$WORK" remote add origin "ssh://$(id -un)@127.0.0.1:$SSHD_PORT/demo.git"
	echo base >"$WORK/base"
	git -C "$WORK" add base
	git -C "$WORK" commit -q -m base
	GIT_SSH_COMMAND=$(sshd_git_ssh_command alice) git -C "$WORK" push -q origin main
	BEFORE=$(git -C "$ROOT/demo.git" for-each-ref)
	: >"$AUDIT"
}

write_conf() {
	cat >"$CONF" <<-EOF
		[server]
		repositories = $ROOT
		audit = $AUDIT
		[limits]
		timeout = 60
		$1
		[repo demo.git]
		read = alice
		write = alice
	EOF
	trust "$CONF" >/dev/null
}

# wait_for_record: the call's audit record is its last act.
wait_for_record() {
	local i
	for ((i = 0; i < 200; i++)); do
		grep -q '"service":"git-receive-pack"' "$AUDIT" && return 0
		sleep 0.1
	done
	return 1
}

expect_repository_unchanged() {
	[ "$(git -C "$ROOT/demo.git" for-each-ref)" = "$BEFORE" ] || flunk "the refs changed"
	run git -C "$ROOT/demo.git" fsck --strict --no-dangling
	exit_status_is 0
	# No quarantine or lock left behind for the next push to trip over.
	run find "$ROOT/demo.git" -name 'incoming-*' -o -name '*.lock'
	[ -z "$output" ] || flunk "left behind: $output"
}

@test "a client killed in the middle of a push leaves the repository as it was" {
	head -c $((64 * 1024 * 1024)) /dev/urandom >"$WORK/big"
	git -C "$WORK" add big
	git -C "$WORK" commit -q -m big
	GIT_SSH_COMMAND=$(sshd_git_ssh_command alice) git -C "$WORK" push -q origin main \
		>/dev/null 2>&1 &
	local client=$! i
	for ((i = 0; i < 600; i++)); do
		pgrep -f "gitcage --config $(trusted_path "$CONF") serve alice" >/dev/null && break
		sleep 0.05
	done
	pgrep -f "gitcage --config $(trusted_path "$CONF") serve alice" >/dev/null || flunk "the push never reached gitcage"
	sleep 0.2
	pkill -KILL -P "$client" || true
	kill -KILL "$client" 2>/dev/null || true
	wait "$client" || true
	wait_for_record || flunk "no audit record"
	expect_repository_unchanged
	# Whether git saw the commands or only the hang-up, no ref may have moved.
	grep -q '"refs":\[\]' "$AUDIT" || flunk "$(cat "$AUDIT")"
	for ((i = 0; i < 50; i++)); do
		pgrep -f "gitcage --config $(trusted_path "$CONF") serve alice" >/dev/null || break
		sleep 0.1
	done
	! pgrep -f "gitcage --config $(trusted_path "$CONF") serve alice" >/dev/null || flunk "gitcage outlived its client"
}

@test "a full disk (the filesize limit) fails the push and stores nothing" {
	write_conf "filesize = 64K"
	head -c $((1024 * 1024)) /dev/urandom >"$WORK/big"
	git -C "$WORK" add big
	git -C "$WORK" commit -q -m big
	local blob
	blob=$(git -C "$WORK" rev-parse HEAD:big)
	run env GIT_SSH_COMMAND="$(sshd_git_ssh_command alice)" git -C "$WORK" push origin main
	[ "$status" -ne 0 ] || flunk "the push went through: $(ran)"
	[[ $output == *"remote rejected"* || $output == *"unpack"* || $output == *"fatal"* ]] ||
		flunk "no clear error: $(ran)"
	wait_for_record || flunk "no audit record"
	expect_repository_unchanged
	! git -C "$ROOT/demo.git" cat-file -e "$blob" 2>/dev/null || flunk "the blob was stored"
}

# kill_gitcage_during_push: one push, and a SIGKILL to gitcage itself (the process sshd
# started) after a random delay; sets BEFORE_MAIN and NEW_MAIN.
kill_gitcage_during_push() {
	local client delay
	BEFORE_MAIN=$(git -C "$ROOT/demo.git" rev-parse main)
	head -c $((256 * 1024)) /dev/urandom >"$WORK/data"
	git -C "$WORK" add data
	git -C "$WORK" commit -q -m "data $RANDOM"
	NEW_MAIN=$(git -C "$WORK" rev-parse main)
	GIT_SSH_COMMAND=$(sshd_git_ssh_command alice) git -C "$WORK" push -q -f origin main \
		>/dev/null 2>&1 &
	client=$!
	delay=$((RANDOM % 400))
	sleep "$((delay / 1000)).$(printf '%03d' $((delay % 1000)))"
	pkill -KILL -f "gitcage --config $(trusted_path "$CONF") serve alice" || true
	wait "$client" || true
}

@test "kill -9 of gitcage at random moments of a push: every ref old or new, the next push works" {
	local round now
	for ((round = 0; round < 20; round++)); do
		kill_gitcage_during_push
		now=$(git -C "$ROOT/demo.git" rev-parse main)
		[ "$now" = "$BEFORE_MAIN" ] || [ "$now" = "$NEW_MAIN" ] ||
			flunk "round $round: main is $now, neither $BEFORE_MAIN nor $NEW_MAIN"
		run git -C "$ROOT/demo.git" fsck --strict --no-dangling
		[ "$status" -eq 0 ] || flunk "round $round: fsck: $(ran)"
		# Let the sandbox, the verifier and a git update-ref that outlived gitcage finish.
		for ((i = 0; i < 50; i++)); do
			pgrep -u "$(id -u)" -f "update-ref --stdin|gitcage-guard check" >/dev/null || break
			sleep 0.1
		done
	done
	echo after >"$WORK/after"
	git -C "$WORK" add after
	git -C "$WORK" commit -q -m after
	run env GIT_SSH_COMMAND="$(sshd_git_ssh_command alice)" git -C "$WORK" push -f origin main
	exit_status_is 0
	[ "$(git -C "$ROOT/demo.git" rev-parse main)" = "$(git -C "$WORK" rev-parse main)" ] ||
		flunk "the next push did not land: $(ran)"
	run git -C "$ROOT/demo.git" fsck --strict --no-dangling
	exit_status_is 0
	run find "$ROOT/.gitcage/sessions" -mindepth 1
	[ -z "$output" ] || flunk "scratch left after the next push: $output"
	run find "$ROOT/demo.git" -name '*.lock'
	[ -z "$output" ] || flunk "locks left behind: $output"
}

#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# max-sessions and max-user-sessions through a real sshd: a session over a limit waits
# max-sessions-wait seconds, then is refused with one line, while the sessions that hold the
# slots finish untouched; a killed session gives its slot back.

load ../lib/common
load ../lib/sshd

setup_file() {
	sshd_setup_file alice bob carol
}

teardown_file() {
	sshd_stop
}

setup() {
	ROOT=$BATS_TEST_TMPDIR/repos
	AUDIT=$BATS_TEST_TMPDIR/audit.log
	mkdir -p "$ROOT"
	cat >"$BATS_TEST_TMPDIR/gitcage.conf" <<-EOF
		[server]
		repositories = $ROOT
		audit = $AUDIT
		[limits]
		timeout = 60
		max-sessions = 2
		max-user-sessions = 1
		max-sessions-wait = 1
		[repo demo.git]
		read = @all
	EOF
	CONF=$(trust "$BATS_TEST_TMPDIR/gitcage.conf")
	git init -q --bare -b main "$ROOT/demo.git"
	add_commits "$ROOT/demo.git" 1
	sshd_authorize_gitcage "$CONF" alice bob carol
	HELD=()
	FEEDERS=()
}

# The feeders first: a killed subshell leaves its sleep behind, so kill the whole group of
# what this test started, by pid.
teardown() {
	local pid
	for pid in "${FEEDERS[@]}" "${HELD[@]}"; do
		pkill -P "$pid" 2>/dev/null || true
		kill "$pid" 2>/dev/null || true
	done
}

# hold USER SECONDS: a fetch by USER that keeps its session for SECONDS (upload-pack waits for
# the client's wants), then ends it cleanly with a flush packet. Returns once the session is
# running; its output goes to $BATS_TEST_TMPDIR/held-USER. HELD gets the client's pid,
# FEEDERS the pid of what feeds it (teardown stops both).
hold() {
	local user=$1 seconds=$2 out=$BATS_TEST_TMPDIR/held-$1 fifo=$BATS_TEST_TMPDIR/feed-$1 i
	mkfifo "$fifo"
	sshd_ssh "$user" "git-upload-pack 'demo.git'" <"$fifo" >"$out" 2>&1 3>&- &
	HELD+=("$!")
	{
		sleep "$seconds"
		printf 0000
	} >"$fifo" 2>/dev/null 3>&- &
	FEEDERS+=("$!")
	for ((i = 0; i < 100; i++)); do
		grep -q refs/heads/main "$out" 2>/dev/null && return 0
		sleep 0.05
	done
	flunk "the held session of $user did not start: $(cat "$out")"
}

# fetch_as USER: one whole fetch (ls-remote); sets status and output.
fetch_as() {
	run env GIT_SSH_COMMAND="$(sshd_git_ssh_command "$1")" \
		git ls-remote "ssh://$(id -un)@127.0.0.1:$SSHD_PORT/demo.git"
}

# held_session_finished USER INDEX: the INDEXth held session, USER's, ended well: exit 0, with
# the whole ref advertisement.
held_session_finished() {
	local out=$BATS_TEST_TMPDIR/held-$1
	wait "${HELD[$2]}" || flunk "the held session of $1 failed: $(cat "$out")"
	grep -q "$(git -C "$ROOT/demo.git" rev-parse main) refs/heads/main" "$out" ||
		flunk "no advertisement: $(cat "$out")"
}

@test "a user over max-user-sessions waits, then is refused with one line; the first session finishes" {
	hold alice 4
	local began=$SECONDS
	fetch_as alice
	[ "$status" -ne 0 ] || flunk "a second session got in: $(ran)"
	[ "${lines[0]}" = "fatal: too many sessions for alice at once: 1 already (max-user-sessions); try again later" ] ||
		flunk "$(ran)"
	[ $((SECONDS - began)) -ge 1 ] || flunk "it did not wait max-sessions-wait"
	grep -q '"verdict":"refused","reason":"too many sessions for alice' "$AUDIT" ||
		flunk "no audit record: $(cat "$AUDIT")"
	# Another user has a slot of his own, and the server one more.
	fetch_as bob
	exit_status_is 0
	held_session_finished alice 0
	fetch_as alice
	exit_status_is 0
}

@test "sessions over max-sessions are refused for everyone; the first ones finish" {
	hold alice 4
	hold bob 4
	fetch_as carol
	[ "$status" -ne 0 ] || flunk "a third session got in: $(ran)"
	[ "${lines[0]}" = "fatal: this server is busy: 2 sessions at once already (max-sessions); try again later" ] ||
		flunk "$(ran)"
	held_session_finished alice 0
	held_session_finished bob 1
	fetch_as carol
	exit_status_is 0
}

# The pid of the process that has FILE open.
holder_of() {
	local fd
	for fd in /proc/[0-9]*/fd/*; do
		if [ "$(readlink "$fd" 2>/dev/null)" = "$1" ]; then
			fd=${fd#/proc/}
			echo "${fd%%/*}"
			return 0
		fi
	done
	return 1
}

# No waiting here (max-sessions-wait = 0): a slot that were still taken would be refused.
@test "a killed session gives its slot back at once" {
	sed -i 's/^max-sessions-wait = 1$/max-sessions-wait = 0/' "$BATS_TEST_TMPDIR/gitcage.conf"
	trust "$BATS_TEST_TMPDIR/gitcage.conf" >/dev/null
	local slot=$ROOT/.gitcage/slots/user.alice.0 pid i
	hold alice 30
	pid=$(holder_of "$slot") || flunk "nobody holds alice's slot"
	[[ $(tr '\0' ' ' <"/proc/$pid/cmdline") == *"gitcage --config $CONF serve alice"* ]] ||
		flunk "the slot is held by something else: $(tr '\0' ' ' <"/proc/$pid/cmdline")"
	fetch_as alice
	[ "$status" -ne 0 ] || flunk "the slot was not taken: $(ran)"
	kill -KILL "$pid"
	for ((i = 0; i < 40; i++)); do
		holder_of "$slot" >/dev/null || break
		sleep 0.05
	done
	fetch_as alice
	exit_status_is 0
}

@test "the slot directory is the service account's alone" {
	fetch_as alice
	exit_status_is 0
	[ "$(stat -c '%u %a' "$ROOT/.gitcage/slots")" = "$(id -u) 700" ] ||
		flunk "$(stat "$ROOT/.gitcage/slots")"
	chmod 777 "$ROOT/.gitcage/slots"
	fetch_as alice
	[ "$status" -ne 0 ] || flunk "$(ran)"
	[ "${lines[0]}" = "fatal: cannot count sessions: refusing $ROOT/.gitcage/slots: it must be a directory of uid $(id -u) that nobody else can write" ] ||
		flunk "$(ran)"
}

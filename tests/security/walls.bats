#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# The second wall and the minimal /etc, from inside `gitcage run`: what the sandbox shows of
# /etc, and what Landlock refuses where the namespaces alone would let the probe through.
# Each Landlock test puts the namespace's own refusal aside: a helper (probe ns-of, outside the
# sandbox's Landlock domain and seccomp filter) enters the sandbox's own network or pid
# namespace and makes a target there that the namespaces let the probe reach. The same
# helper reaching that target is the control: it proves the target was there, reachable.
# shellcheck disable=SC2030,SC2031 # bats runs each test in a subshell: that is the point

load ../lib/common

setup() {
	sandbox_setup
	# Each test's targets and signals go in the repository, which the sandbox shows.
	READY=$REPO/ready
	CAGED=
}

teardown() {
	[ -z "$CAGED" ] || kill "$CAGED" 2>/dev/null || true
	[ -z "${HELPER:-}" ] || kill "$HELPER" 2>/dev/null || true
	wait 2>/dev/null || true
}

require_landlock() {
	local abi
	abi=$("$GITCAGE" --help | sed -n 's/.*Landlock ABI \([0-9]*\).*/\1/p')
	[ -n "$abi" ] || flunk "this kernel has no Landlock: $("$GITCAGE" --help | tail -n 1)"
	[ "$abi" -ge "$1" ] || skip "Landlock ABI $abi here; this wall needs ABI $1"
}

# cage_in_background ATTEMPT [ARG...]: the probe in the sandbox, in the background; its
# output goes to $BATS_TEST_TMPDIR/caged. Sets CAGED (gitcage's pid) and SANDBOX (the pid of
# the sandbox's pid 1, the probe, as the host sees it).
cage_in_background() {
	local i
	"$GITCAGE" --config "$CONFIG" run --repo "$REPO" -- "$REPO/probe" "$@" \
		>"$BATS_TEST_TMPDIR/caged" 2>&1 3>&- &
	CAGED=$!
	for ((i = 0; i < 100; i++)); do
		SANDBOX=$(pgrep -P "$CAGED" | head -n 1) && [ -n "$SANDBOX" ] &&
			[ "$(readlink "/proc/$SANDBOX/exe")" = "$REPO/probe" ] && return 0
		sleep 0.05
	done
	flunk "the sandboxed probe did not start: $(cat "$BATS_TEST_TMPDIR/caged")"
}

# caged_verdict: wait for the background probe; its output becomes $output.
caged_verdict() {
	wait "$CAGED" || true
	CAGED=
	output=$(cat "$BATS_TEST_TMPDIR/caged")
}

# ---- the minimal /etc ----

@test "/etc shows only what git needs: name service files, the loader's cache, the time zone" {
	run --separate-stderr cage -- ls -A /etc
	exit_status_is 0
	local entry
	for entry in $output; do
		case $entry in
		passwd | group | nsswitch.conf | ld.so.cache | ld.so.conf | ld.so.conf.d | localtime | gitconfig) ;;
		*) flunk "unexpected /etc/$entry in the sandbox; /etc holds: $output" ;;
		esac
	done
	[[ $output == *passwd* && $output == *ld.so.cache* ]] || flunk "git's own needs are missing: $output"
}

@test "/etc/ssh is not readable in the sandbox" {
	attempt_blocked read-file /etc/ssh/sshd_config
	attempt_blocked read-file /etc/ssh
}

@test "control: /etc/ssh is readable outside the sandbox" {
	attempt_escapes_outside read-file /etc/ssh/sshd_config
}

@test "/etc/gitcage is not readable in the sandbox" {
	attempt_blocked read-file /etc/gitcage
	attempt_blocked read-file /etc/gitcage/gitcage.conf
	attempt_blocked read-file /etc/shadow
}

@test "control: /etc/gitcage is readable outside the sandbox, where the host has one" {
	[ -e /etc/gitcage ] || skip "this host has no /etc/gitcage to read (/etc/ssh's control stands for it)"
	attempt_escapes_outside read-file /etc/gitcage
}

# ---- Landlock: files ----

# /dev/stdin is /proc/self/fd/0: the fresh /proc would reopen the caller's own file, which lies
# on the host, outside every tree the sandbox shows. The inherited fd itself stays usable.
@test "a host file that /proc/self/fd would expose is unreadable (Landlock)" {
	require_landlock 1
	echo "a host file" >"$BATS_TEST_TMPDIR/host-file"
	run cage --repo "$REPO" -- "$REPO/probe" read-file /dev/stdin <"$BATS_TEST_TMPDIR/host-file"
	expect_blocked
	[[ $output == *"(EACCES)"* ]] || flunk "not Landlock's refusal: $(ran)"
	run cage -- cat <"$BATS_TEST_TMPDIR/host-file"
	exit_status_is 0
	[ "$output" = "a host file" ] || flunk "the inherited fd does not work: $(ran)"
}

@test "control: the host file reopens through /proc/self/fd outside the sandbox" {
	echo "a host file" >"$BATS_TEST_TMPDIR/host-file"
	run "$REPO/probe" read-file /dev/stdin <"$BATS_TEST_TMPDIR/host-file"
	expect_escaped
}

# ---- Landlock: TCP, with the network namespace's refusal aside ----

@test "TCP connect is refused by Landlock to a listener in the sandbox's own network namespace" {
	require_landlock 4
	cage_in_background connect-tcp-when 127.0.0.1 7411 "$READY" 20
	"$REPO/probe" ns-of "$SANDBOX" net listen-tcp 127.0.0.1 7411 15 >"$BATS_TEST_TMPDIR/listener" 2>&1 &
	HELPER=$!
	local i
	for ((i = 0; i < 100; i++)); do
		grep -q LISTENING "$BATS_TEST_TMPDIR/listener" && break
		sleep 0.05
	done
	grep -q LISTENING "$BATS_TEST_TMPDIR/listener" || flunk "no listener: $(cat "$BATS_TEST_TMPDIR/listener")"
	# The control: from outside the Landlock domain, in the same namespace, it is reachable.
	run "$REPO/probe" ns-of "$SANDBOX" net connect-tcp 127.0.0.1 7411
	expect_escaped
	touch "$READY"
	caged_verdict
	[[ $output == *"BLOCKED: connect to tcp 127.0.0.1 port 7411 (EACCES)"* ]] ||
		flunk "the sandboxed probe was not refused by Landlock: $output"
	[ "$(grep -c ACCEPTED "$BATS_TEST_TMPDIR/listener")" -eq 1 ] ||
		flunk "the listener accepted the sandboxed probe: $(cat "$BATS_TEST_TMPDIR/listener")"
}

@test "TCP bind is refused by Landlock, where the network namespace would allow it" {
	require_landlock 4
	attempt_blocked bind-tcp 0.0.0.0 0
	[[ $output == *"(EACCES)"* ]] || flunk "not Landlock's refusal: $(ran)"
	attempt_blocked bind-tcp 0.0.0.0 7412
}

@test "control: TCP bind works in the sandbox's network namespace, outside Landlock" {
	cage_in_background connect-tcp-when 127.0.0.1 7413 "$READY" 20
	run "$REPO/probe" ns-of "$SANDBOX" net bind-tcp 0.0.0.0 0
	expect_escaped
	touch "$READY"
	caged_verdict
}

# ---- Landlock: scopes, with the namespaces' refusal aside ----

@test "an abstract unix socket in the sandbox's own network namespace is out of reach (Landlock)" {
	require_landlock 6
	local name=gitcage-walls-$$-$RANDOM
	cage_in_background connect-abstract-when "$name" "$READY" 20
	"$REPO/probe" ns-of "$SANDBOX" net listen-abstract "$name" 15 >"$BATS_TEST_TMPDIR/listener" 2>&1 &
	HELPER=$!
	local i
	for ((i = 0; i < 100; i++)); do
		grep -q LISTENING "$BATS_TEST_TMPDIR/listener" && break
		sleep 0.05
	done
	grep -q LISTENING "$BATS_TEST_TMPDIR/listener" || flunk "no listener: $(cat "$BATS_TEST_TMPDIR/listener")"
	run "$REPO/probe" ns-of "$SANDBOX" net connect-abstract "$name"
	expect_escaped
	touch "$READY"
	caged_verdict
	[[ $output == *"BLOCKED: connect to abstract unix socket @$name (EPERM)"* ]] ||
		flunk "the sandboxed probe was not refused by Landlock: $output"
}

@test "a signal to a process outside the sandbox is refused (Landlock), even in its pid namespace" {
	require_landlock 6
	local name=outsider$RANDOM
	cage_in_background signal-named "$name" 20
	"$REPO/probe" ns-of "$SANDBOX" pid named "$name" 20 >"$BATS_TEST_TMPDIR/outsider" 2>&1 &
	HELPER=$!
	caged_verdict
	[[ $output == *"BLOCKED: SIGTERM to $name, a process outside the sandbox (pid "*": EPERM)"* ]] ||
		flunk "the sandboxed probe was not refused by Landlock: $output"
	grep -q "NAMED: $name" "$BATS_TEST_TMPDIR/outsider" || flunk "no outsider: $(cat "$BATS_TEST_TMPDIR/outsider")"
	# The outsider went with the sandbox's pid 1 (SIGKILL), not by the probe's SIGTERM.
	local status=0
	wait "$HELPER" || status=$?
	HELPER=
	[ "$status" -eq 137 ] || flunk "the outsider ended with status $status, not by SIGKILL"
}

@test "control: a process outside Landlock signals the outsider in the same pid namespace" {
	local name=outsider$RANDOM
	cage_in_background connect-tcp-when 127.0.0.1 7414 "$READY" 20
	"$REPO/probe" ns-of "$SANDBOX" pid named "$name" 20 >"$BATS_TEST_TMPDIR/outsider" 2>&1 &
	HELPER=$!
	run "$REPO/probe" ns-of "$SANDBOX" pid signal-named "$name" 10
	expect_escaped
	touch "$READY"
	caged_verdict
}

# ---- which walls stand, and a kernel without Landlock ----

@test "--help and check-config say which walls this kernel puts up" {
	local conf
	run "$GITCAGE" --help
	exit_status_is 0
	[[ ${lines[-1]} == "The sandbox on this kernel: namespaces, seccomp, Landlock ABI "* ]] ||
		flunk "$(ran)"
	# check-config wants what serve needs: a repositories root, and an audit destination.
	mkdir "$BATS_TEST_TMPDIR/repos"
	printf '[server]\nrepositories = %s\naudit = %s\n' "$BATS_TEST_TMPDIR/repos" \
		"$BATS_TEST_TMPDIR/audit.log" >"$BATS_TEST_TMPDIR/serve.conf"
	conf=$(trust "$BATS_TEST_TMPDIR/serve.conf")
	run "$GITCAGE" --config "$conf" check-config
	exit_status_is 0
	[ "${lines[-1]}" = "$conf: ok" ] || flunk "$(ran)"
	[[ ${lines[-3]} == "sandbox: namespaces, seccomp, Landlock ABI "* ]] || flunk "$(ran)"
}

@test "on a kernel without Landlock, --help says so and the rest of the sandbox stands" {
	run "$REPO/probe" without-landlock "$GITCAGE" --help
	exit_status_is 0
	[ "${lines[-1]}" = "The sandbox on this kernel: namespaces, seccomp, no Landlock on this kernel (the other walls stand)." ] ||
		flunk "$(ran)"
	# The command runs, the namespaces and seccomp still refuse, only Landlock's wall is down.
	run "$REPO/probe" without-landlock "$GITCAGE" --config "$CONFIG" run --repo "$REPO" -- \
		"$REPO/probe" unshare-user
	expect_blocked
	run "$REPO/probe" without-landlock "$GITCAGE" --config "$CONFIG" run --repo "$REPO" -- \
		"$REPO/probe" read-file /etc/ssh/sshd_config
	expect_blocked
	echo "a host file" >"$BATS_TEST_TMPDIR/host-file"
	run "$REPO/probe" without-landlock "$GITCAGE" --config "$CONFIG" run --repo "$REPO" -- \
		"$REPO/probe" read-file /dev/stdin <"$BATS_TEST_TMPDIR/host-file"
	expect_escaped
}

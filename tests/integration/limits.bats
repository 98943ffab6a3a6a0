#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# [limits] memory and processes, with and without a cgroup. These machines delegate no cgroup
# v2 controller to anyone, so a sandbox in its own leaf cannot run here (the unit tests run
# the steps on a fake tree); what can run: the rlimits as the sandbox sees them, and the
# refusals when [limits] cgroup names a directory that cannot take the leaves, which read and
# never write.

# shellcheck disable=SC2154 # bats' run --separate-stderr sets stderr

load ../lib/common

setup() {
	require_unprivileged
	require_built
	CONFIG=$BATS_TEST_TMPDIR/gitcage.conf
}

# conf LINE...: a config of [limits] with these lines, and what check-config wants of the rest.
conf() {
	mkdir -p "$BATS_TEST_TMPDIR/repos"
	printf '[server]\nrepositories = %s\naudit = %s\n[limits]\ntimeout = 60\n' \
		"$BATS_TEST_TMPDIR/repos" "$BATS_TEST_TMPDIR/audit.log" >"$CONFIG"
	printf '%s\n' "$@" >>"$CONFIG"
}

@test "without a cgroup, memory and processes are rlimits of each process" {
	conf "memory = 64M" "processes = 32"
	run "$GITCAGE" --config "$CONFIG" run -- cat /proc/self/limits
	exit_status_is 0
	[[ $output =~ Max\ address\ space\ +67108864\ +67108864\ +bytes ]] ||
		flunk "RLIMIT_AS is not 64M: $(ran)"
	[[ $output =~ Max\ processes\ +32\ +32\ +processes ]] || flunk "RLIMIT_NPROC is not 32: $(ran)"
}

@test "a [limits] cgroup that is not cgroup v2 stops the sandbox before anything runs" {
	mkdir "$BATS_TEST_TMPDIR/not-a-cgroup"
	conf "cgroup = $BATS_TEST_TMPDIR/not-a-cgroup"
	run --separate-stderr "$GITCAGE" --config "$CONFIG" run -- echo ran
	exit_status_is 125
	[ "$stderr" = "gitcage: [limits] cgroup $BATS_TEST_TMPDIR/not-a-cgroup is not a cgroup v2 directory" ] ||
		flunk "$(ran)" "$stderr"
	[ -z "$output" ] || flunk "the command ran: $output"
	local conf_file
	conf_file=$(trust "$CONFIG")
	run "$GITCAGE" --config "$conf_file" check-config
	exit_status_is 125
	[[ $output == *"$conf_file: [limits] cgroup $BATS_TEST_TMPDIR/not-a-cgroup is not a cgroup v2 directory"* ]] ||
		flunk "$(ran)"
	[[ $output != *": ok"* ]] || flunk "check-config said ok: $(ran)"
}

# The host's own cgroup v2 mount, where memory and pids are not on v2 (they sit on v1 here):
# read, never written.
@test "a cgroup v2 directory without memory and pids delegated is refused, and left alone" {
	local mount
	mount=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
	[ -n "$mount" ] || skip "this host has no cgroup v2 mount to read"
	if grep -qw memory "$mount/cgroup.controllers" && grep -qw pids "$mount/cgroup.controllers"; then
		skip "this host's cgroup v2 has memory and pids: nothing here is refused for lack of them"
	fi
	local before
	before=$(cat "$mount/cgroup.subtree_control")
	conf "cgroup = $mount"
	run --separate-stderr "$GITCAGE" --config "$CONFIG" run -- echo ran
	exit_status_is 125
	[[ $stderr == "gitcage: [limits] cgroup $mount: the memory and pids controllers are not delegated here (cgroup.controllers: "* ]] ||
		flunk "$(ran)" "$stderr"
	[ -z "$output" ] || flunk "the command ran: $output"
	[ "$(cat "$mount/cgroup.subtree_control")" = "$before" ] || flunk "the host's cgroup changed"
}

@test "check-config says how the limits add up" {
	conf "memory = 64M"
	run "$GITCAGE" --config "$(trust "$CONFIG")" check-config
	exit_status_is 0
	[ "${lines[-2]}" = "limits: per process (rlimits); no [limits] cgroup" ] || flunk "$(ran)"
}

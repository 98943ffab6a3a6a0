#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# The ssh test harness (tests/lib/sshd.bash) works: a throwaway sshd, run as the test user,
# runs a key's forced command, and refuses a key it does not know.

load ../lib/common
load ../lib/sshd

setup() {
	require_unprivileged
	sshd_start
}

teardown() {
	sshd_stop
}

@test "sshd runs the forced command of the key" {
	sshd_add_key client 'echo forced-ok'
	run sshd_ssh client true </dev/null
	exit_status_is 0
	[ "$output" = forced-ok ] || flunk "expected forced-ok; got $(ran)"
}

@test "the forced command sees the client's command in SSH_ORIGINAL_COMMAND" {
	# shellcheck disable=SC2016 # expanded by the forced command's shell
	sshd_add_key client 'printf "%s\n" "$SSH_ORIGINAL_COMMAND"'
	run sshd_ssh client "git-upload-pack 'demo.git'" </dev/null
	exit_status_is 0
	[ "$output" = "git-upload-pack 'demo.git'" ] || flunk "got $(ran)"
}

@test "GIT_SSH_COMMAND from the harness works through a shell" {
	sshd_add_key client 'echo forced-ok'
	local command
	command=$(sshd_git_ssh_command client)
	run sh -c "$command 127.0.0.1 true" </dev/null
	exit_status_is 0
	[ "$output" = forced-ok ] || flunk "got $(ran)"
}

@test "a key that is not authorized is refused" {
	sshd_add_key client 'echo forced-ok'
	sshd_key stranger
	run sshd_ssh stranger true </dev/null
	exit_status_is 255
	[[ $output != *forced-ok* ]] || flunk "the stranger got in: $output"
}

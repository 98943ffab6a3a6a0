#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# gitcage check-config checks what serve needs, one test per check: the repositories root, git,
# the hooks, the key directory and the audit target, each with safe owners and modes, and
# syslog's socket. Each test starts from a config that passes and breaks one thing.

# shellcheck disable=SC2030,SC2031 # each test changes the variables setup made, in its own subshell

load ../lib/common

setup() {
	require_unprivileged
	require_built
	T=$BATS_TEST_TMPDIR
	mkdir -p "$T/repositories" "$T/keys" "$T/log"
	cp -r "$(dirname "$GITCAGE")/hooks" "$T/hooks" # as built: the relay, and chain/
	chmod 755 "$T/repositories" "$T/keys" "$T/log" "$T/hooks"
	GIT_PATH=/usr/bin/git
	REPOSITORIES=$T/repositories
	HOOKS=$T/hooks
	KEYS=$T/keys
	AUDIT=$T/log/audit.log
}

write_conf() {
	CONF=$T/gitcage.conf
	{
		echo "[server]"
		[ -z "$REPOSITORIES" ] || echo "repositories = $REPOSITORIES"
		echo "git = $GIT_PATH"
		echo "hooks = $HOOKS"
		echo "keys = $KEYS"
		echo "audit = $AUDIT"
		[ -z "${SEED:-}" ] || echo "push-cert-seed = $SEED"
	} >"$CONF"
	chmod 600 "$CONF"
}

check_config() {
	write_conf
	run "$GITCAGE" --config "$CONF" check-config
}

# expect_error TEXT: exit 125 and a line of the config file naming TEXT.
expect_error() {
	exit_status_is 125
	[[ $output == *"$CONF: "*"$1"* ]] || flunk "no line about '$1': $(ran)"
	[[ $output != *"$CONF: ok"* ]] || flunk "it still says ok: $(ran)"
}

@test "check-config: a config that serve can use is ok" {
	check_config
	exit_status_is 0
	[ "$output" = "$CONF: ok" ] || flunk "expected one ok line: $(ran)"
}

@test "check-config: repositories not set" {
	REPOSITORIES=
	check_config
	expect_error "[server] repositories is not set"
}

@test "check-config: repositories missing" {
	REPOSITORIES=$T/nowhere
	check_config
	expect_error "[server] repositories $T/nowhere: No such file or directory"
}

@test "check-config: repositories writable by others" {
	chmod 777 "$REPOSITORIES"
	check_config
	expect_error "[server] repositories $REPOSITORIES can be written by others (mode 0777)"
}

@test "check-config: repositories the service account cannot read" {
	chmod 000 "$REPOSITORIES"
	check_config
	chmod 755 "$REPOSITORIES"
	expect_error "cannot be read by the service account"
}

@test "check-config: git missing" {
	GIT_PATH=$T/no-git
	check_config
	expect_error "[server] git $T/no-git: No such file or directory"
}

@test "check-config: git writable by others" {
	GIT_PATH=$T/git
	printf '#!/bin/sh\n' >"$GIT_PATH"
	chmod 777 "$GIT_PATH"
	check_config
	expect_error "[server] git $GIT_PATH can be written by others (mode 0777)"
}

@test "check-config: git owned by someone other than root or the service account" {
	write_conf
	# In a nested user namespace root's /usr/bin/git appears owned by nobody.
	run in_namespaces true "$GITCAGE" --config "$CONF" check-config
	expect_error "[server] git /usr/bin/git is owned by uid 65534, not by root or the service account"
}

@test "check-config: hooks directory missing" {
	HOOKS=$T/no-hooks
	check_config
	expect_error "[server] hooks $T/no-hooks: No such file or directory"
}

@test "check-config: a hook missing" {
	rm "$HOOKS/chain/pre-receive"
	check_config
	expect_error "the hook $HOOKS/chain/pre-receive: No such file or directory"
}

@test "check-config: a hook writable by others" {
	chmod 777 "$HOOKS/proc-receive"
	check_config
	expect_error "the hook $HOOKS/proc-receive can be written by others (mode 0777)"
}

@test "check-config: a hook the service account cannot execute" {
	chmod 644 "$HOOKS/chain/proc-receive"
	check_config
	expect_error "the hook $HOOKS/chain/proc-receive cannot be executed by the service account"
}

@test "check-config: hooks directory writable by others" {
	chmod 777 "$HOOKS"
	check_config
	expect_error "[server] hooks $HOOKS can be written by others (mode 0777)"
}

@test "check-config: keys directory missing" {
	KEYS=$T/no-keys
	check_config
	expect_error "[server] keys $T/no-keys: No such file or directory"
}

@test "check-config: keys directory writable by others" {
	chmod 777 "$KEYS"
	check_config
	expect_error "[server] keys $KEYS can be written by others (mode 0777)"
}

@test "check-config: push-cert-seed writable by others" {
	SEED=$T/seed
	head -c 32 /dev/urandom | base64 >"$SEED"
	chmod 666 "$SEED"
	check_config
	expect_error "[server] push-cert-seed $SEED can be written by others (mode 0666)"
}

@test "check-config: push-cert-seed the service account cannot read" {
	SEED=$T/seed
	head -c 32 /dev/urandom | base64 >"$SEED"
	chmod 200 "$SEED"
	check_config
	expect_error "[server] push-cert-seed $SEED cannot be read by the service account"
}

@test "check-config: push-cert-seed missing" {
	SEED=$T/no-seed
	check_config
	expect_error "[server] push-cert-seed $T/no-seed: No such file or directory"
}

@test "check-config: audit file the service account cannot write" {
	touch "$AUDIT"
	chmod 444 "$AUDIT"
	check_config
	expect_error "[server] audit $AUDIT cannot be written by the service account"
}

@test "check-config: audit file in a directory the service account cannot write" {
	chmod 555 "$T/log"
	check_config
	chmod 755 "$T/log"
	expect_error "[server] audit $AUDIT does not exist and the service account cannot create it"
}

@test "check-config: audit file in a missing directory" {
	AUDIT=$T/no-dir/audit.log
	check_config
	expect_error "[server] audit $T/no-dir: No such file or directory"
}

@test "check-config: audit file that is a symlink" {
	ln -s "$T/elsewhere" "$AUDIT"
	check_config
	expect_error "[server] audit $AUDIT is not a regular file"
}

# The two syslog tests see a /dev of their own (private_dev_script), with, in the control, a
# unix socket at /dev/log (made with perl-base's Socket), whatever the host has.
@test "check-config: audit = syslog without /dev/log warns" {
	AUDIT=syslog
	GIT_PATH=$T/git # the host's git appears owned by nobody in the namespace
	printf '#!/bin/sh\n' >"$GIT_PATH" && chmod 755 "$GIT_PATH"
	write_conf
	mkdir "$T/dev"
	run in_namespaces "$(private_dev_script "$T/dev")" "$GITCAGE" --config "$CONF" check-config
	exit_status_is 0
	[[ $output == *"$CONF: warning: audit = syslog, but /dev/log is not a socket here"* ]] ||
		flunk "no warning: $(ran)"
	[[ $output == *"$CONF: ok"* ]] || flunk "a warning is not an error: $(ran)"
}

@test "check-config: audit = syslog with a /dev/log socket does not warn" {
	AUDIT=syslog
	GIT_PATH=$T/git
	printf '#!/bin/sh\n' >"$GIT_PATH" && chmod 755 "$GIT_PATH"
	write_conf
	SOCKET=$T/log.socket
	perl -MSocket -e 'socket(my $s, PF_UNIX, SOCK_DGRAM, 0) or die "socket: $!";
		bind($s, pack_sockaddr_un($ARGV[0])) or die "bind: $!"' "$SOCKET"
	[ -S "$SOCKET" ] || flunk "no socket at $SOCKET"
	mkdir "$T/dev"
	run in_namespaces "$(private_dev_script "$T/dev" "$SOCKET")" "$GITCAGE" --config "$CONF" \
		check-config
	exit_status_is 0
	[ "$output" = "$CONF: ok" ] || flunk "expected only ok: $(ran)"
}

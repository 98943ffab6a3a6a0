#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# gitcage check-config checks what serve needs, one test per check: the repositories root, git,
# the hooks, the key directory and the audit target, each with safe owners and modes, and
# syslog's socket. Each test starts from a config that passes and breaks one thing.
# The config, the hooks directory and a git outside /usr must be root's (config_load refuses
# them before check-config looks): the tests stage root-owned copies (trust, tools/trust) and
# expect config_load's own line where its rule is the one that refuses.

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
	HOOKS=$(dirname "$GITCAGE")/hooks # root's, in the tree tools/as-test-user staged
	KEYS=$T/keys
	AUDIT=$T/log/audit.log
}

write_conf() {
	{
		echo "[server]"
		[ -z "$REPOSITORIES" ] || echo "repositories = $REPOSITORIES"
		echo "git = $GIT_PATH"
		echo "hooks = $HOOKS"
		echo "keys = $KEYS"
		echo "audit = $AUDIT"
		[ -z "${SEED:-}" ] || echo "push-cert-seed = $SEED"
	} >"$T/gitcage.conf"
	CONF=$(trust "$T/gitcage.conf")
}

# stage_hooks: $T/hooks (a test's changed copy of the built hooks) as root's, each file with
# its mode; HOOKS names the copy.
stage_hooks() {
	local file
	while IFS= read -r file; do
		trust "$file" "$(stat -c %a "$file")" >/dev/null
	done < <(find "$T/hooks" -type f)
	HOOKS=$(trusted_path "$T/hooks")
}

# expect_refused WHAT PATH REASON: config_load's line, which names the file and the reason.
expect_refused() {
	exit_status_is 125
	[[ $output == *"gitcage: $2: refusing this $1: $3"* ]] || flunk "no refusal of $2: $(ran)"
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
	[ "${lines[-1]}" = "$CONF: ok" ] || flunk "expected the ok line last: $(ran)"
	[[ $output != *warning* ]] || flunk "a warning: $(ran)"
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
	write_conf # the directory of its root-owned copy
	GIT_PATH=$(trusted_path "$T/no-git")
	check_config
	expect_error "[server] git $GIT_PATH: No such file or directory"
}

@test "check-config: git writable by others" {
	printf '#!/bin/sh\n' >"$T/git"
	GIT_PATH=$(trust "$T/git" 0777)
	check_config
	expect_refused "git program" "$GIT_PATH" "others can write it (mode 0777)"
}

@test "check-config: git owned by someone other than root (the service account)" {
	printf '#!/bin/sh\n' >"$T/git"
	GIT_PATH=$(trust --as-user "$T/git" 0755)
	check_config
	expect_refused "git program" "$GIT_PATH" "it belongs to uid $(id -u), not root"
}

@test "check-config: hooks directory missing" {
	write_conf # the directory of its root-owned copy
	HOOKS=$(trusted_path "$T/no-hooks")
	check_config
	expect_error "[server] hooks $HOOKS: No such file or directory"
}

@test "check-config: a hook missing" {
	rm "$T/hooks/chain/pre-receive"
	stage_hooks
	check_config
	expect_error "the hook $HOOKS/chain/pre-receive: No such file or directory"
}

@test "check-config: a hook writable by others" {
	chmod 777 "$T/hooks/proc-receive"
	stage_hooks
	check_config
	expect_error "the hook $HOOKS/proc-receive can be written by others (mode 0777)"
}

@test "check-config: a hook the service account cannot execute" {
	chmod 644 "$T/hooks/chain/proc-receive"
	stage_hooks
	check_config
	expect_error "the hook $HOOKS/chain/proc-receive cannot be executed by the service account"
}

@test "check-config: hooks directory writable by others" {
	stage_hooks
	"$GITCAGE_ROOT/tools/trust" --dir "$T/hooks" 0777
	check_config
	expect_refused "hooks directory" "$HOOKS" "others can write it (mode 0777)"
}

@test "check-config: hooks of the service account's own are refused" {
	HOOKS=$T/hooks
	check_config
	expect_refused "hooks directory" "$HOOKS" "others can write the directory /tmp above it (mode 1777)"
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

# The two syslog tests see a /dev of their own (tools/trust --private-dev: root makes the mount
# namespace, so that the root-owned config stays root's), with, in the control, a unix socket at
# /dev/log (made with perl-base's Socket), whatever the host has.
@test "check-config: audit = syslog without /dev/log warns" {
	AUDIT=syslog
	write_conf
	run "$GITCAGE_ROOT/tools/trust" --private-dev - -- "$GITCAGE" --config "$CONF" check-config
	exit_status_is 0
	[[ $output == *"$CONF: warning: audit = syslog, but /dev/log is not a socket here"* ]] ||
		flunk "no warning: $(ran)"
	[[ $output == *"$CONF: ok"* ]] || flunk "a warning is not an error: $(ran)"
}

@test "check-config: audit = syslog with a /dev/log socket does not warn" {
	AUDIT=syslog
	write_conf
	SOCKET=$T/log.socket
	perl -MSocket -e 'socket(my $s, PF_UNIX, SOCK_DGRAM, 0) or die "socket: $!";
		bind($s, pack_sockaddr_un($ARGV[0])) or die "bind: $!"' "$SOCKET"
	[ -S "$SOCKET" ] || flunk "no socket at $SOCKET"
	run "$GITCAGE_ROOT/tools/trust" --private-dev "$SOCKET" -- "$GITCAGE" --config "$CONF" \
		check-config
	exit_status_is 0
	[ "${lines[-1]}" = "$CONF: ok" ] || flunk "expected the ok line last: $(ran)"
	[[ $output != *warning* ]] || flunk "a warning: $(ran)"
}

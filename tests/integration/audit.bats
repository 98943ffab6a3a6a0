#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# The audit record over a real sshd with real git clients: the key as sshd logs it, what the
# client sees when the record cannot be written, audit-required, and Git LFS's commands.

# shellcheck disable=SC2154 # bats' run --separate-stderr sets stderr and stderr_lines

load ../lib/common
load ../lib/sshd

setup_file() {
	sshd_setup_file
}

teardown_file() {
	sshd_stop
}

# write_conf [LINE...]: the test's config; extra [server] lines come first.
write_conf() {
	{
		echo "[server]"
		printf '%s\n' "$@"
		echo "repositories = $ROOT"
		echo "hooks = $(dirname "$GITCAGE")/hooks"
		printf '[limits]\ntimeout = 60\n[repo demo.git]\nread = alice\nwrite = alice\n'
	} >"$BATS_TEST_TMPDIR/gitcage.conf"
	CONF=$(trust "$BATS_TEST_TMPDIR/gitcage.conf")
}

setup() {
	ROOT=$BATS_TEST_TMPDIR/repos
	AUDIT=$BATS_TEST_TMPDIR/audit.log
	mkdir -p "$ROOT"
	git init -q --bare "$ROOT/demo.git"
	add_commits "$ROOT/demo.git" 1
	write_conf "audit = $AUDIT"
	sshd_authorize_gitcage "$CONF" alice
	URL="ssh://$(id -un)@127.0.0.1:$SSHD_PORT"
}

as() {
	local user=$1
	shift
	GIT_SSH_COMMAND=$(sshd_git_ssh_command "$user") "$@"
}

@test "the audit record names the key by the SHA256 fingerprint that sshd logs" {
	run as alice git ls-remote "$URL/demo.git"
	exit_status_is 0
	local fingerprint
	fingerprint=$(ssh-keygen -lf "$SSHD_DIR/alice.pub" | cut -d' ' -f2)
	[[ $fingerprint == SHA256:* ]] || flunk "ssh-keygen printed no fingerprint: $fingerprint"
	grep -q "\"key\":\"$fingerprint\"" "$AUDIT" || flunk "no key $fingerprint in: $(cat "$AUDIT")"
	grep -q "Accepted publickey for $(id -un) .* $fingerprint" "$SSHD_DIR/sshd.log" ||
		flunk "sshd logged another key: $(grep Accepted "$SSHD_DIR/sshd.log")"
}

@test "an audit file that cannot be written: the fetch works, and the client sees one plain line" {
	mkdir "$BATS_TEST_TMPDIR/locked"
	write_conf "audit = $BATS_TEST_TMPDIR/locked/audit.log"
	chmod 555 "$BATS_TEST_TMPDIR/locked"
	run --separate-stderr as alice git ls-remote "$URL/demo.git"
	exit_status_is 0
	[[ $output == *refs/heads/* ]] || flunk "no refs: $(ran)"
	[ "${#stderr_lines[@]}" -eq 1 ] || flunk "not one line: $stderr"
	[[ $stderr == *"could not record this call in its audit log"* ]] || flunk "unclear: $stderr"
	[[ $stderr != *"$BATS_TEST_TMPDIR"* ]] || flunk "a server path reached the client: $stderr"
	[ ! -e "$BATS_TEST_TMPDIR/locked/audit.log" ] || flunk "a record was written after all"
}

# A second sshd whose sessions see a /dev without /dev/log, whatever the host has: root makes
# its mount namespace (tools/trust --private-dev), so that the root-owned config stays root's.
@test "audit = syslog with nothing on /dev/log is a record that cannot be written" {
	write_conf "audit = syslog"
	local saved_dir=$SSHD_DIR saved_port=$SSHD_PORT
	SSHD_LAUNCHER="$GITCAGE_ROOT/tools/trust --private-dev - --" \
		sshd_start "$BATS_TEST_TMPDIR/sshd-without-dev-log"
	cp "$saved_dir/alice" "$saved_dir/alice.pub" "$SSHD_DIR/"
	sshd_authorize_gitcage "$CONF" alice
	run --separate-stderr as alice git ls-remote "ssh://$(id -un)@127.0.0.1:$SSHD_PORT/demo.git"
	sshd_stop
	SSHD_DIR=$saved_dir SSHD_PORT=$saved_port
	exit_status_is 0
	[[ $output == *refs/heads/* ]] || flunk "no refs: $(ran)"
	[ "$stderr" = "warning: this server could not record this call in its audit log" ] ||
		flunk "not the one plain line: $stderr"
}

@test "audit-required = yes: a push that cannot be recorded is refused before it runs" {
	mkdir "$BATS_TEST_TMPDIR/locked"
	write_conf "audit = $BATS_TEST_TMPDIR/locked/audit.log" "audit-required = yes"
	chmod 555 "$BATS_TEST_TMPDIR/locked"
	local before work branch
	branch=$(git -C "$ROOT/demo.git" symbolic-ref HEAD)
	before=$(git -C "$ROOT/demo.git" rev-parse "$branch")
	work=$BATS_TEST_TMPDIR/work
	git clone -q "$ROOT/demo.git" "$work"
	git -C "$work" commit -q --allow-empty -m "not recorded"
	run --separate-stderr as alice git -C "$work" push "$URL/demo.git" "HEAD:$branch"
	[ "$status" -ne 0 ] || flunk "the push went through: $(ran)"
	[[ $stderr == *"fatal: this server cannot record this call in its audit log, and it requires one"* ]] ||
		flunk "unclear: $stderr"
	[[ $stderr != *"$BATS_TEST_TMPDIR"* ]] || flunk "a server path reached the client: $stderr"
	[ "$(git -C "$ROOT/demo.git" rev-parse "$branch")" = "$before" ] ||
		flunk "the repository changed"
}

@test "audit-required = yes: with a writable audit file the call runs and is recorded" {
	write_conf "audit = $AUDIT" "audit-required = yes"
	run as alice git ls-remote "$URL/demo.git"
	exit_status_is 0
	grep -q '"service":"git-upload-pack".*"verdict":"ok"' "$AUDIT" || flunk "no record: $(cat "$AUDIT")"
}

@test "Git LFS over ssh is refused by name, and the record says what was asked" {
	run --separate-stderr sshd_ssh alice "git-lfs-authenticate 'demo.git' download"
	[ "$status" -ne 0 ] || flunk "accepted: $(ran)"
	[ "$stderr" = "fatal: gitcage: Git LFS is not supported on this server" ] ||
		flunk "not the one line: $stderr"
	grep -q '"service":"git-lfs-authenticate","repo":"demo.git","verdict":"refused"' "$AUDIT" ||
		flunk "no record of the LFS request: $(cat "$AUDIT")"
	run --separate-stderr sshd_ssh alice "git-lfs-transfer 'demo.git' upload"
	[ "$stderr" = "fatal: gitcage: Git LFS is not supported on this server" ] ||
		flunk "not the one line: $stderr"
	grep -q '"service":"git-lfs-transfer","repo":"demo.git","verdict":"refused"' "$AUDIT" ||
		flunk "no record of the LFS transfer: $(cat "$AUDIT")"
}

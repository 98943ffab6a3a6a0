#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Per-user ref rules on pushes, through a real sshd: a rewind refused for one user and
# allowed for another, with the repository checked afterwards. The publisher enforces these
# (acl_check_ref) outside the sandbox; this file needs that wiring to pass.

load ../lib/common
load ../lib/sshd

setup_file() {
	sshd_setup_file
}

teardown_file() {
	sshd_stop
}

setup() {
	ROOT=$BATS_TEST_TMPDIR/repos
	CONF=$BATS_TEST_TMPDIR/gitcage.conf
	mkdir -p "$ROOT"
	cat >"$CONF" <<-EOF
		[server]
		repositories = $ROOT
		audit = $BATS_TEST_TMPDIR/audit.log
		hooks = $GITCAGE_ROOT/build/hooks
		[limits]
		timeout = 60
		[repo demo]
		RW+ = alice
		RW = bob
		RWC feature/ = bob
	EOF
	CONF=$(trust "$CONF")
	git init -q --bare -b main "$ROOT/demo.git"
	add_commits "$ROOT/demo.git" 3
	git --git-dir="$ROOT/demo.git" branch old main~1
	sshd_authorize_gitcage "$CONF" alice bob
	URL="ssh://$(id -un)@127.0.0.1:$SSHD_PORT/demo"
	WORK=$BATS_TEST_TMPDIR/work
	git clone -q "$ROOT/demo.git" "$WORK"
	BEFORE=$(git --git-dir="$ROOT/demo.git" rev-parse main)
}

as() {
	local user=$1
	shift
	GIT_SSH_COMMAND=$(sshd_git_ssh_command "$user") "$@"
}

main_now() {
	git --git-dir="$ROOT/demo.git" rev-parse main
}

@test "bob may not rewind main; the repository keeps its main" {
	run as bob git -C "$WORK" push -f "$URL" main~1:main
	[ "$status" -ne 0 ] || flunk "the rewind went through: $(ran)"
	[[ $output == *"bob may not rewind refs/heads/main"* ]] || flunk "$(ran)"
	[ "$(main_now)" = "$BEFORE" ] || flunk "main moved to $(main_now)"
}

@test "alice may rewind main, and it is rewound" {
	run as alice git -C "$WORK" push -f "$URL" main~1:main
	exit_status_is 0
	[ "$(main_now)" = "$(git -C "$WORK" rev-parse main~1)" ] || flunk "main is $(main_now)"
}

@test "bob may fast-forward main, may not delete a branch, creates only under feature/" {
	git -C "$WORK" commit -q --allow-empty -m more
	run as bob git -C "$WORK" push "$URL" main
	exit_status_is 0
	[ "$(main_now)" = "$(git -C "$WORK" rev-parse main)" ] || flunk "not fast-forwarded"
	run as bob git -C "$WORK" push "$URL" :old
	[ "$status" -ne 0 ] || flunk "$(ran)"
	git --git-dir="$ROOT/demo.git" rev-parse -q --verify refs/heads/old >/dev/null ||
		flunk "old was deleted"
	run as bob git -C "$WORK" push "$URL" main:refs/heads/topic
	[ "$status" -ne 0 ] || flunk "$(ran)"
	! git --git-dir="$ROOT/demo.git" rev-parse -q --verify refs/heads/topic >/dev/null ||
		flunk "topic was created"
	run as bob git -C "$WORK" push "$URL" main:refs/heads/feature/x
	exit_status_is 0
}

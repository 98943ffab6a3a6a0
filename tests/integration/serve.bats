#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# gitcage serve behind a real OpenSSH server on 127.0.0.1, driven by real git clients:
# what allowed users can do, and a refusal, with the refs unchanged, for everything else.

load ../lib/common
load ../lib/sshd

setup_file() {
	sshd_setup_file
}

teardown_file() {
	sshd_stop
}

# Per test: a fresh repositories root, config, keys and audit log. alice writes (through
# @devs), bob reads, carol has no rule at all. The config is written to $SOURCE; gitcage reads
# $CONF, its root-owned copy (serve trusts nothing else).
setup() {
	ROOT=$BATS_TEST_TMPDIR/repos
	SOURCE=$BATS_TEST_TMPDIR/gitcage.conf
	AUDIT=$BATS_TEST_TMPDIR/audit.log
	mkdir -p "$ROOT/team"
	cat >"$SOURCE" <<-EOF
		[server]
		repositories = $ROOT
		audit = $AUDIT
		keys = $BATS_TEST_TMPDIR/keys
		hooks = $GITCAGE_ROOT/build/hooks
		[limits]
		timeout = 60
		[group devs]
		members = alice
		[repo demo.git]
		read = bob
		write = @devs
		[repo team/*.git]
		read = @all
		write = alice
		[repo secret.git]
		read = alice
	EOF
	CONF=$(trust "$SOURCE")
	git init -q --bare "$ROOT/demo.git"
	git init -q --bare "$ROOT/secret.git"
	git init -q --bare "$ROOT/team/tools.git"
	add_commits "$ROOT/demo.git" 2
	sshd_authorize_gitcage "$CONF" alice bob carol
	URL="ssh://$(id -un)@127.0.0.1:$SSHD_PORT"
	SCP="$(id -un)@127.0.0.1"
}

# as USER COMMAND...: run a git client command with USER's key.
as() {
	local user=$1
	shift
	GIT_SSH_COMMAND=$(sshd_git_ssh_command "$user") "$@"
}

main_of() {
	git -C "$1" rev-parse --verify -q refs/heads/main || git -C "$1" rev-parse HEAD
}

@test "alice clones over ssh:// and gets the commits" {
	run as alice git clone -q "$URL/demo.git" "$BATS_TEST_TMPDIR/clone"
	exit_status_is 0
	[ "$(git -C "$BATS_TEST_TMPDIR/clone" log --format=%s | head -1)" = "commit 2" ]
}

@test "an scp-like URL works, and NAME finds NAME.git" {
	run as alice git clone -q "$SCP:demo" "$BATS_TEST_TMPDIR/clone"
	exit_status_is 0
	[ -f "$BATS_TEST_TMPDIR/clone/file.txt" ] || flunk "no work tree"
}

@test "a leading / is dropped and a trailing / ignored" {
	run as bob git ls-remote "$URL/demo.git/"
	exit_status_is 0
	[[ $output == *refs/heads/* ]] || flunk "$(ran)"
}

@test "fetch brings new commits" {
	as alice git clone -q "$URL/demo.git" "$BATS_TEST_TMPDIR/clone"
	add_commits "$ROOT/demo.git" 1
	run as alice git -C "$BATS_TEST_TMPDIR/clone" fetch -q origin
	exit_status_is 0
	[ "$(git -C "$BATS_TEST_TMPDIR/clone" rev-parse FETCH_HEAD)" = "$(git -C "$ROOT/demo.git" rev-parse HEAD)" ]
}

@test "alice pushes and the server's branch moves" {
	as alice git clone -q "$URL/demo.git" "$BATS_TEST_TMPDIR/clone"
	echo change >>"$BATS_TEST_TMPDIR/clone/file.txt"
	git -C "$BATS_TEST_TMPDIR/clone" commit -q -am "pushed"
	run as alice git -C "$BATS_TEST_TMPDIR/clone" push -q origin HEAD
	exit_status_is 0
	[ "$(git -C "$ROOT/demo.git" log -1 --format=%s HEAD)" = pushed ] || flunk "not pushed"
	run git -C "$ROOT/demo.git" fsck --strict
	exit_status_is 0
}

# Every other test keeps its repositories under /tmp, where the sandbox's own /tmp rule of
# Landlock covered the cages' directories and hid that the index cage's had no rule (the
# package's /srv/git failed every push with a pack). Here the root is in HOME, outside /tmp.
@test "a push to a repositories root outside /tmp is indexed, checked and published" {
	local root
	root=$(mktemp -d "$HOME/gitcage-repos.XXXXXX")
	[[ $root != /tmp/* ]] || flunk "HOME is under /tmp: $root"
	git init -q --bare "$root/demo.git"
	add_commits "$root/demo.git" 2
	sed "s|^repositories = .*|repositories = $root|" "$SOURCE" >"$BATS_TEST_TMPDIR/home.conf"
	sshd_authorize_gitcage "$(trust "$BATS_TEST_TMPDIR/home.conf")" alice
	as alice git clone -q "$URL/demo.git" "$BATS_TEST_TMPDIR/clone"
	echo change >>"$BATS_TEST_TMPDIR/clone/file.txt"
	git -C "$BATS_TEST_TMPDIR/clone" commit -q -am "pushed outside /tmp"
	run as alice git -C "$BATS_TEST_TMPDIR/clone" push origin HEAD
	local run_status=$status run_output=$output pushed fsck=0
	pushed=$(git -C "$root/demo.git" log -1 --format=%s HEAD)
	git -C "$root/demo.git" fsck --strict >/dev/null 2>&1 || fsck=$?
	rm -rf "$root"
	[ "$run_status" -eq 0 ] || flunk "push failed: $run_output"
	[ "$pushed" = "pushed outside /tmp" ] || flunk "not published: $pushed"
	[ "$fsck" -eq 0 ] || flunk "git fsck --strict failed after the push"
}

@test "ls-remote lists the refs" {
	run as bob git ls-remote "$URL/demo.git"
	exit_status_is 0
	[[ $output == *"$(git -C "$ROOT/demo.git" rev-parse HEAD)"* ]] || flunk "$(ran)"
}

@test "git archive --remote works through upload-archive" {
	run as bob git archive --remote="$URL/demo.git" --format=tar -o "$BATS_TEST_TMPDIR/a.tar" HEAD
	exit_status_is 0
	tar -tf "$BATS_TEST_TMPDIR/a.tar" | grep -qx file.txt || flunk "file.txt not in the archive"
}

@test "protocol v2 is negotiated (GIT_TRACE_PACKET)" {
	run as bob env GIT_TRACE_PACKET=1 git -c protocol.version=2 ls-remote "$URL/demo.git"
	exit_status_is 0
	[[ $output == *"< version 2"* ]] || flunk "no v2 in the trace: $(ran)"
}

@test "a reader's push is refused and the refs stay as they were" {
	local before
	before=$(git -C "$ROOT/demo.git" for-each-ref)
	as bob git clone -q "$URL/demo.git" "$BATS_TEST_TMPDIR/clone"
	git -C "$BATS_TEST_TMPDIR/clone" commit -q --allow-empty -m "bob's"
	run as bob git -C "$BATS_TEST_TMPDIR/clone" push origin HEAD
	[ "$status" -ne 0 ] || flunk "bob could push: $(ran)"
	[[ $output == *"fatal: you may read this repository but not push to it"* ]] || flunk "$(ran)"
	[ "$(git -C "$ROOT/demo.git" for-each-ref)" = "$before" ] || flunk "refs changed"
}

@test "a user without a rule gets the same answer as for a missing repository" {
	run as carol git ls-remote "$URL/demo.git"
	[ "$status" -ne 0 ] || flunk "carol could read: $(ran)"
	local denied=${lines[0]}
	run as carol git ls-remote "$URL/nothing-here.git"
	[ "$status" -ne 0 ] || flunk "$(ran)"
	[ "${lines[0]}" = "${denied//demo.git/nothing-here.git}" ] ||
		flunk "the messages differ:" "$denied" "${lines[0]}"
	[[ $denied == "fatal: 'demo.git' does not appear to be a git repository you may access" ]] ||
		flunk "$denied"
}

@test "a repository readable only by alice is invisible to bob" {
	run as bob git ls-remote "$URL/secret.git"
	[ "$status" -ne 0 ] || flunk "$(ran)"
	[[ $output == *"does not appear to be a git repository you may access"* ]] || flunk "$(ran)"
	run as alice git ls-remote "$URL/secret.git"
	exit_status_is 0
}

@test "a glob rule and @all give read access to team/tools.git" {
	run as carol git ls-remote "$URL/team/tools.git"
	exit_status_is 0
}

@test "a symlink to a repository is refused like a missing one" {
	ln -s demo.git "$ROOT/link.git"
	run as alice git ls-remote "$URL/link.git"
	[ "$status" -ne 0 ] || flunk "the symlink was followed: $(ran)"
	[[ $output == *"'link.git' does not appear to be a git repository you may access"* ]] ||
		flunk "$(ran)"
	grep -q '"repo":"link' "$AUDIT" || flunk "no audit record"
}

@test "hostile commands are refused before anything runs" {
	local command
	for command in "git-upload-pack '../demo.git'" "git-upload-pack 'demo.git';id" \
		"git-upload-pack '--help'" "git upload-pack demo.git" "sh -c id" \
		"git-upload-pack 'demo.git' 'x'" 'git-upload-pack "demo.git"' \
		"git-upload-pack '~/demo.git'" "git config foo.bar baz"; do
		run sshd_ssh alice "$command" </dev/null
		[ "$status" -eq 125 ] || flunk "not refused: $command" "$(ran)"
		[[ ${lines[0]} == fatal:* ]] || flunk "no one-line fatal for: $command" "$(ran)"
		[[ $output != *uid=* ]] || flunk "a command ran: $command"
	done
	[ "$(grep -c '"verdict":"refused"' "$AUDIT")" -eq 9 ] || flunk "$(cat "$AUDIT")"
}

@test "a bare login lists what the user may reach, as gitolite's info does" {
	run sshd_ssh alice </dev/null
	exit_status_is 0
	[[ $output == *$' R W\tdemo\n'* ]] || flunk "$(ran)"
	[[ $output == *$' R  \tsecret\n'* ]] || flunk "$(ran)"
	[[ $output == *$' R W\tteam/tools'* ]] || flunk "$(ran)"
	run sshd_ssh carol </dev/null
	exit_status_is 0
	[[ $output != *demo* && $output != *secret* ]] || flunk "$(ran)"
}

@test "an unknown key is refused by sshd" {
	[ -f "$SSHD_DIR/mallory" ] || sshd_key mallory
	run as mallory git ls-remote "$URL/demo.git"
	[ "$status" -ne 0 ] || flunk "$(ran)"
	[[ $output == *"Permission denied"* ]] || flunk "$(ran)"
}

@test "every call leaves one audit record with user, service and repository" {
	as bob git ls-remote "$URL/demo.git" >/dev/null
	run cat "$AUDIT"
	[ "${#lines[@]}" -eq 1 ] || flunk "$(ran)"
	[[ $output == *'"user":"bob"'* && $output == *'"service":"git-upload-pack"'* ]] || flunk "$(ran)"
	[[ $output == *'"repo":"demo.git"'* && $output == *'"verdict":"ok"'* ]] || flunk "$(ran)"
	[[ $output == *'"client":"127.0.0.1 '* ]] || flunk "$(ran)"
}

@test "a broken config names file and line, to the client and in check-config" {
	printf '[server]\nrepositories = %s\nwirte = alice\n[limits]\ncpu = lots\n' "$ROOT" >"$SOURCE"
	trust "$SOURCE" >/dev/null
	run as alice git ls-remote "$URL/demo.git"
	[ "$status" -ne 0 ] || flunk "$(ran)"
	[[ $output == *"$CONF:3:"* ]] || flunk "$(ran)"
	run "$GITCAGE" --config "$CONF" check-config
	exit_status_is 125
	[[ $output == *"$CONF:3:"* && $output == *"$CONF:5:"* ]] || flunk "not every error: $(ran)"
}

@test "a world-writable config is refused" {
	trust "$SOURCE" 0666 >/dev/null
	run as alice git ls-remote "$URL/demo.git"
	[ "$status" -ne 0 ] || flunk "$(ran)"
	[[ $output == *"fatal: $CONF: refusing this config file: others can write it (mode 0666)"* ]] ||
		flunk "$(ran)"
	[ ! -e "$AUDIT" ] || flunk "it ran: $(cat "$AUDIT")"
}

# ---- trust only what root controls: each refusal names the file and the reason ----

# check_config_refuses FILE REASON: check-config refuses FILE with exactly that reason.
check_config_refuses() {
	run "$GITCAGE" --config "$1" check-config
	exit_status_is 125
	[ "$output" = "gitcage: $1: refusing this config file: $2" ] || flunk "$(ran)"
}

@test "a config owned by the service account is refused, to the client too" {
	trust --as-user "$SOURCE" 0644 >/dev/null
	check_config_refuses "$CONF" "it belongs to uid $(id -u), not root"
	run as alice git ls-remote "$URL/demo.git"
	[ "$status" -ne 0 ] || flunk "$(ran)"
	[ "${lines[0]}" = "fatal: $CONF: refusing this config file: it belongs to uid $(id -u), not root" ] ||
		flunk "$(ran)"
	[ ! -e "$AUDIT" ] || flunk "it ran: $(cat "$AUDIT")"
}

@test "a config its group can write is refused" {
	trust "$SOURCE" 0664 >/dev/null
	check_config_refuses "$CONF" "group 0 can write it (mode 0664)"
}

@test "a config under a directory others can write is refused" {
	"$GITCAGE_ROOT/tools/trust" --dir "$BATS_TEST_TMPDIR" 0777
	check_config_refuses "$CONF" "others can write the directory ${CONF%/*} above it (mode 0777)"
}

@test "a config in the service account's own directory (under /tmp) is refused" {
	check_config_refuses "$SOURCE" "others can write the directory /tmp above it (mode 1777)"
}

@test "a config reached through a symbolic link is refused" {
	"$GITCAGE_ROOT/tools/trust" --link "$BATS_TEST_TMPDIR/link.conf" "$CONF"
	local link=${CONF%/*}/link.conf
	check_config_refuses "$link" "it is a symbolic link"
	"$GITCAGE_ROOT/tools/trust" --link "$BATS_TEST_TMPDIR/linked" "${CONF%/*}"
	check_config_refuses "${CONF%/*}/linked/gitcage.conf" \
		"a symbolic link is on its path: ${CONF%/*}/linked"
}

@test "hooks and a git program outside /usr that root does not control are refused" {
	mkdir "$BATS_TEST_TMPDIR/hooks"
	printf '#!/bin/sh\nexec /usr/bin/git "$@"\n' >"$BATS_TEST_TMPDIR/git"
	chmod 755 "$BATS_TEST_TMPDIR/git"
	printf '[server]\nrepositories = %s\nhooks = %s\ngit = %s\n' "$ROOT" \
		"$BATS_TEST_TMPDIR/hooks" "$BATS_TEST_TMPDIR/git" >"$SOURCE"
	trust "$SOURCE" >/dev/null
	run "$GITCAGE" --config "$CONF" check-config
	exit_status_is 125
	[ "${lines[0]}" = "gitcage: $BATS_TEST_TMPDIR/git: refusing this git program: others can write the directory /tmp above it (mode 1777)" ] ||
		flunk "$(ran)"
	[ "${lines[1]}" = "gitcage: $BATS_TEST_TMPDIR/hooks: refusing this hooks directory: others can write the directory /tmp above it (mode 1777)" ] ||
		flunk "$(ran)"
	# A root-owned copy of the program, and the hooks of this (root-owned) tree: accepted.
	local git
	git=$(trust "$BATS_TEST_TMPDIR/git")
	printf '[server]\nrepositories = %s\nhooks = %s\ngit = %s\naudit = %s\n' "$ROOT" \
		"$GITCAGE_ROOT/build/hooks" "$git" "$AUDIT" >"$SOURCE"
	trust "$SOURCE" >/dev/null
	run "$GITCAGE" --config "$CONF" check-config
	exit_status_is 0
	[ "${lines[-1]}" = "$CONF: ok" ] || flunk "$(ran)"
}

@test "gitcage keys prints restricted lines, and one line for TYPE BLOB" {
	mkdir -p "$BATS_TEST_TMPDIR/keys"
	cp "$SSHD_DIR/alice.pub" "$BATS_TEST_TMPDIR/keys/alice@laptop.pub"
	cp "$SSHD_DIR/bob.pub" "$BATS_TEST_TMPDIR/keys/bob.pub"
	run "$GITCAGE" --config "$CONF" keys
	exit_status_is 0
	[ "${#lines[@]}" -eq 2 ] || flunk "$(ran)"
	[[ ${lines[0]} == "restrict,command=\"$GITCAGE --config $CONF serve alice\" ssh-ed25519 "* ]] ||
		flunk "$(ran)"
	local type blob
	read -r type blob _ <"$SSHD_DIR/bob.pub"
	run "$GITCAGE" --config "$CONF" keys "$type" "$blob"
	exit_status_is 0
	[ "${#lines[@]}" -eq 1 ] && [[ $output == *"serve bob\""* ]] || flunk "$(ran)"
	read -r type blob _ <"$SSHD_DIR/carol.pub"
	run "$GITCAGE" --config "$CONF" keys "$type" "$blob"
	exit_status_is 1
	[ -z "$output" ] || flunk "$(ran)"
}

# sshd runs an AuthorizedKeysCommand only when it and every directory above it belong to root
# and nobody else can write them: tests/run-all stages such a copy when it starts as root.
@test "gitcage keys works as sshd's AuthorizedKeysCommand" {
	if [ -z "${GITCAGE_ROOT_OWNED:-}" ]; then
		skip "needs a root-owned copy of gitcage (GITCAGE_ROOT_OWNED), which tests/run-all stages when run as root"
	fi
	mkdir -p "$BATS_TEST_TMPDIR/keys"
	cp "$SSHD_DIR/alice.pub" "$BATS_TEST_TMPDIR/keys/alice.pub"
	local saved_dir=$SSHD_DIR saved_port=$SSHD_PORT
	# A second server whose only source of keys is gitcage keys %t %k.
	# shellcheck disable=SC2034 # read by sshd_start (tests/lib/sshd.bash)
	SSHD_EXTRA_CONFIG="AuthorizedKeysFile none
AuthorizedKeysCommand $GITCAGE_ROOT_OWNED --config $CONF keys %t %k
AuthorizedKeysCommandUser $(id -un)"
	sshd_start "$BATS_TEST_TMPDIR/sshd-keys"
	cp "$saved_dir/alice" "$saved_dir/bob" "$SSHD_DIR/"
	run as alice git ls-remote "ssh://$(id -un)@127.0.0.1:$SSHD_PORT/demo.git"
	local alice_status=$status alice_output=$output
	run as bob git ls-remote "ssh://$(id -un)@127.0.0.1:$SSHD_PORT/demo.git"
	local bob_status=$status log=$SSHD_DIR/sshd.log
	sshd_stop
	SSHD_DIR=$saved_dir SSHD_PORT=$saved_port
	[ "$alice_status" -eq 0 ] || flunk "alice was refused: $alice_output" "$(cat "$log")"
	[ "$bob_status" -ne 0 ] || flunk "bob's key is not in the key directory, yet he got in"
	grep -q '"user":"alice"' "$AUDIT" || flunk "no audit record for alice"
}

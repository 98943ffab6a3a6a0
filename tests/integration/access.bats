#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Access rules and the repository lifecycle through a real sshd with real git clients:
# gitcage access, deny rules on reads, info and help, wild repositories created with create
# and by a first push (and refused where no rule allows it), gitcage create, check-config.

load ../lib/common
load ../lib/sshd

setup_file() {
	sshd_setup_file
}

teardown_file() {
	sshd_stop
}

# alice and bob are @devs; alice may rewind demo, bob only fast-forward; mallory is denied
# even reads of secret; everyone may create u/THEIR-NAME/..., only alice scratch/...
setup() {
	ROOT=$BATS_TEST_TMPDIR/repos
	CONF=$BATS_TEST_TMPDIR/gitcage.conf
	AUDIT=$BATS_TEST_TMPDIR/audit.log
	KEYS=$BATS_TEST_TMPDIR/keys
	mkdir -p "$ROOT" "$KEYS"
	cat >"$CONF" <<-EOF
		[server]
		repositories = $ROOT
		audit = $AUDIT
		keys = $KEYS
		hooks = $GITCAGE_ROOT/build/hooks
		default-branch = trunk
		[limits]
		timeout = 60
		[group devs]
		members = alice bob
		[repo demo]
		RW+ = alice
		RW = bob
		R = @all
		[repo secret]
		deny-rules = yes
		- = mallory
		R = @all
		[repo ~u/CREATOR/..*]
		C = @all
		RW+ = CREATOR
		R = @devs
		[repo ~scratch/..*]
		C = alice
		RW+ = CREATOR
	EOF
	CONF=$(trust "$CONF")
	git init -q --bare "$ROOT/demo.git"
	git init -q --bare "$ROOT/secret.git"
	add_commits "$ROOT/demo.git" 2
	add_commits "$ROOT/secret.git" 1
	sshd_authorize_gitcage "$CONF" alice bob carol mallory
	URL="ssh://$(id -un)@127.0.0.1:$SSHD_PORT"
}

as() {
	local user=$1
	shift
	GIT_SSH_COMMAND=$(sshd_git_ssh_command "$user") "$@"
}

# rule_line TEXT: the config's line number of TEXT (for the file:line gitcage prints).
rule_line() {
	grep -nxF -- "$1" "$CONF" | cut -d: -f1
}

@test "gitcage access prints the deciding line and exits 0 or 1" {
	run "$GITCAGE" --config "$CONF" access alice demo + refs/heads/trunk
	exit_status_is 0
	[ "$output" = "allowed by $CONF:$(rule_line 'RW+ = alice'): RW+ = alice" ] || flunk "$(ran)"
	run "$GITCAGE" --config "$CONF" access bob demo + main
	exit_status_is 1
	[ "$output" = "denied: no rule for bob matched" ] || flunk "$(ran)"
	run "$GITCAGE" --config "$CONF" access bob demo W main
	exit_status_is 0
	run "$GITCAGE" --config "$CONF" access mallory secret R
	exit_status_is 1
	[ "$output" = "denied by $CONF:$(rule_line '- = mallory'): - = mallory" ] || flunk "$(ran)"
	run "$GITCAGE" --config "$CONF" access -q alice demo
	exit_status_is 0
	[ -z "$output" ] || flunk "-q printed: $(ran)"
	run "$GITCAGE" --config "$CONF" access carol u/alice/new ^C
	exit_status_is 1
	[[ $output == "denied: u/alice/new does not exist, and carol may not create it" ]] ||
		flunk "$(ran)"
	run "$GITCAGE" --config "$CONF" access alice demo X
	exit_status_is 125
	[[ $output == *"unknown permission 'X'"* ]] || flunk "$(ran)"
}

@test "a deny rule refuses a fetch where deny-rules is set, and others still fetch" {
	run as mallory git ls-remote "$URL/secret.git"
	[ "$status" -ne 0 ] || flunk "mallory read secret: $(ran)"
	[[ $output == *"'secret.git' does not appear to be a git repository you may access"* ]] ||
		flunk "$(ran)"
	run as bob git ls-remote "$URL/secret.git"
	exit_status_is 0
	[[ $output == *refs/heads/* ]] || flunk "$(ran)"
	run as mallory git ls-remote "$URL/demo.git" # no deny-rules there: @all reads
	exit_status_is 0
}

# As gitolite's: a pattern's columns come from rules for the user, @groups and @all (CREATOR
# is nobody yet), so alice may create under scratch/ but has no R there until she has.
@test "info lists the patterns and the repositories a user may reach, sorted, each once" {
	run as alice sshd_ssh alice info
	exit_status_is 0
	local expected
	expected=$(printf '%s\n' "hello alice, this is gitcage $("$GITCAGE" --version | cut -d' ' -f2)" "" \
		"$(printf '     C\t~scratch/..*')" "$(printf ' R   C\t~u/CREATOR/..*')" \
		"$(printf ' R W\tdemo')" "$(printf ' R  \tsecret')")
	[ "$output" = "$expected" ] || flunk "expected:" "$expected" "$(ran)"
	run as mallory sshd_ssh mallory info
	[[ $output != *secret* ]] || flunk "mallory sees secret: $(ran)"
	[[ $output == *$'\tdemo'* ]] || flunk "$(ran)"
}

@test "a bare login prints info, and help lists the commands" {
	run as bob sshd_ssh bob
	exit_status_is 0
	[[ ${lines[0]} == "hello bob, this is gitcage "* && $output == *$' R W\tdemo'* ]] ||
		flunk "$(ran)"
	run as bob sshd_ssh bob help
	exit_status_is 0
	[[ $output == *"create NAME"* && $output == *"info"* ]] || flunk "$(ran)"
	run as bob sshd_ssh bob help me
	[ "$status" -ne 0 ] || flunk "$(ran)"
}

@test "create makes a wild repository where a C rule allows it, with its creator" {
	run as carol sshd_ssh carol create u/carol/notes
	exit_status_is 0
	local repo=$ROOT/u/carol/notes.git
	[ "$(git --git-dir="$repo" symbolic-ref HEAD)" = refs/heads/trunk ] || flunk "HEAD"
	[ "$(git --git-dir="$repo" rev-parse --is-bare-repository)" = true ] || flunk "not bare"
	[ "$(cat "$repo/gl-creator")" = carol ] || flunk "creator: $(cat "$repo/gl-creator")"
	[ "$(stat -c %u "$repo")" = "$(id -u)" ] || flunk "not owned by the service account"
	[ ! -e "$repo/hooks" ] || [ -z "$(ls -A "$repo/hooks")" ] || flunk "template hooks"
	# CREATOR: carol pushes to it; bob (@devs) reads it; mallory does not see it.
	work=$BATS_TEST_TMPDIR/work
	git init -q -b trunk "$work" && git -C "$work" commit -q --allow-empty -m first
	run as carol git -C "$work" push -q "$URL/u/carol/notes" trunk
	exit_status_is 0
	[ "$(git --git-dir="$repo" rev-parse trunk)" = "$(git -C "$work" rev-parse trunk)" ] ||
		flunk "the push did not land"
	run as bob git ls-remote "$URL/u/carol/notes"
	exit_status_is 0
	run as mallory git ls-remote "$URL/u/carol/notes"
	[ "$status" -ne 0 ] || flunk "$(ran)"
}

@test "create is refused where no rule allows it and for a repository that exists" {
	run as carol sshd_ssh carol create u/alice/x
	[ "$status" -ne 0 ] || flunk "$(ran)"
	[[ $output == *"the repository exists or you may not create it"* ]] || flunk "$(ran)"
	run as bob sshd_ssh bob create scratch/x
	[ "$status" -ne 0 ] || flunk "$(ran)"
	run as alice sshd_ssh alice create demo
	[[ $output == *"the repository exists or you may not create it"* ]] || flunk "$(ran)"
	run as alice sshd_ssh alice create "u/alice/../../x"
	[ "$status" -ne 0 ] || flunk "$(ran)"
	[ ! -e "$ROOT/u/alice" ] && [ ! -e "$ROOT/scratch" ] || flunk "$(find "$ROOT" -maxdepth 2)"
	[ "$(git --git-dir="$ROOT/demo.git" rev-list --count HEAD)" = 2 ] || flunk "demo changed"
}

@test "a first push creates a wild repository where allowed, and nothing where not" {
	work=$BATS_TEST_TMPDIR/work
	git init -q -b trunk "$work" && git -C "$work" commit -q --allow-empty -m first
	run as alice git -C "$work" push -q "$URL/scratch/pushed" trunk
	exit_status_is 0
	[ "$(git --git-dir="$ROOT/scratch/pushed.git" rev-parse trunk)" = \
		"$(git -C "$work" rev-parse trunk)" ] || flunk "not created with the commit"
	[ "$(cat "$ROOT/scratch/pushed.git/gl-creator")" = alice ] || flunk "creator"
	run as bob git -C "$work" push -q "$URL/scratch/bobs" trunk
	[ "$status" -ne 0 ] || flunk "$(ran)"
	[[ $output == *"does not appear to be a git repository you may access"* ]] || flunk "$(ran)"
	[ ! -e "$ROOT/scratch/bobs.git" ] || flunk "created for bob"
	# A fetch never creates one.
	run as alice git ls-remote "$URL/scratch/fetched"
	[ "$status" -ne 0 ] && [ ! -e "$ROOT/scratch/fetched.git" ] || flunk "$(ran)"
}

@test "gitcage create: a bare repository with HEAD on default-branch, owner as creator" {
	run "$GITCAGE" --config "$CONF" create team/tools --owner bob
	exit_status_is 0
	[ "$output" = "created team/tools.git" ] || flunk "$(ran)"
	[ "$(git --git-dir="$ROOT/team/tools.git" symbolic-ref HEAD)" = refs/heads/trunk ] || flunk
	[ "$(cat "$ROOT/team/tools.git/gl-creator")" = bob ] || flunk "creator"
	run "$GITCAGE" --config "$CONF" create team/tools
	exit_status_is 125
	[[ $output == *"team/tools.git exists already"* ]] || flunk "$(ran)"
	run "$GITCAGE" --config "$CONF" create demo.git/inner
	exit_status_is 125
	[[ $output == *"inside the repository demo.git"* ]] || flunk "$(ran)"
	[ ! -e "$ROOT/demo.git/inner.git" ] || flunk "created inside demo.git"
	run "$GITCAGE" --config "$CONF" create ../outside
	exit_status_is 125
	[ ! -e "$BATS_TEST_TMPDIR/outside.git" ] || flunk "created outside the root"
	run "$GITCAGE" --config "$CONF" create x --owner '-bad'
	exit_status_is 125
}

@test "check-config and verify name a repository that cannot be served" {
	git init -q --bare "$ROOT/borrowed.git"
	echo "$ROOT/demo.git" >"$ROOT/borrowed.git/commondir"
	run "$GITCAGE" --config "$CONF" check-config
	exit_status_is 125
	[[ $output == *"$CONF: repository borrowed.git cannot be served: has a commondir file"* ]] ||
		flunk "$(ran)"
	run "$GITCAGE" --config "$CONF" verify "$ROOT/borrowed.git" "$ROOT/demo.git"
	exit_status_is 1
	[[ $output == *"$ROOT/borrowed.git: cannot be served: has a commondir file"* ]] ||
		flunk "$(ran)"
	[[ $output != *"demo.git: cannot be served"* ]] || flunk "$(ran)"
	rm "$ROOT/borrowed.git/commondir"
	run "$GITCAGE" --config "$CONF" check-config
	exit_status_is 0
	[[ $output == *"$CONF: ok" && $output != *"cannot be served"* ]] || flunk "$(ran)"
}

@test "keys: subdirectories, gitolite's names, and what is refused, each named by check-config" {
	mkdir -p "$KEYS/laptops" "$KEYS/open"
	cp "$SSHD_DIR/alice.pub" "$KEYS/laptops/alice@laptop.pub"
	cp "$SSHD_DIR/bob.pub" "$KEYS/bob@example.com.pub"
	cp "$SSHD_DIR/carol.pub" "$KEYS/carol.pub"
	cp "$SSHD_DIR/carol.pub" "$KEYS/mallory.pub" # one key, two users: refused for both
	cp "$SSHD_DIR/mallory.pub" "$KEYS/eve.pub" && chmod g+w "$KEYS/eve.pub"
	cp "$SSHD_DIR/mallory.pub" "$KEYS/open/frank.pub" && chmod o+w "$KEYS/open"
	printf 'ssh-ed25519 %*s\n' 70000 A | tr ' ' A >"$KEYS/long.pub"
	run "$GITCAGE" --config "$CONF" keys
	exit_status_is 0
	local users
	users=$(grep -o 'serve [^"]*"' <<<"$output" | sort | tr '\n' ' ')
	[ "$users" = 'serve alice" serve bob@example.com" ' ] || flunk "users: $users" "$(ran)"
	[[ $output == *"carol.pub: its ssh-ed25519 key is also another user's"* ]] || flunk "$(ran)"
	# Warnings: those users cannot log in, and serve works for the others.
	run "$GITCAGE" --config "$CONF" check-config
	exit_status_is 0
	for expected in "carol.pub: its ssh-ed25519 key is also another user's" \
		"mallory.pub: its ssh-ed25519 key is also another user's" \
		"eve.pub: writable by group or others: refused" \
		"open/: writable by group or others: refused with every key in it" \
		"long.pub:1: a line of 70012 bytes (at most 65536): refused whole"; do
		[[ $output == *"$CONF: warning: keys: $expected"* ]] || flunk "missing: $expected" "$(ran)"
	done
}

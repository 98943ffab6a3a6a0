# SPDX-License-Identifier: ISC
# Helpers shared by the bats tests: where the binaries are, temporary repositories, running
# gitcage, and checking the probe's verdicts. Load with `load ../lib/common`.
# shellcheck shell=bash

bats_require_minimum_version 1.5.0

GITCAGE_ROOT=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
GITCAGE=${GITCAGE:-$GITCAGE_ROOT/build/gitcage}
PROBE=${PROBE:-$GITCAGE_ROOT/build/tests/probe}

# git behaves the same whatever the developer's own configuration says.
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
export GIT_AUTHOR_NAME="gitcage tests" GIT_AUTHOR_EMAIL=tests@gitcage.invalid
export GIT_COMMITTER_NAME="gitcage tests" GIT_COMMITTER_EMAIL=tests@gitcage.invalid

# Fail the current test; bats shows the lines.
flunk() {
	printf '# %s\n' "$@" >&2
	return 1
}

# The last `run`'s status and output, for a failure message.
# shellcheck disable=SC2154 # bats' run sets status and output
ran() {
	printf 'exit %s, output:\n%s' "$status" "$output"
}

require_unprivileged() {
	[ "$(id -u)" -ne 0 ] ||
		flunk "these tests run as an unprivileged user: use tests/run-all, which switches to gitcage-test"
}

require_built() {
	[ -x "$GITCAGE" ] || flunk "$GITCAGE is missing: run make tests"
	[ -x "$PROBE" ] || flunk "$PROBE is missing: run make tests"
}

# trust FILE [MODE]: the path of a root-owned copy of FILE, made again at each call (default mode
# 0755 for an executable, else 0644). gitcage trusts a config, a hooks directory or a git
# program outside /usr only when root owns it and every directory above it; the tests run as
# an ordinary user, so tools/as-test-user stages such copies for them (tools/trust).
trust() {
	"$GITCAGE_ROOT/tools/trust" "$@" || flunk "could not stage a root-owned copy of $1"
}

# trusted_path FILE: where trust puts FILE's root-owned copy, before it exists.
trusted_path() {
	printf '%s/files%s\n' "${GITCAGE_TRUST_DIR:?run the tests through tools/as-test-user}" \
		"$(realpath -m -- "$1")"
}

# write_config FILE TIMEOUT: a config with only a timeout; gitcage refuses a config others can
# write.
write_config() {
	printf '[limits]\ntimeout = %s\n' "$2" >"$1"
	chmod 600 "$1"
}

# make_bare_repo NAME: an empty bare repository under the test's temporary directory.
make_bare_repo() {
	local dir=$BATS_TEST_TMPDIR/$1
	git init -q --bare "$dir"
	printf '%s\n' "$dir"
}

# add_commits REPO N: N commits on the repository's HEAD branch, made in a throwaway work tree.
add_commits() {
	local repo=$1 count=$2 work i
	work=$(mktemp -d "$BATS_TEST_TMPDIR/work.XXXXXX")
	git clone -q "$repo" "$work" 2>/dev/null
	for ((i = 1; i <= count; i++)); do
		printf 'line %s\n' "$i" >>"$work/file.txt"
		git -C "$work" add file.txt
		git -C "$work" commit -q -m "commit $i"
	done
	git -C "$work" push -q origin HEAD
	rm -rf "$work"
}

# cage ARG...: gitcage run with the test's config (a generous timeout, so a hung command cannot
# hang the suite).
cage() {
	"$GITCAGE" --config "$CONFIG" run "$@"
}

# The per-test setup of the sandbox tests: a config, a bare repository $REPO, and the probe
# copied into it. The copy is what runs inside: the repository is visible there at its own
# path, while the directory the tests run from is not.
sandbox_setup() {
	require_unprivileged
	require_built
	CONFIG=$BATS_TEST_TMPDIR/gitcage.conf
	write_config "$CONFIG" 60
	REPO=$(make_bare_repo repo.git)
	cp "$PROBE" "$REPO/probe"
}

# probe_inside [--writable] ATTEMPT [ARG...]: the probe in the sandbox, on $REPO.
probe_inside() {
	local writable=()
	if [ "$1" = --writable ]; then
		writable=(--writable)
		shift
	fi
	run cage --repo "$REPO" "${writable[@]}" -- "$REPO/probe" "$@"
}

# probe_outside ATTEMPT [ARG...]: the same probe without the sandbox (the controls).
probe_outside() {
	run "$REPO/probe" "$@"
}

expect_blocked() {
	if [ "$status" -ne 0 ] || [[ $output != *BLOCKED:* ]]; then
		flunk "expected exit 0 and BLOCKED; got $(ran)"
	fi
}

expect_escaped() {
	if [ "$status" -ne 1 ] || [[ $output != *ESCAPED:* ]]; then
		flunk "expected exit 1 and ESCAPED; got $(ran)"
	fi
}

# After expect_blocked on a write: the refusal must be the read-only mount's or the
# permission's, not a missing path.
expect_write_refused() {
	expect_blocked
	if [[ $output != *'(EROFS)'* && $output != *'(EACCES)'* ]]; then
		flunk "expected EROFS or EACCES; got $(ran)"
	fi
}

# attempt_blocked ATTEMPT [ARG...]: the escape fails inside the sandbox.
attempt_blocked() {
	probe_inside "$@"
	expect_blocked
}

# attempt_escapes_outside ATTEMPT [ARG...]: the control. The same probe succeeds (or gets past
# where the filter should stop it) outside, so a BLOCKED inside means something.
attempt_escapes_outside() {
	probe_outside "$@"
	expect_escaped
}

# control_unless_kernel_refuses REASON ATTEMPT [ARG...]: a control for a call that some kernels
# refuse to unprivileged callers before they look at the arguments. There, the probe cannot show
# anything outside the sandbox, and the control skips, saying why.
control_unless_kernel_refuses() {
	local reason=$1
	shift
	probe_outside "$@"
	if [ "$status" -eq 0 ] && [[ $output == *BLOCKED:*'(EPERM)'* ]]; then
		skip "$reason: $output"
	fi
	expect_escaped
}

# in_namespaces SETUP COMMAND [ARG...]: SETUP (sh) runs as root of a new user and mount
# namespace, where it may mount over what a test must hide or show of the host; COMMAND then
# runs in a user namespace nested inside, as the test user again (gitcage refuses root). There,
# files of every other owner, root's included, appear owned by nobody (65534).
in_namespaces() {
	local setup=$1
	shift
	# shellcheck disable=SC2016 # expanded by the inner shell
	unshare --user --map-root-user --mount sh -c "$setup"'
		uid=$0 gid=$1
		shift
		exec unshare --user --map-user="$uid" --map-group="$gid" -- "$@"' \
		"$(id -u)" "$(id -g)" "$@"
}

# private_dev_script DIR [SOCKET]: a sh script for in_namespaces that gives the namespace a /dev
# of its own, whatever the host has at /dev/log: a tmpfs at DIR (which must exist) with the
# host's null, zero, full, random, urandom and tty bound in, and with SOCKET, that unix socket
# as /dev/log.
private_dev_script() {
	local dir=$1 socket=${2:-}
	printf 'set -e\nmount -t tmpfs tmpfs %s\n' "$dir"
	printf 'for node in null zero full random urandom tty; do\n'
	# shellcheck disable=SC2016 # $node is the script's own variable
	printf '\ttouch %s/$node\n\tmount --bind /dev/$node %s/$node\ndone\n' "$dir" "$dir"
	if [ -n "$socket" ]; then
		printf 'touch %s/log\nmount --bind %s %s/log\n' "$dir" "$socket" "$dir"
	fi
	printf 'mount --rbind %s /dev\n' "$dir"
}

# exit_status_is N: the last run's exit status.
exit_status_is() {
	[ "$status" -eq "$1" ] || flunk "expected exit $1; got $(ran)"
}

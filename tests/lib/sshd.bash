# SPDX-License-Identifier: ISC
# A throwaway OpenSSH server for the tests, run as the current (non-root) user on 127.0.0.1.
# Load with `load ../lib/sshd`, then:
#   sshd_start [DIR]                  host key, config and server; sets SSHD_DIR and SSHD_PORT
#   sshd_add_key NAME COMMAND         a client key NAME whose logins run COMMAND (forced)
#   sshd_ssh NAME ARG...              ssh with that key to the server
#   sshd_git_ssh_command NAME         the GIT_SSH_COMMAND for that key
#   sshd_stop                         kill the server
# Everything lives in DIR (default: the test's temporary directory); nothing of ~/.ssh is used.
# shellcheck shell=bash

SSHD_BIN=${SSHD_BIN:-/usr/sbin/sshd} # sshd re-executes itself, so the path must be absolute

# SSHD_EXTRA_CONFIG, if set, goes first: for sshd the first value of a keyword wins.
# SSHD_LAUNCHER, if set, is a command line that sshd_start runs sshd through (tools/trust
# --private-dev - --, for a server whose sessions see no /dev/log).
_sshd_write_config() {
	printf '%s\n' "${SSHD_EXTRA_CONFIG:-}" >"$SSHD_DIR/sshd_config"
	cat >>"$SSHD_DIR/sshd_config" <<-EOF
		ListenAddress 127.0.0.1:$SSHD_PORT
		HostKey $SSHD_DIR/host_ed25519
		PidFile $SSHD_DIR/sshd.pid
		AuthorizedKeysFile $SSHD_DIR/authorized_keys
		AuthenticationMethods publickey
		PubkeyAuthentication yes
		PasswordAuthentication no
		KbdInteractiveAuthentication no
		PermitRootLogin no
		AllowUsers $(id -un)
		UsePAM no
		StrictModes no
		UseDNS no
		PrintMotd no
		PrintLastLog no
		AcceptEnv GIT_PROTOCOL
		ExposeAuthInfo yes
		DisableForwarding yes
		PermitTTY no
		LogLevel VERBOSE
	EOF
}

# 0 once the server listens; 1 if it gave up (the port was taken, or a bad config).
_sshd_wait_ready() {
	local i
	for ((i = 0; i < 100; i++)); do
		[ -s "$SSHD_DIR/sshd.pid" ] && grep -q 'Server listening' "$SSHD_DIR/sshd.log" && return 0
		grep -qE 'Cannot bind|fatal|[Ee]rror' "$SSHD_DIR/sshd.log" 2>/dev/null && return 1
		sleep 0.05
	done
	return 1
}

sshd_start() {
	local attempt
	SSHD_DIR=${1:-$BATS_TEST_TMPDIR/sshd}
	mkdir -p "$SSHD_DIR"
	chmod 700 "$SSHD_DIR"
	ssh-keygen -q -t ed25519 -N '' -C gitcage-test-host -f "$SSHD_DIR/host_ed25519"
	: >"$SSHD_DIR/authorized_keys"
	# A random port; if it is taken, sshd says so in its log and the next one is tried.
	for ((attempt = 0; attempt < 10; attempt++)); do
		SSHD_PORT=$((20000 + RANDOM % 40000))
		_sshd_write_config
		rm -f "$SSHD_DIR/sshd.pid" "$SSHD_DIR/sshd.log"
		# shellcheck disable=SC2086 # SSHD_LAUNCHER is a command line of words
		${SSHD_LAUNCHER:-} "$SSHD_BIN" -f "$SSHD_DIR/sshd_config" -E "$SSHD_DIR/sshd.log" \
			</dev/null 3>&- || break
		if _sshd_wait_ready; then
			printf '[127.0.0.1]:%s %s\n' "$SSHD_PORT" \
				"$(cut -d' ' -f1,2 "$SSHD_DIR/host_ed25519.pub")" >"$SSHD_DIR/known_hosts"
			export SSHD_DIR SSHD_PORT
			return 0
		fi
		sshd_stop
	done
	printf '# sshd did not start; its log:\n' >&2
	sed 's/^/#   /' "$SSHD_DIR/sshd.log" >&2 2>/dev/null || true
	return 1
}

# sshd_add_key NAME COMMAND: a new client key $SSHD_DIR/NAME, authorized with restrict and the
# forced command COMMAND (double quotes in it are escaped for authorized_keys).
sshd_add_key() {
	local name=$1 command=${2//\"/\\\"}
	ssh-keygen -q -t ed25519 -N '' -C "gitcage-test-$name" -f "$SSHD_DIR/$name"
	printf 'restrict,command="%s" %s\n' "$command" "$(cat "$SSHD_DIR/$name.pub")" \
		>>"$SSHD_DIR/authorized_keys"
}

# sshd_key NAME: a client key that is not authorized (for refusal tests).
sshd_key() {
	ssh-keygen -q -t ed25519 -N '' -C "gitcage-test-$1" -f "$SSHD_DIR/$1"
}

# The ssh command line for key NAME, one word per line (paths hold no spaces or newlines).
_sshd_ssh_words() {
	printf '%s\n' ssh -F /dev/null -i "$SSHD_DIR/$1" \
		-o "UserKnownHostsFile=$SSHD_DIR/known_hosts" -o StrictHostKeyChecking=yes \
		-o IdentitiesOnly=yes -o BatchMode=yes -o LogLevel=ERROR -p "$SSHD_PORT"
}

# sshd_git_ssh_command NAME: a value for GIT_SSH_COMMAND (git runs it through the shell).
sshd_git_ssh_command() {
	local words
	mapfile -t words < <(_sshd_ssh_words "$1")
	printf '%q ' "${words[@]}"
	printf '\n'
}

# sshd_ssh NAME ARG...: ssh to the server with key NAME, as the current user.
sshd_ssh() {
	local words
	mapfile -t words < <(_sshd_ssh_words "$1")
	shift
	"${words[@]}" 127.0.0.1 "$@"
}

sshd_stop() {
	local pid i
	pid=$(cat "$SSHD_DIR/sshd.pid" 2>/dev/null) || return 0
	kill "$pid" 2>/dev/null || true
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	rm -f "$SSHD_DIR/sshd.pid"
}

# For a test file's setup_file: the unprivileged user, a built gitcage and its guard, and one
# server for the whole file (SSHD_DIR and SSHD_PORT reach every test), with client keys for
# the names given. teardown_file calls sshd_stop.
sshd_setup_file() {
	local name
	require_unprivileged
	[ -x "$GITCAGE" ] || flunk "$GITCAGE is missing: run make tests"
	[ -x "$(dirname "$GITCAGE")/gitcage-guard" ] || flunk "gitcage-guard is missing: run make tests"
	sshd_start "$BATS_FILE_TMPDIR/sshd"
	for name in "$@"; do
		sshd_key "$name"
	done
}

# sshd_authorize_gitcage CONF USER...: authorized_keys holds exactly these users' keys, each
# forced through `gitcage --config CONF serve USER`, as `gitcage keys` would write them.
sshd_authorize_gitcage() {
	local conf=$1 user
	shift
	: >"$SSHD_DIR/authorized_keys"
	for user in "$@"; do
		[ -f "$SSHD_DIR/$user" ] || sshd_key "$user"
		printf 'restrict,command="%s --config %s serve %s" %s\n' "$GITCAGE" "$conf" "$user" \
			"$(cat "$SSHD_DIR/$user.pub")" >>"$SSHD_DIR/authorized_keys"
	done
}

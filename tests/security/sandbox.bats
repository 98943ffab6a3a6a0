#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Security tests of `gitcage run`: a probe (tests/security/probe.c) runs inside the sandbox and
# tries one way out per test; each must fail. Where it means something, a control runs the same
# probe outside and must succeed, which proves that the probe can tell.
# shellcheck disable=SC2030,SC2031 # bats runs each test in a subshell: that is the point

load ../lib/common

# Listeners on the host, for the network tests: started once, for the whole file.
start_listener() {
	local log=$BATS_FILE_TMPDIR/$1.log i
	shift
	"$PROBE" "$@" >"$log" 2>&1 3>&- &
	echo "$!" >>"$BATS_FILE_TMPDIR/listeners.pid"
	for ((i = 0; i < 50; i++)); do
		grep -q '^LISTENING' "$log" && return 0
		sleep 0.1
	done
	return 1
}

setup_file() {
	[ -x "$PROBE" ] || return 0 # each test then says what is missing
	start_listener tcp4 listen-tcp 127.0.0.1 0 900 || true
	start_listener tcp6 listen-tcp ::1 0 900 || true
	ABSTRACT_NAME=gitcage-probe-$$-$RANDOM
	start_listener abstract listen-abstract "$ABSTRACT_NAME" 900 || true
	export ABSTRACT_NAME
}

teardown_file() {
	local pid
	[ -f "$BATS_FILE_TMPDIR/listeners.pid" ] || return 0
	while read -r pid; do
		kill "$pid" 2>/dev/null || true
	done <"$BATS_FILE_TMPDIR/listeners.pid"
}

setup() {
	sandbox_setup
}

teardown() {
	local file
	for file in "$BATS_TEST_TMPDIR"/daemon-alive "$REPO"/daemon-alive; do
		if [ -f "$file" ]; then
			kill "$(cat "$file")" 2>/dev/null || true
		fi
	done
	rm -f "${HOST_SECRET:-}"
}

# require_listener NAME: fails if that listener could not start; for ::1, a loud skip on a host
# without an IPv6 loopback.
require_listener() {
	local log=$BATS_FILE_TMPDIR/$1.log
	grep -q '^LISTENING' "$log" 2>/dev/null && return 0
	if [ "$1" = tcp6 ] && ! grep -qs '^0\{31\}1 ' /proc/net/if_inet6; then
		skip "this host has no IPv6 loopback (::1): $(cat "$log" 2>/dev/null)"
	fi
	flunk "the $1 listener did not start: $(cat "$log" 2>/dev/null)"
}

# listener_port NAME: the port a listener got.
listener_port() {
	awk '/^LISTENING/ { print $3; exit }' "$BATS_FILE_TMPDIR/$1.log"
}

accepted() {
	grep -c '^ACCEPTED' "$BATS_FILE_TMPDIR/$1.log" || true
}

# The pids of our own processes named probe-daemon (the probe's daemon sets that name).
daemon_pids() {
	local dir
	for dir in /proc/[0-9]*; do
		[ "$(cat "$dir/comm" 2>/dev/null)" = probe-daemon ] &&
			[ "$(stat -c %u "$dir" 2>/dev/null)" = "$(id -u)" ] && echo "${dir#/proc/}"
	done
	return 0
}

# ---- namespaces ----

@test "unshare(CLONE_NEWUSER) is blocked" {
	attempt_blocked unshare-user
}

@test "control: unshare(CLONE_NEWUSER) works outside the sandbox" {
	attempt_escapes_outside unshare-user
}

@test "unshare(CLONE_NEWNET) is blocked" {
	attempt_blocked unshare-net
}

@test "control: unshare(CLONE_NEWNET) reaches the kernel outside the sandbox" {
	attempt_escapes_outside unshare-net
}

@test "setns is blocked" {
	attempt_blocked setns
}

@test "control: setns reaches the kernel outside the sandbox" {
	attempt_escapes_outside setns
}

@test "clone(CLONE_NEWUSER) is blocked" {
	attempt_blocked clone-newuser
}

@test "control: clone(CLONE_NEWUSER) works outside the sandbox" {
	attempt_escapes_outside clone-newuser
}

@test "clone3 is blocked" {
	attempt_blocked clone3
}

@test "control: clone3(CLONE_NEWUSER) works outside the sandbox" {
	attempt_escapes_outside clone3
}

# ---- mounts ----

@test "mount (tmpfs on /tmp) is blocked" {
	attempt_blocked mount
}

@test "control: mount reaches the kernel outside the sandbox" {
	attempt_escapes_outside mount
}

@test "umount is blocked" {
	attempt_blocked umount
}

@test "control: umount reaches the kernel outside the sandbox" {
	attempt_escapes_outside umount
}

@test "pivot_root is blocked" {
	attempt_blocked pivot-root
}

@test "chroot is blocked" {
	attempt_blocked chroot
}

@test "control: chroot reaches the kernel outside the sandbox" {
	attempt_escapes_outside chroot
}

@test "fsopen is blocked" {
	attempt_blocked fsopen
}

@test "fsmount is blocked" {
	attempt_blocked fsmount
}

@test "fsconfig is blocked" {
	attempt_blocked fsconfig
}

@test "control: fsconfig reaches the kernel outside the sandbox" {
	attempt_escapes_outside fsconfig
}

@test "fspick is blocked" {
	attempt_blocked fspick
}

@test "open_tree is blocked" {
	attempt_blocked open-tree
}

@test "control: open_tree works outside the sandbox" {
	attempt_escapes_outside open-tree
}

@test "move_mount is blocked" {
	attempt_blocked move-mount
}

@test "mount_setattr is blocked" {
	attempt_blocked mount-setattr
}

@test "control: mount_setattr reaches the kernel outside the sandbox" {
	attempt_escapes_outside mount-setattr
}

# ---- the kernel's riskier surfaces ----

@test "keyctl is blocked" {
	attempt_blocked keyctl
}

@test "control: keyctl reaches the kernel outside the sandbox" {
	attempt_escapes_outside keyctl
}

@test "add_key is blocked" {
	attempt_blocked add-key
}

@test "control: add_key reaches the kernel outside the sandbox" {
	attempt_escapes_outside add-key
}

@test "request_key is blocked" {
	attempt_blocked request-key
}

@test "control: request_key reaches the kernel outside the sandbox" {
	attempt_escapes_outside request-key
}

@test "bpf is blocked" {
	attempt_blocked bpf
}

@test "control: bpf reaches the kernel outside the sandbox" {
	control_unless_kernel_refuses \
		"before Linux 6.5, kernel.unprivileged_bpf_disabled refuses bpf before reading it" bpf
}

@test "perf_event_open is blocked" {
	attempt_blocked perf-event-open
}

@test "control: perf_event_open reaches the kernel outside the sandbox" {
	attempt_escapes_outside perf-event-open
}

@test "userfaultfd is blocked" {
	attempt_blocked userfaultfd
}

@test "control: userfaultfd reaches the kernel outside the sandbox" {
	attempt_escapes_outside userfaultfd
}

@test "io_uring is blocked" {
	attempt_blocked io-uring
}

@test "control: io_uring reaches the kernel outside the sandbox" {
	attempt_escapes_outside io-uring
}

# ---- other processes ----

@test "ptrace is blocked" {
	attempt_blocked ptrace
}

@test "control: ptrace attaches to a child outside the sandbox" {
	local scope
	scope=$(cat /proc/sys/kernel/yama/ptrace_scope 2>/dev/null || echo 0)
	[ "$scope" -le 1 ] || skip "Yama's ptrace_scope is $scope here: ptrace is refused outside too"
	attempt_escapes_outside ptrace
}

@test "process_vm_readv is blocked" {
	attempt_blocked process-vm-readv
}

@test "control: process_vm_readv reads a child outside the sandbox" {
	attempt_escapes_outside process-vm-readv
}

@test "process_vm_writev is blocked" {
	attempt_blocked process-vm-writev
}

@test "control: process_vm_writev writes a child outside the sandbox" {
	attempt_escapes_outside process-vm-writev
}

@test "kcmp is blocked" {
	attempt_blocked kcmp
}

@test "control: kcmp works outside the sandbox" {
	attempt_escapes_outside kcmp
}

@test "open_by_handle_at is blocked" {
	attempt_blocked open-by-handle-at
}

@test "control: open_by_handle_at reaches the kernel outside the sandbox" {
	control_unless_kernel_refuses \
		"before Linux 6.10, open_by_handle_at checks CAP_DAC_READ_SEARCH first" open-by-handle-at
}

# ---- modules, kexec, reboot, swap, accounting, quotas, the kernel log ----

@test "init_module is blocked" {
	attempt_blocked init-module
}

@test "finit_module is blocked" {
	attempt_blocked finit-module
}

@test "delete_module is blocked" {
	attempt_blocked delete-module
}

@test "kexec_load is blocked" {
	attempt_blocked kexec-load
}

@test "kexec_file_load is blocked" {
	attempt_blocked kexec-file-load
}

@test "reboot is blocked" {
	attempt_blocked reboot
}

@test "swapon is blocked" {
	attempt_blocked swapon
}

@test "swapoff is blocked" {
	attempt_blocked swapoff
}

@test "acct is blocked" {
	attempt_blocked acct
}

@test "quotactl is blocked" {
	attempt_blocked quotactl
}

@test "control: quotactl reaches the kernel outside the sandbox" {
	attempt_escapes_outside quotactl
}

@test "syslog is blocked" {
	attempt_blocked syslog
}

# ---- terminals and sockets ----

@test "ioctl TIOCSTI is blocked, also with the high 32 bits set" {
	attempt_blocked tiocsti
}

@test "control: ioctl TIOCSTI reaches the kernel outside the sandbox" {
	attempt_escapes_outside tiocsti
}

@test "ioctl TIOCLINUX is blocked, also with the high 32 bits set" {
	attempt_blocked tioclinux
}

@test "control: ioctl TIOCLINUX reaches the kernel outside the sandbox" {
	attempt_escapes_outside tioclinux
}

@test "socket(AF_PACKET) is blocked" {
	attempt_blocked af-packet
}

@test "control: socket(AF_PACKET) reaches the kernel outside the sandbox" {
	attempt_escapes_outside af-packet
}

# EPERM is the filter's answer: a kernel without the family would say EAFNOSUPPORT instead.
@test "socket(AF_VSOCK) is blocked by the filter" {
	attempt_blocked af-vsock
	[[ $output == *"(EPERM)"* ]] || flunk "not the filter's refusal: $(ran)"
}

@test "socket(AF_ALG) is blocked by the filter" {
	attempt_blocked af-alg
	[[ $output == *"(EPERM)"* ]] || flunk "not the filter's refusal: $(ran)"
}

@test "control: socket(AF_ALG) works outside the sandbox" {
	attempt_escapes_outside af-alg
}

# ---- personas ----

@test "a foreign persona is refused: ADDR_NO_RANDOMIZE, READ_IMPLIES_EXEC, high bits set" {
	attempt_blocked personality
	[[ $output == *"(EPERM)"* ]] || flunk "not the filter's refusal: $(ran)"
}

@test "control: a foreign persona is accepted outside the sandbox" {
	attempt_escapes_outside personality
}

@test "personality(PER_LINUX) and the query still work in the sandbox" {
	probe_inside persona-linux
	exit_status_is 0
	[[ $output == *"WORKS:"*"(persona 0)"* ]] || flunk "$(ran)"
}

# setarch -R is how a caller would hand the sandbox a persona without address randomization.
@test "an inherited persona is reset to PER_LINUX" {
	run setarch "$(uname -m)" -R cat /proc/self/personality
	[ "$output" = 00040000 ] || flunk "control: setarch -R did not set ADDR_NO_RANDOMIZE: $(ran)"
	# shellcheck disable=SC2153 # GITCAGE is common.bash's
	run setarch "$(uname -m)" -R "$GITCAGE" --config "$CONFIG" run -- cat /proc/self/personality
	exit_status_is 0
	[ "$output" = 00000000 ] || flunk "$(ran)"
}

# ---- foreign system call ABIs ----

@test "the x32 system call ABI is blocked" {
	attempt_blocked x32-syscall
}

@test "the i386 system call ABI (int \$0x80) is blocked" {
	attempt_blocked i386-int80
}

@test "control: the i386 system call ABI works outside the sandbox" {
	probe_outside i386-int80
	[[ $output != *"killed by SIGSEGV"* ]] ||
		skip "this kernel has no int \$0x80 entry (SIGSEGV outside the sandbox too): nothing to compare"
	expect_escaped
}

# ---- privileges ----

@test "no capabilities in any set" {
	attempt_blocked capabilities
}

@test "control: the bounding set is not empty outside the sandbox" {
	attempt_escapes_outside capabilities
}

@test "no_new_privs is set" {
	attempt_blocked no-new-privs
}

@test "control: no_new_privs is not set outside the sandbox" {
	attempt_escapes_outside no-new-privs
}

@test "the command is pid 1 and leads a session of its own" {
	probe_inside session
	[ "$status" -eq 0 ] && [[ $output == *"SESSION: leader (pid 1)"* ]] ||
		flunk "expected a session leader with pid 1; got $(ran)"
}

@test "control: the probe is not a session leader outside the sandbox" {
	probe_outside session
	[ "$status" -eq 1 ] && [[ $output == *"not leader"* ]] || flunk "got $(ran)"
}

@test "only the caller's uid and gid are mapped, each to itself" {
	run cage -- sh -c 'id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map'
	exit_status_is 0
	local expected
	expected=$(printf '%s\n%s\n%s %s 1\n%s %s 1' "$(id -u)" "$(id -g)" \
		"$(id -u)" "$(id -u)" "$(id -g)" "$(id -g)")
	[ "$(printf '%s\n' "$output" | awk '{ $1 = $1; print }')" = "$expected" ] ||
		flunk "expected:" "$expected" "got $(ran)"
}

@test "user, mount, pid, net, ipc, uts and cgroup namespaces are new" {
	local ns outside
	for ns in user mnt pid net ipc uts cgroup; do
		outside=$(readlink "/proc/self/ns/$ns")
		run cage -- readlink "/proc/self/ns/$ns"
		exit_status_is 0
		[ "$output" != "$outside" ] || flunk "the $ns namespace is the host's: $output"
	done
}

# ---- files ----

@test "a file in the host's /tmp cannot be read" {
	HOST_SECRET=$(mktemp /tmp/gitcage-secret.XXXXXX)
	echo secret >"$HOST_SECRET"
	attempt_blocked read-file "$HOST_SECRET"
}

@test "control: the host /tmp file can be read outside the sandbox" {
	HOST_SECRET=$(mktemp /tmp/gitcage-secret.XXXXXX)
	echo secret >"$HOST_SECRET"
	attempt_escapes_outside read-file "$HOST_SECRET"
}

@test "another repository cannot be read" {
	local other
	other=$(make_bare_repo other.git)
	attempt_blocked read-file "$other/config"
}

@test "control: the other repository can be read outside the sandbox" {
	local other
	other=$(make_bare_repo other.git)
	attempt_escapes_outside read-file "$other/config"
}

@test "a file next to the repository cannot be read" {
	attempt_blocked read-file "$CONFIG"
}

@test "control: the file next to the repository can be read outside the sandbox" {
	attempt_escapes_outside read-file "$CONFIG"
}

# HOME_INSIDE: the sandbox's HOME, which may be a fresh, empty directory such as /home.
home_inside() {
	# shellcheck disable=SC2016 # expanded inside the sandbox
	run --separate-stderr cage -- sh -c 'printf "%s\n" "$HOME"'
	exit_status_is 0
	HOME_INSIDE=$output
}

@test "the host's /home, /root, /srv, /var and /run are not there" {
	local dir
	home_inside
	for dir in /home /root /srv /var /run; do
		[[ $REPO != "$dir"/* ]] || continue # the repository's own path must exist
		if [ "$dir" = "$HOME_INSIDE" ]; then
			run cage -- ls -A "$dir"
			exit_status_is 0
			[ -z "$output" ] || flunk "$dir is HOME, and not empty: $output"
			continue
		fi
		attempt_blocked read-file "$dir"
	done
}

@test "the root holds the system directories, /dev, /proc, /tmp and HOME, nothing else" {
	local entry home_top
	home_inside
	home_top=${HOME_INSIDE#/}
	home_top=${home_top%%/*}
	run --separate-stderr cage -- ls -A /
	exit_status_is 0
	for entry in $output; do
		case $entry in
		bin | dev | etc | lib | lib32 | lib64 | libx32 | proc | sbin | tmp | usr) ;;
		"$home_top") ;;
		*) flunk "unexpected /$entry in the sandbox; / holds: $output" ;;
		esac
	done
}

@test "/usr cannot be written" {
	probe_inside write-file /usr/gitcage-probe
	expect_write_refused
	attempt_blocked writable-mount /usr
}

@test "/etc cannot be written" {
	probe_inside write-file /etc/gitcage-probe
	expect_write_refused
	attempt_blocked writable-mount /etc
}

@test "/bin, /sbin and /lib cannot be written" {
	local dir
	for dir in /bin /sbin /lib; do
		probe_inside write-file "$dir/gitcage-probe"
		expect_write_refused
	done
}

@test "/proc/sys is read-only" {
	probe_inside write-file /proc/sys/kernel/hostname
	expect_write_refused
	attempt_blocked writable-mount /proc/sys
}

@test "/proc/sysrq-trigger cannot be written" {
	attempt_blocked write-file /proc/sysrq-trigger # EROFS, EACCES, or ENOENT where it is hidden
}

@test "/dev holds only null, zero, full, random, urandom, tty and the fd links" {
	run cage -- ls -A /dev
	exit_status_is 0
	local listed
	listed=$(printf '%s\n' "$output" | LC_ALL=C sort | tr '\n' ' ')
	[ "$listed" = "fd full null random stderr stdin stdout tty urandom zero " ] ||
		flunk "/dev holds: $listed"
	run cage -- sh -c 'test -c /dev/null && test -c /dev/urandom &&
		echo x >/dev/null && head -c 3 /dev/zero | od -An -tx1'
	exit_status_is 0
	[[ $output == *"00 00 00"* ]] || flunk "the devices do not work: $(ran)"
}

@test "HOME is private, empty and writable" {
	# shellcheck disable=SC2016 # expanded inside the sandbox
	run cage -- sh -c 'cd "$HOME" && ls -A && touch probe-file && echo "HOME=$HOME"'
	exit_status_is 0
	[ "$output" = "${output#*$'\n'}" ] && [[ $output == HOME=/* ]] ||
		flunk "HOME is not empty or not set: $(ran)"
	[ "${output#HOME=}" != "$HOME" ] || flunk "HOME is the caller's own: $output"
}

@test "/tmp is private, empty and writable" {
	run cage -- sh -c 'ls -A /tmp && touch /tmp/probe-file && echo ok'
	exit_status_is 0
	[ "$output" = ok ] || flunk "/tmp is not empty: $(ran)"
}

# ---- the repository ----

@test "the repository is the working directory" {
	run --separate-stderr cage --repo "$REPO" -- pwd
	exit_status_is 0
	[ "$output" = "$REPO" ] || flunk "expected $REPO; got $(ran)"
}

@test "without --writable, the repository cannot be written" {
	probe_inside write-file "$REPO/gitcage-probe"
	expect_write_refused
	[ ! -e "$REPO/gitcage-probe" ] || flunk "the file appeared outside"
}

# The file is removed again in the same run: gitcage's guard undoes a file git would not add
# (and exits non-zero); run.bats shows that git's own writes stay.
@test "with --writable, the repository can be written" {
	run cage --repo "$REPO" --writable -- sh -c \
		"'$REPO/probe' write-file '$REPO/gitcage-probe'; rm '$REPO/gitcage-probe'"
	exit_status_is 0
	[[ $output == *"ESCAPED: write $REPO/gitcage-probe (wrote "* ]] ||
		flunk "the file could not be created: $(ran)"
	probe_inside --writable writable-mount "$REPO"
	expect_escaped
}

@test "with --writable, the repository's config cannot be written" {
	local before
	before=$(cksum <"$REPO/config")
	probe_inside --writable write-file "$REPO/config"
	expect_write_refused
	probe_inside --writable writable-mount "$REPO/config"
	expect_blocked
	[ "$(cksum <"$REPO/config")" = "$before" ] || flunk "config changed"
}

@test "with --writable, the repository's config cannot be replaced or removed" {
	local before
	before=$(cksum <"$REPO/config")
	run cage --repo "$REPO" --writable -- sh -c \
		'echo "[core] hooksPath = /tmp" >config.new; mv -f config.new config || rm -f config'
	[ "$(cksum <"$REPO/config")" = "$before" ] || flunk "config changed: $(ran)"
}

@test "with --writable, hooks/ cannot be written" {
	probe_inside --writable write-file "$REPO/hooks/pre-receive"
	expect_write_refused
	probe_inside --writable writable-mount "$REPO/hooks"
	expect_blocked
	[ ! -e "$REPO/hooks/pre-receive" ] || flunk "the hook appeared outside"
}

@test "with --writable, hooks/ cannot be replaced" {
	run cage --repo "$REPO" --writable -- sh -c \
		'mkdir hooks.new && echo evil >hooks.new/pre-receive && rm -rf hooks; mv hooks.new hooks'
	[ ! -e "$REPO/hooks/pre-receive" ] || flunk "a hook appeared outside: $(ran)"
}

@test "with --writable, info/ cannot be written" {
	probe_inside --writable write-file "$REPO/info/exclude"
	expect_write_refused
	probe_inside --writable writable-mount "$REPO/info"
	expect_blocked
}

@test "with --writable, objects/info/ (alternates) cannot be written" {
	probe_inside --writable write-file "$REPO/objects/info/alternates"
	expect_write_refused
	probe_inside --writable writable-mount "$REPO/objects/info"
	expect_blocked
	[ ! -e "$REPO/objects/info/alternates" ] || flunk "alternates appeared outside"
}

# Renaming objects/ aside would let git write a fresh objects/info/alternates next to it.
@test "with --writable, objects/ cannot be moved aside" {
	run cage --repo "$REPO" --writable -- sh -c 'mv objects objects.away'
	[ "$status" -ne 0 ] || flunk "objects/ was renamed: $(ran)"
	[[ $output == *"busy"* ]] || flunk "not refused as a mount point: $(ran)"
	[ -d "$REPO/objects/info" ] && [ ! -e "$REPO/objects.away" ] || flunk "objects/ moved outside"
}

# ---- network ----

@test "a listener on the host's 127.0.0.1 cannot be reached" {
	local port before
	require_listener tcp4
	port=$(listener_port tcp4)
	before=$(accepted tcp4)
	attempt_blocked connect-tcp 127.0.0.1 "$port"
	[ "$(accepted tcp4)" = "$before" ] || flunk "the listener accepted a connection"
}

@test "control: the 127.0.0.1 listener can be reached outside the sandbox" {
	require_listener tcp4
	attempt_escapes_outside connect-tcp 127.0.0.1 "$(listener_port tcp4)"
}

@test "a listener on the host's ::1 cannot be reached" {
	local port before
	require_listener tcp6
	port=$(listener_port tcp6)
	before=$(accepted tcp6)
	attempt_blocked connect-tcp ::1 "$port"
	[ "$(accepted tcp6)" = "$before" ] || flunk "the listener accepted a connection"
}

@test "control: the ::1 listener can be reached outside the sandbox" {
	require_listener tcp6
	attempt_escapes_outside connect-tcp ::1 "$(listener_port tcp6)"
}

@test "a host abstract unix socket cannot be reached" {
	require_listener abstract
	attempt_blocked connect-abstract "$ABSTRACT_NAME"
}

@test "control: the abstract unix socket can be reached outside the sandbox" {
	require_listener abstract
	attempt_escapes_outside connect-abstract "$ABSTRACT_NAME"
}

# ---- what the caller leaves open or set ----

@test "an environment variable the caller set is absent" {
	run env GITCAGE_PROBE_SECRET=leaked "$GITCAGE" --config "$CONFIG" run --repo "$REPO" -- \
		"$REPO/probe" env GITCAGE_PROBE_SECRET
	expect_blocked
}

@test "control: the variable is visible outside the sandbox" {
	run env GITCAGE_PROBE_SECRET=leaked "$REPO/probe" env GITCAGE_PROBE_SECRET
	expect_escaped
}

@test "the environment holds only PATH, HOME, LANG, LC_* and TERM" {
	run env -i PATH=/sbin:/usr/sbin:/usr/bin:/bin HOME=/nonexistent LANG=C.UTF-8 LC_ALL=C \
		TERM=dumb SSH_AUTH_SOCK=/tmp/agent GIT_DIR=/etc GIT_CONFIG_PARAMETERS="'x.y'='z'" \
		SSH_ORIGINAL_COMMAND=evil "$GITCAGE" --config "$CONFIG" run -- env
	exit_status_is 0
	local line
	while IFS= read -r line; do
		case ${line%%=*} in
		PATH) [ "$line" = PATH=/usr/local/bin:/usr/bin:/bin ] || flunk "wrong $line" ;;
		HOME) [ "$line" != HOME=/nonexistent ] || flunk "HOME is the caller's" ;;
		LANG | LC_* | TERM) ;;
		*) flunk "unexpected variable: $line" ;;
		esac
	done <<<"$output"
}

@test "a file descriptor the caller left open (5) is not inherited" {
	probe_inside fds 5<"$CONFIG"
	expect_blocked
}

@test "control: fd 5 is visible outside the sandbox" {
	probe_outside fds 5<"$CONFIG"
	expect_escaped
	[[ $output == *"5 -> "* ]] || flunk "fd 5 not listed: $output"
}

@test "a daemon does not outlive the command" {
	probe_inside --writable daemon "$REPO"
	[ "$status" -eq 0 ] && [[ $output == *STARTED:* ]] || flunk "the probe failed: $(ran)"
	sleep 4
	[ ! -e "$REPO/daemon-alive" ] || flunk "the daemon was alive after the command had exited"
	[ -z "$(daemon_pids)" ] || flunk "a probe-daemon process remains: $(daemon_pids)"
}

@test "control: the daemon survives outside the sandbox" {
	local i
	probe_outside daemon "$BATS_TEST_TMPDIR"
	[ "$status" -eq 0 ] && [[ $output == *STARTED:* ]] || flunk "the probe failed: $(ran)"
	for ((i = 0; i < 60; i++)); do
		[ -s "$BATS_TEST_TMPDIR/daemon-alive" ] && break
		sleep 0.1
	done
	[ -s "$BATS_TEST_TMPDIR/daemon-alive" ] || flunk "the daemon did not report"
	[ -n "$(daemon_pids)" ] || flunk "no probe-daemon process found"
}

# ---- limits and exit status ----

@test "the wall-clock timeout kills the command: exit 124" {
	write_config "$BATS_TEST_TMPDIR/short.conf" 2
	SECONDS=0
	run "$GITCAGE" --config "$BATS_TEST_TMPDIR/short.conf" run -- sleep 30
	exit_status_is 124
	[ "$SECONDS" -lt 10 ] || flunk "took $SECONDS s"
}

# cage_then_signal SIGNAL: a sandboxed `sleep` with a marker no other process has, then
# SIGNAL to gitcage itself; the sandbox must be gone within a few seconds.
cage_then_signal() {
	local marker=$((4000 + RANDOM % 1000)) i
	"$GITCAGE" --config "$CONFIG" run -- sleep "$marker" &
	local gitcage=$!
	for ((i = 0; i < 100; i++)); do
		pgrep -x -f "sleep $marker" >/dev/null && break
		sleep 0.05
	done
	pgrep -x -f "sleep $marker" >/dev/null || flunk "the sandboxed sleep never started"
	kill "-$1" "$gitcage"
	wait "$gitcage" || true
	for ((i = 0; i < 50; i++)); do
		pgrep -x -f "sleep $marker" >/dev/null || return 0
		sleep 0.1
	done
	pkill -x -f "sleep $marker" || true
	flunk "the sandbox outlived gitcage after SIG$1"
}

@test "the sandbox dies when gitcage is told to stop (SIGTERM)" {
	cage_then_signal TERM
}

# What sshd's session going away does: gitcage follows it with SIGHUP (PR_SET_PDEATHSIG).
@test "the sandbox dies when the ssh session goes (SIGHUP)" {
	cage_then_signal HUP
}

@test "the sandbox dies with gitcage, even killed outright (SIGKILL: no cleanup runs)" {
	cage_then_signal KILL
}

@test "the command's exit status passes through: exit 3 gives 3" {
	run cage -- sh -c 'exit 3'
	exit_status_is 3
}

# The command is pid 1 of its namespace, and the kernel drops a signal that pid 1 sends itself
# without a handler (`sh -c 'kill -TERM $$'` exits 0 there). A fault is forced even on pid 1.
@test "a command killed by a signal N gives 128+N (SIGSEGV: 139)" {
	probe_inside crash
	exit_status_is 139
}

@test "a command that is not found gives 127" {
	run -127 cage -- gitcage-no-such-command
	run -127 cage -- /nonexistent/gitcage-no-such-command
}

@test "a command that cannot be executed gives 126" {
	run cage --repo "$REPO" -- "$REPO/config"
	exit_status_is 126
}

@test "gitcage run refuses to run as root" {
	[ "$(id -u)" -eq 0 ] ||
		skip "runs as $(id -un), not root: tests/run-all checks this refusal when started as root"
	run "$GITCAGE" run -- true
	exit_status_is 125
	[[ $output == *root* ]] || flunk "no mention of root: $output"
}

# An installed gitcage (make install, the package) puts a config at the default path: the test
# hides the host's /etc/gitcage under an empty tmpfs, in a user and mount namespace of its own,
# so that the default is absent whatever this machine has installed.
@test "gitcage run works without a config file" {
	run in_namespaces '
		if [ -d /etc/gitcage ]; then mount -t tmpfs -o mode=0755 tmpfs /etc/gitcage || exit 90; fi
		[ ! -e /etc/gitcage/gitcage.conf ] || exit 91' \
		"$GITCAGE" run -- sh -c "echo ran"
	exit_status_is 0
	[ "$output" = ran ] || flunk "the command did not run: $(ran)"
}

# ---- without user namespaces ----
# Inside gitcage's own sandbox, clone() with namespace flags is refused: the same situation as a
# host that forbids unprivileged user namespaces. gitcage must say so in one line, and fail
# with its own status, not run the command unconfined.
# The inner gitcage gets a config of the test's own: without --config it would read the host's
# /etc/gitcage/gitcage.conf (bound in with /etc), which an installed gitcage provides, owned by a
# root that is nobody in the sandbox, and refuse that before it tried any namespace.
@test "without user namespaces, gitcage fails with one line and does not run the command" {
	cp "$GITCAGE" "$REPO/gitcage"
	cp -p "$CONFIG" "$REPO/inner.conf"
	run --separate-stderr cage --repo "$REPO" -- \
		"$REPO/gitcage" --config "$REPO/inner.conf" run -- echo unconfined
	exit_status_is 125
	# shellcheck disable=SC2154 # bats's run --separate-stderr sets them
	[ "${#stderr_lines[@]}" -eq 1 ] || flunk "not one line: $stderr"
	[[ $stderr == *"cannot create the sandbox's namespaces"* || $stderr == *"user namespaces"* ]] ||
		flunk "the cause is not named: $stderr"
	[[ $output != *unconfined* ]] || flunk "the command ran"
}

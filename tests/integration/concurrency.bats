#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Sessions at once, through a real sshd with real git clients. Sessions run concurrently; only
# publishing is serialized, under the repository's lock, and each ref changes only if it still
# holds what the session saw: two sessions never undo each other, and no client told "ok"
# loses its push.

load ../lib/common
load ../lib/sshd

CLIENTS=8

setup_file() {
	sshd_setup_file alice
}

teardown_file() {
	sshd_stop
}

setup() {
	ROOT=$BATS_TEST_TMPDIR/repos
	REPO=$ROOT/demo.git
	CONF=$BATS_TEST_TMPDIR/gitcage.conf
	AUDIT=$BATS_TEST_TMPDIR/audit.log
	BIN=$BATS_TEST_TMPDIR/bin
	mkdir -p "$ROOT" "$BIN"
	write_conf /usr/bin/git
	git init -q --bare -b main "$REPO"
	add_commits "$REPO" 1
	BASE=$(git -C "$REPO" rev-parse main)
	sshd_authorize_gitcage "$(trust "$CONF")" alice
	URL="ssh://$(id -un)@127.0.0.1:$SSHD_PORT/demo.git"
}

write_conf() {
	cat >"$CONF" <<-EOF
		[server]
		repositories = $ROOT
		git = $1
		audit = $AUDIT
		[limits]
		timeout = 120
		[repo demo.git]
		read = alice
		write = alice
	EOF
	trust "$CONF" >/dev/null
}

# clients: $CLIENTS clones, each with a commit of its own on main; COMMIT[i] its id.
make_clients() {
	local i
	COMMIT=()
	for ((i = 0; i < CLIENTS; i++)); do
		git clone -q "$REPO" "$BATS_TEST_TMPDIR/c$i" 2>/dev/null
		echo "client $i" >"$BATS_TEST_TMPDIR/c$i/client-$i"
		git -C "$BATS_TEST_TMPDIR/c$i" add "client-$i"
		git -C "$BATS_TEST_TMPDIR/c$i" commit -q -m "client $i"
		COMMIT[i]=$(git -C "$BATS_TEST_TMPDIR/c$i" rev-parse HEAD)
	done
}

# push_all ARG...: every client pushes at once (an argument may use %N for the client's number);
# STATUS[i] and the output in $BATS_TEST_TMPDIR/out$i.
push_all() {
	local i pids=() args
	for ((i = 0; i < CLIENTS; i++)); do
		args=("${@//%N/$i}")
		env GIT_SSH_COMMAND="$(sshd_git_ssh_command alice)" \
			git -C "$BATS_TEST_TMPDIR/c$i" push "${args[@]}" >"$BATS_TEST_TMPDIR/out$i" 2>&1 &
		pids+=($!)
	done
	STATUS=()
	for ((i = 0; i < CLIENTS; i++)); do
		STATUS[i]=0
		wait "${pids[i]}" || STATUS[i]=$?
	done
}

fsck_clean() {
	run git -C "$REPO" fsck --strict --no-dangling
	[[ $status -eq 0 && -z $output ]] || flunk "fsck: $(ran)"
}

no_scratch_left() {
	run find "$ROOT/.gitcage/sessions" -mindepth 1
	[ -z "$output" ] || flunk "sessions left behind: $output"
}

@test "$CLIENTS honest pushes to $CLIENTS refs at once all land" {
	make_clients
	push_all "$URL" "HEAD:refs/heads/b%N"
	local i
	for ((i = 0; i < CLIENTS; i++)); do
		[ "${STATUS[i]}" -eq 0 ] || flunk "client $i: $(cat "$BATS_TEST_TMPDIR/out$i")"
		[ "$(git -C "$REPO" rev-parse "b$i")" = "${COMMIT[i]}" ] || flunk "b$i is not client $i's"
	done
	[ "$(git -C "$REPO" rev-parse main)" = "$BASE" ] || flunk "main moved"
	fsck_clean
	no_scratch_left
}

# exactly_one_landed REF...: one client exited 0 and REF (the first) holds its commit; every
# other client was told its ref was rejected, in git's status line, and exited non-zero.
exactly_one_landed() {
	local i winners=0 winner=
	for ((i = 0; i < CLIENTS; i++)); do
		if [ "${STATUS[i]}" -eq 0 ]; then
			winners=$((winners + 1))
			winner=$i
		elif ! grep -qE '! \[(remote )?rejected\] +HEAD -> main' "$BATS_TEST_TMPDIR/out$i"; then
			flunk "client $i failed without a rejected status line: $(cat "$BATS_TEST_TMPDIR/out$i")"
		fi
	done
	[ "$winners" -eq 1 ] || flunk "$winners clients were told ok"
	[ "$(git -C "$REPO" rev-parse main)" = "${COMMIT[winner]}" ] ||
		flunk "the client told ok lost its push: $(cat "$BATS_TEST_TMPDIR/out$winner")"
	WINNER=$winner
}

@test "$CLIENTS pushes to the same ref at once: exactly one lands, the others are told" {
	make_clients
	push_all "$URL" HEAD:main
	exactly_one_landed
	fsck_clean
	no_scratch_left
}

@test "$CLIENTS atomic pushes of the same ref and one of their own: all of one lands, none of the others" {
	make_clients
	push_all --atomic "$URL" HEAD:main "HEAD:refs/heads/own%N"
	exactly_one_landed
	local i
	for ((i = 0; i < CLIENTS; i++)); do
		if [ "$i" -eq "$WINNER" ]; then
			[ "$(git -C "$REPO" rev-parse "own$i")" = "${COMMIT[i]}" ] || flunk "own$i is missing"
		else
			! git -C "$REPO" rev-parse -q --verify "own$i" >/dev/null ||
				flunk "own$i landed though its atomic push was refused"
		fi
	done
	fsck_clean
}

# The hostile session: a compromised git for the client that sends GIT_PROTOCOL=evil (sshd
# passes it on, and so does gitcage: it is well formed). It waits until the honest push has
# been published, asks the publisher itself to rewind main to what it saw and to delete the
# honest client's branch, as a compromised receive-pack could, then damages its view (HEAD,
# a ref linked to a file of the service account) and serves its own push.
arm_hostile() {
	cat >"$BIN/git" <<-EOF
		#!/bin/sh
		case "\$GIT_PROTOCOL:\$*" in *evil*receive-pack*) ;; *) exec /usr/bin/git "\$@" ;; esac
		for repo; do :; done
		cd "\$repo" || exit 1
		while [ ! -s $(trusted_path "$BIN/go") ]; do sleep 0.1; done
		honest=\$(cat $(trusted_path "$BIN/go"))
		pkt() { printf '%04x%s' \$((\${#1} + 4)) "\$1"; }
		{ pkt version=1; printf 0000; pkt "\$honest $BASE refs/heads/main"
		  pkt "\$honest 0000000000000000000000000000000000000000 refs/heads/honest"
		  printf 0000; printf 0000; } | $GITCAGE_ROOT/build/hooks/proc-receive 2>&1 | tr -d '\\000' >&2
		echo 'ref: refs/heads/evil' >HEAD
		ln -s $BATS_TEST_TMPDIR/victim refs/heads/victim
		exec /usr/bin/git "\$@"
	EOF
	chmod 755 "$BIN/git"
	write_conf "$(trust "$BIN/git")"
}

@test "a hostile session at the same time as honest pushes undoes, rewinds and launders nothing" {
	echo victim >"$BATS_TEST_TMPDIR/victim"
	arm_hostile
	make_clients
	local before
	before=$(cd "$REPO" && find . -printf '%y %m %p\n' | sort)
	env GIT_SSH_COMMAND="$(sshd_git_ssh_command alice) -o SetEnv=GIT_PROTOCOL=evil" \
		git -C "$BATS_TEST_TMPDIR/c0" push "$URL" HEAD:refs/heads/hostile >"$BATS_TEST_TMPDIR/hostile" 2>&1 &
	local hostile=$!
	# The hostile session has begun (its private directory exists) before the honest push.
	local i
	for ((i = 0; i < 100; i++)); do
		[ -n "$(ls "$ROOT/.gitcage/sessions" 2>/dev/null)" ] && break
		sleep 0.05
	done
	run env GIT_SSH_COMMAND="$(sshd_git_ssh_command alice)" \
		git -C "$BATS_TEST_TMPDIR/c1" push "$URL" HEAD:main HEAD:refs/heads/honest
	exit_status_is 0
	echo "${COMMIT[1]}" >"$BIN/go"
	trust "$BIN/go" >/dev/null
	wait "$hostile" || true
	local said
	said=$(cat "$BATS_TEST_TMPDIR/hostile")
	[[ $said == *"ng refs/heads/main it moved while this push ran"* ]] || flunk "hostile: $said"
	[[ $said == *"ng refs/heads/honest it moved while this push ran"* ]] || flunk "hostile: $said"
	[ "$(git -C "$REPO" rev-parse main)" = "${COMMIT[1]}" ] || flunk "main was rewound"
	[ "$(git -C "$REPO" rev-parse honest)" = "${COMMIT[1]}" ] || flunk "honest was deleted"
	[ "$(git -C "$REPO" symbolic-ref HEAD)" = refs/heads/main ] || flunk "HEAD was redirected"
	[ ! -e "$REPO/refs/heads/victim" ] && [ ! -L "$REPO/refs/heads/victim" ] || flunk "the link is there"
	[ "$(cat "$BATS_TEST_TMPDIR/victim")" = victim ] || flunk "the victim file was written"
	# Laundering: nothing of the hostile session's appears in the repository, now or later.
	run diff <(echo "$before") <(cd "$REPO" && find . -printf '%y %m %p\n' | sort)
	[[ $output != *"<"* ]] || flunk "entries vanished: $output"
	! grep -vE '^[0-9,acd]+$|^> (d 755 \./refs/heads|f 6[046]4 \./refs/heads/(main|honest)|f 444 \./objects/pack/pack-[0-9a-f]{40}\.(pack|idx))$' <<<"$output" ||
		flunk "unexpected entries: $output"
	fsck_clean
	no_scratch_left
}

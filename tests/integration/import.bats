#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# gitcage import-gitolite on a sample gitolite.conf with a keydir: the result passes
# check-config, every construct left out is named with its line, the keys are copied, and
# gitcage access answers as gitolite access -q (gitolite3 itself is the oracle) for every
# question about the same repositories on disk.

load ../lib/common

setup() {
	require_unprivileged
	require_built
	command -v gitolite >/dev/null || flunk "gitolite3 is missing: run tools/install-deps"
	ADMIN=$BATS_TEST_TMPDIR/gitolite-admin
	mkdir -p "$ADMIN/conf" "$ADMIN/keydir/laptops"
	cp "$BATS_TEST_DIRNAME/data/gitolite.conf" "$ADMIN/conf/gitolite.conf"
	local user
	for user in alice bob carol dave; do
		ssh-keygen -q -t ed25519 -N '' -C "$user" -f "$BATS_TEST_TMPDIR/key-$user"
	done
	cp "$BATS_TEST_TMPDIR/key-alice.pub" "$ADMIN/keydir/alice.pub"
	cp "$BATS_TEST_TMPDIR/key-bob.pub" "$ADMIN/keydir/laptops/bob@laptop.pub"
	cp "$BATS_TEST_TMPDIR/key-carol.pub" "$ADMIN/keydir/carol@example.com.pub"
	cat "$BATS_TEST_TMPDIR/key-dave.pub" "$BATS_TEST_TMPDIR/key-dave.pub" >"$ADMIN/keydir/dave.pub"
	KEYS=$BATS_TEST_TMPDIR/keys
	CONF=$BATS_TEST_TMPDIR/gitcage.conf
}

# A gitolite of its own under GL_HOME, with the sample compiled, a wild repository that alice
# created, and gitcage.conf pointed at the same repositories.
gitolite_oracle() {
	GL_HOME=$BATS_TEST_TMPDIR/gitolite-home
	mkdir -p "$GL_HOME"
	HOME=$GL_HOME gitolite setup -a admin >/dev/null 2>&1 || flunk "gitolite setup failed"
	# The sample's config line is only there to be left out: let gitolite compile it.
	sed -i "s/GIT_CONFIG_KEYS *=> *''/GIT_CONFIG_KEYS => '.*'/" "$GL_HOME/.gitolite.rc"
	cp "$ADMIN/conf/gitolite.conf" "$GL_HOME/.gitolite/conf/gitolite.conf"
	HOME=$GL_HOME gitolite compile >/dev/null 2>&1 || flunk "gitolite compile failed"
	HOME=$GL_HOME GL_USER=alice gitolite create alice/proj >/dev/null 2>&1 ||
		flunk "gitolite create failed"
	sed -i "s|^#repositories = .*|repositories = $GL_HOME/repositories|" "$CONF"
}

@test "import-gitolite: the result passes check-config, and each left-out line is named" {
	run --separate-stderr "$GITCAGE" import-gitolite --keydir "$KEYS" "$ADMIN/conf/gitolite.conf"
	exit_status_is 1
	printf '%s\n' "$output" >"$CONF"
	local conf=$ADMIN/conf/gitolite.conf expected
	for expected in "$conf:27: role READERS left out" "$conf:28: role WRITERS left out" \
		"$conf:33: VREF rule left out (VREF/NAME/secret)" "$conf:34: config line left out" \
		"$conf:35: desc line left out" "key dave.pub left out: gitolite ignores it too" \
		"6 constructs left out"; do
		# shellcheck disable=SC2154 # bats sets stderr
		[[ $stderr == *"gitcage: $expected"* ]] || flunk "missing: $expected" "$stderr"
	done
	[ "$(grep -c . <<<"$stderr")" -eq 8 ] || flunk "one warning each: $stderr"
	# What the import cannot know: where the repositories are.
	mkdir "$BATS_TEST_TMPDIR/repos"
	sed -i "s|^#repositories = .*|repositories = $BATS_TEST_TMPDIR/repos|" "$CONF"
	CONF=$(trust "$CONF")
	run "$GITCAGE" --config "$CONF" check-config
	exit_status_is 0
	# The keys, under gitolite's names, and only the usable ones.
	[ -f "$KEYS/alice.pub" ] && [ -f "$KEYS/laptops/bob@laptop.pub" ] &&
		[ -f "$KEYS/carol@example.com.pub" ] && [ ! -e "$KEYS/dave.pub" ] || flunk "$(find "$KEYS")"
	run "$GITCAGE" --config "$CONF" keys
	exit_status_is 0
	[ "$(grep -o 'serve [^"]*' <<<"$output" | sort | tr '\n' ,)" = \
		'serve alice,serve bob,serve carol@example.com,' ] || flunk "$(ran)"
}

@test "import-gitolite: gitcage access answers as gitolite access does, question by question" {
	"$GITCAGE" import-gitolite "$ADMIN/conf/gitolite.conf" >"$CONF" 2>/dev/null || true
	gitolite_oracle
	CONF=$(trust "$CONF")
	local repo user perm ref theirs ours asked=0 differ=()
	for repo in shop blog legacy gitolite-admin alice/proj bob/new x/tools2 x/tools nothere; do
		for user in alice bob carol@example.com dave eve; do
			for perm in R W + C D ^C; do
				for ref in any master feature/x personal/bob/x personal/dave/x refs/tags/v1 refs/tags/x; do
					[ "$perm" != ^C ] || [ "$ref" = any ] || continue
					HOME=$GL_HOME GL_USER=$user gitolite access -q "$repo" "$user" "$perm" "$ref" &&
						theirs=0 || theirs=$?
					"$GITCAGE" --config "$CONF" access -q "$user" "$repo" "$perm" "$ref" &&
						ours=0 || ours=$?
					asked=$((asked + 1))
					[ "$theirs" = "$ours" ] || differ+=("$repo $user $perm $ref: gitolite $theirs, gitcage $ours")
				done
			done
		done
	done
	[ "${#differ[@]}" -eq 0 ] || flunk "${differ[@]}"
	[ "$asked" -gt 1500 ] || flunk "only $asked questions"
}

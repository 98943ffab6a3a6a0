# SPDX-License-Identifier: ISC
# gitcage. `make` builds, `make check` runs every test, `make demo` shows it working.
# Both check and demo install missing Debian packages first (tools/install-deps).

VERSION     := 0.2.0
PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
LIBDIR      ?= $(PREFIX)/lib/gitcage
HOOKSDIR    ?= $(LIBDIR)/hooks
MANDIR      ?= $(PREFIX)/share/man
DOCDIR      ?= $(PREFIX)/share/doc/gitcage
DATADIR     ?= $(PREFIX)/share/gitcage
SYSCONFDIR  ?= /etc
DESTDIR     ?=

BUILD       ?= build
V           ?= 0
Q           := $(if $(filter 1,$(V)),,@)
CC          ?= cc
PKG_CONFIG  ?= pkg-config
CFLAGS      ?= -O2 -g
WARNINGS    := -Wall -Wextra -Werror -Wformat=2 -Wshadow -Wmissing-prototypes \
	       -Wstrict-prototypes -Wvla -Wno-missing-field-initializers
# A distribution's own _FORTIFY_SOURCE (Debian and Fedora pass 2 or 3) wins over ours: defining
# it twice is an error under -Werror.
FORTIFY     := $(if $(findstring _FORTIFY_SOURCE,$(CPPFLAGS) $(CFLAGS)),,-D_FORTIFY_SOURCE=2)
HARDEN      := -fstack-protector-strong $(FORTIFY) -fPIE
# Ours, then the distribution's: `make CPPFLAGS=...` replaces CPPFLAGS, never these.
ALL_CPPFLAGS = -D_GNU_SOURCE -Isrc -I$(BUILD) \
	       -DGITCAGE_VERSION='"$(VERSION)"' \
	       -DGITCAGE_HOOKS_DIR='"$(HOOKSDIR)"' \
	       -DGITCAGE_CONFIG_PATH='"$(SYSCONFDIR)/gitcage/gitcage.conf"' \
	       -DGITCAGE_GUARD_PATH='"$(LIBDIR)/gitcage-guard"' \
	       -DGITCAGE_INDEX_PATH='"$(LIBDIR)/gitcage-index"' $(CPPFLAGS)
DEPFLAGS    := -MMD -MP
LDFLAGS     ?=
ALL_LDFLAGS  = $(LDFLAGS) -pie -Wl,-z,relro,-z,now -Wl,--as-needed

# Every library through pkg-config, linked as the distribution links it. A missing one stops
# the build with pkg-config's own message.
pkg = $(or $(shell $(PKG_CONFIG) $(1) $(2) || echo PKG_CONFIG_FAILED),)
check-pkg = $(if $(findstring PKG_CONFIG_FAILED,$(1)),$(error pkg-config could not find $(2): run tools/install-deps),$(1))
RUN_PKGS    := inih libcap nettle
RUN_CFLAGS  := $(call check-pkg,$(call pkg,--cflags,$(RUN_PKGS)),$(RUN_PKGS))
RUN_LIBS    := $(call check-pkg,$(call pkg,--libs,$(RUN_PKGS)),$(RUN_PKGS))
GIT2_CFLAGS := $(call check-pkg,$(call pkg,--cflags,libgit2),libgit2)
GIT2_LIBS   := $(call check-pkg,$(call pkg,--libs,libgit2),libgit2)
SECCOMP_CFLAGS := $(call check-pkg,$(call pkg,--cflags,libseccomp),libseccomp)
SECCOMP_LIBS   := $(call check-pkg,$(call pkg,--libs,libseccomp),libseccomp)
CMOCKA_LIBS  = $(call check-pkg,$(call pkg,--libs,cmocka),cmocka)
BASE_CFLAGS  = $(CFLAGS) $(WARNINGS) $(HARDEN) $(DEPFLAGS)

# The folders are the architecture (README, "Source layout"). Each binary is a union of them:
#   gitcage        common + sandbox + txn + gitcage   (no libgit2: the fetch path never loads it)
#   gitcage-guard  common + guard                     (the only folder that includes git2.h)
#   gitcage-index  common + guard/index*, request.c   (linked without libgit2: the index cage)
#   hooks/proc-receive
#                  common + hook: the relay inside the sandbox
COMMON_SRCS  := $(wildcard src/common/*.c)
SANDBOX_SRCS := $(filter-out src/sandbox/seccomp_gen.c,$(wildcard src/sandbox/*.c))
TXN_SRCS     := $(wildcard src/txn/*.c)
GITCAGE_SRCS := $(wildcard src/gitcage/*.c)
HOOK_SRCS    := $(wildcard src/hook/*.c)
GUARD_SRCS   := $(wildcard src/guard/*.c)
obj = $(patsubst src/%.c,$(BUILD)/obj/%.o,$(1))
COMMON_OBJS  := $(call obj,$(COMMON_SRCS))
SANDBOX_OBJS := $(call obj,$(SANDBOX_SRCS))
TXN_OBJS     := $(call obj,$(TXN_SRCS))
GITCAGE_OBJS := $(call obj,$(GITCAGE_SRCS))
HOOK_OBJS    := $(call obj,$(HOOK_SRCS))
GUARD_OBJS   := $(call obj,$(GUARD_SRCS))
# The mains, kept out of what the unit tests link.
GITCAGE_MAIN := $(BUILD)/obj/gitcage/main.o
GUARD_MAIN   := $(BUILD)/obj/guard/guard.o
INDEX_MAIN   := $(BUILD)/obj/guard/index_main.o

UNIT_SRCS   := $(wildcard tests/unit/*/test_*.c)
UNIT_BINS   := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
PROBE       := $(BUILD)/tests/probe

.PHONY: all tests install uninstall check check-unit check-sandbox demo bench clean format deps asan \
	dist deb check-package fuzz fuzz-smoke fuzz-run lint
# The hooks, as installed: the relay, and beside it, for repo-hooks = yes, chain/ with the
# relay again and the scripts that run the repository's own hooks.
HOOK_SCRIPTS := $(wildcard hooks/*)
HOOKS        := $(BUILD)/hooks/proc-receive \
		$(addprefix $(BUILD)/hooks/chain/,proc-receive $(notdir $(HOOK_SCRIPTS)))

all: $(BUILD)/gitcage $(BUILD)/gitcage-guard $(BUILD)/gitcage-index $(HOOKS) $(BUILD)/gitcage.conf \
	$(BUILD)/sshd_config.gitcage $(BUILD)/authorized_keys.example

# The install paths are compiled in (the hooks, the guard, the config): a stamp that changes
# with them rebuilds everything, so `make install PREFIX=/usr` after `make` is not stale.
PATHS_NOW := $(PREFIX) $(LIBDIR) $(HOOKSDIR) $(SYSCONFDIR)
$(BUILD)/paths.stamp: FORCE
	@mkdir -p $(@D)
	@echo '$(PATHS_NOW)' | cmp -s - $@ || echo '$(PATHS_NOW)' > $@

.PHONY: FORCE
FORCE:

# Only src/guard is compiled with libgit2's flags: an include of git2.h anywhere else fails.
$(BUILD)/obj/guard/%.o: src/guard/%.c $(BUILD)/paths.stamp
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(CC) $(ALL_CPPFLAGS) $(BASE_CFLAGS) $(GIT2_CFLAGS) -c -o $@ $<

$(BUILD)/obj/%.o: src/%.c $(BUILD)/paths.stamp | $(BUILD)/seccomp-filter.h
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(CC) $(ALL_CPPFLAGS) $(BASE_CFLAGS) $(RUN_CFLAGS) -c -o $@ $<

$(BUILD)/libgitcage.a: $(COMMON_OBJS) $(SANDBOX_OBJS) $(TXN_OBJS) $(filter-out $(GITCAGE_MAIN),$(GITCAGE_OBJS))
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/libguard.a: $(COMMON_OBJS) $(filter-out $(GUARD_MAIN) $(INDEX_MAIN),$(GUARD_OBJS))
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/gitcage: $(GITCAGE_MAIN) $(BUILD)/libgitcage.a
	@echo "  LD      $@"
	$(Q)$(CC) $(BASE_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(RUN_LIBS)

$(BUILD)/gitcage-guard: $(GUARD_MAIN) $(BUILD)/libguard.a
	@echo "  LD      $@"
	$(Q)$(CC) $(BASE_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(RUN_LIBS) $(GIT2_LIBS)

# No libgit2: what index_main.o needs of libguard.a (index.o, request.o, common) never calls it.
$(BUILD)/gitcage-index: $(INDEX_MAIN) $(BUILD)/libguard.a
	@echo "  LD      $@"
	$(Q)$(CC) $(BASE_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(RUN_LIBS)

$(BUILD)/relay-hook: $(HOOK_OBJS) $(COMMON_OBJS)
	@echo "  LD      $@"
	$(Q)$(CC) $(BASE_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(RUN_LIBS)

$(BUILD)/hooks/%: $(BUILD)/relay-hook
	@mkdir -p $(@D)
	$(Q)cp $< $@
$(BUILD)/hooks/chain/%: hooks/%
	@mkdir -p $(@D)
	$(Q)install -m 0755 $< $@
$(BUILD)/hooks/chain/proc-receive: $(BUILD)/relay-hook
	@mkdir -p $(@D)
	$(Q)cp $< $@

# The seccomp filter is compiled once, at build time, by libseccomp itself.
$(BUILD)/seccomp-gen: src/sandbox/seccomp_gen.c
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(CC) $(ALL_CPPFLAGS) $(CFLAGS) $(WARNINGS) $(SECCOMP_CFLAGS) -o $@ $< $(SECCOMP_LIBS)

$(BUILD)/seccomp-filter.h: $(BUILD)/seccomp-gen
	@echo "  GEN     $@"
	$(Q)$(BUILD)/seccomp-gen > $@.tmp && mv $@.tmp $@

# Unit tests mirror src/: tests/unit/guard links the guard's objects and libgit2, the others
# what gitcage links.
$(BUILD)/tests/guard/test_%: tests/unit/guard/test_%.c $(BUILD)/libguard.a
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(CC) $(ALL_CPPFLAGS) $(BASE_CFLAGS) $(GIT2_CFLAGS) $(ALL_LDFLAGS) -o $@ $< \
		$(BUILD)/libguard.a $(RUN_LIBS) $(GIT2_LIBS) $(CMOCKA_LIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libgitcage.a
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(CC) $(ALL_CPPFLAGS) $(BASE_CFLAGS) $(RUN_CFLAGS) $(ALL_LDFLAGS) -o $@ $< \
		$(BUILD)/libgitcage.a $(RUN_LIBS) $(CMOCKA_LIBS)

$(PROBE): tests/security/probe.c
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(CC) $(ALL_CPPFLAGS) $(CFLAGS) $(WARNINGS) -o $@ $<

tests: all $(UNIT_BINS) $(PROBE)

# Sanitizer build: the same sources, with ASan and UBSan, in its own directory.
asan:
	$(MAKE) BUILD=build/asan CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" HARDEN= tests

deps:
	tools/install-deps

# libFuzzer targets, one per parser of hostile input (tests/fuzz/fuzz_NAME.c, seeds in
# tests/fuzz/corpus/NAME/, crashes found kept in tests/fuzz/crashes/NAME/). The same sources
# as the binaries, compiled again by clang with ASan and UBSan into $(BUILD)/fuzz; each target
# links the archive of the binary its parser belongs to. tests/fuzz/run replays the seeds and
# crashes (make fuzz-smoke) or fuzzes each target for SECONDS (make fuzz-run).
FUZZ_CC      ?= clang
FUZZ_CFLAGS  := -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
		-fno-sanitize-recover=all
FUZZ_SRCS    := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS    := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))
# Targets whose parser is the guard's (src/guard): they link its archive and libgit2.
FUZZ_GUARD   := $(BUILD)/fuzz/fuzz_gitconfig
fuzz_obj = $(patsubst src/%.c,$(BUILD)/fuzz/obj/%.o,$(1))
FUZZ_GITCAGE_OBJS := $(call fuzz_obj,$(COMMON_SRCS) $(SANDBOX_SRCS) $(TXN_SRCS) \
		     $(filter-out src/gitcage/main.c,$(GITCAGE_SRCS)))
FUZZ_GUARD_OBJS   := $(call fuzz_obj,$(COMMON_SRCS) $(filter-out src/guard/guard.c,$(GUARD_SRCS)))
SECONDS      ?= 60

$(BUILD)/fuzz/obj/guard/%.o: src/guard/%.c $(BUILD)/paths.stamp
	@mkdir -p $(@D)
	@echo "  FUZZCC  $@"
	$(Q)$(FUZZ_CC) $(ALL_CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(WARNINGS) \
		$(DEPFLAGS) $(GIT2_CFLAGS) -c -o $@ $<

$(BUILD)/fuzz/obj/%.o: src/%.c $(BUILD)/paths.stamp | $(BUILD)/seccomp-filter.h
	@mkdir -p $(@D)
	@echo "  FUZZCC  $@"
	$(Q)$(FUZZ_CC) $(ALL_CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(WARNINGS) \
		$(DEPFLAGS) $(RUN_CFLAGS) -c -o $@ $<

$(BUILD)/fuzz/libgitcage.a: $(FUZZ_GITCAGE_OBJS)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/fuzz/libguard.a: $(FUZZ_GUARD_OBJS)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(FUZZ_GUARD): $(BUILD)/fuzz/%: tests/fuzz/%.c $(BUILD)/fuzz/libguard.a
	@echo "  FUZZLD  $@"
	$(Q)$(FUZZ_CC) $(ALL_CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer $(WARNINGS) $(DEPFLAGS) \
		$(GIT2_CFLAGS) -o $@ $< $(BUILD)/fuzz/libguard.a $(RUN_LIBS) $(GIT2_LIBS)

$(BUILD)/fuzz/%: tests/fuzz/%.c $(BUILD)/fuzz/libgitcage.a
	@echo "  FUZZLD  $@"
	$(Q)$(FUZZ_CC) $(ALL_CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer $(WARNINGS) $(DEPFLAGS) \
		$(RUN_CFLAGS) -o $@ $< $(BUILD)/fuzz/libgitcage.a $(RUN_LIBS)

fuzz: $(FUZZ_BINS)

# Every seed and every crash kept in the tree, run once by each target.
fuzz-smoke: fuzz
	tests/fuzz/run --smoke

# make fuzz-run SECONDS=N: each target for N seconds on a copy of its seeds, two at a time.
fuzz-run: fuzz
	tests/fuzz/run --seconds $(SECONDS)

# Every test: unit (plain and sanitized), the fuzz targets on their seeds and kept crashes,
# then the sandbox, security and ssh tests, which run as an unprivileged user (as root,
# tools/as-test-user stages a copy for the test user).
check: deps
	$(MAKE) tests asan fuzz
	tests/run-all

check-unit: tests asan
	tests/run-all unit

check-sandbox: tests
	tests/run-all sandbox

demo: deps
	$(MAKE) all
	tools/demo

# The benchmark's own programs: the kernel's floor (bench/floor.c) and the round-robin timer.
BENCH_BINS := $(BUILD)/bench/floor $(BUILD)/bench/interleave
$(BUILD)/bench/%: bench/%.c
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(CC) $(ALL_CPPFLAGS) $(CFLAGS) $(WARNINGS) -o $@ $<

bench: deps
	$(MAKE) all $(BENCH_BINS)
	bench/run
	bench/push

# The example config and the sshd drop-in name the installed paths: they are written from
# config/ with this build's paths in place of the source defaults (/usr/local, /etc).
INSTALLED_PATHS := -e 's|/usr/local/lib/gitcage|$(LIBDIR)|g' \
	-e 's|/usr/local/bin/gitcage|$(BINDIR)/gitcage|g' -e 's|/etc/gitcage|$(SYSCONFDIR)/gitcage|g'
$(BUILD)/gitcage.conf: config/gitcage.conf $(BUILD)/paths.stamp
	$(Q)sed $(INSTALLED_PATHS) $< > $@
$(BUILD)/sshd_config.gitcage: config/sshd_config.gitcage $(BUILD)/paths.stamp
	$(Q)sed $(INSTALLED_PATHS) $< > $@
$(BUILD)/authorized_keys.example: config/authorized_keys.example $(BUILD)/paths.stamp
	$(Q)sed $(INSTALLED_PATHS) $< > $@

# Files under $(SYSCONFDIR) belong to the admin once they exist: never overwritten. The sshd
# drop-in is all comments until the admin enables it (README, "Setting up a server").
install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(HOOKSDIR)/chain $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(DATADIR)/apparmor
	install -m 0755 $(BUILD)/gitcage $(DESTDIR)$(BINDIR)/gitcage
	install -m 0755 $(BUILD)/gitcage-guard $(DESTDIR)$(LIBDIR)/gitcage-guard
	install -m 0755 $(BUILD)/gitcage-index $(DESTDIR)$(LIBDIR)/gitcage-index
	install -m 0755 $(BUILD)/hooks/proc-receive $(DESTDIR)$(HOOKSDIR)/
	install -m 0755 $(BUILD)/hooks/chain/* $(DESTDIR)$(HOOKSDIR)/chain/
	install -m 0644 man/gitcage.1 $(DESTDIR)$(MANDIR)/man1/gitcage.1
	install -m 0644 man/gitcage.conf.5 $(DESTDIR)$(MANDIR)/man5/gitcage.conf.5
	install -m 0644 README.md $(DESTDIR)$(DOCDIR)/README.md
	install -m 0644 $(BUILD)/gitcage.conf $(BUILD)/sshd_config.gitcage \
		$(BUILD)/authorized_keys.example $(DESTDIR)$(DOCDIR)/examples/
	install -m 0644 packaging/apparmor/gitcage $(DESTDIR)$(DATADIR)/apparmor/gitcage
	install -d $(DESTDIR)$(SYSCONFDIR)/gitcage $(DESTDIR)$(SYSCONFDIR)/gitcage/keys \
		$(DESTDIR)$(SYSCONFDIR)/ssh/sshd_config.d
	[ -e $(DESTDIR)$(SYSCONFDIR)/gitcage/gitcage.conf ] || \
		install -m 0644 $(BUILD)/gitcage.conf $(DESTDIR)$(SYSCONFDIR)/gitcage/gitcage.conf
	[ -e $(DESTDIR)$(SYSCONFDIR)/ssh/sshd_config.d/gitcage.conf ] || \
		install -m 0644 $(BUILD)/sshd_config.gitcage \
		$(DESTDIR)$(SYSCONFDIR)/ssh/sshd_config.d/gitcage.conf

# The admin's files under $(SYSCONFDIR) stay.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/gitcage $(DESTDIR)$(MANDIR)/man1/gitcage.1 \
		$(DESTDIR)$(MANDIR)/man5/gitcage.conf.5
	rm -rf $(DESTDIR)$(LIBDIR) $(DESTDIR)$(DOCDIR) $(DESTDIR)$(DATADIR)

# make dist: gitcage-VERSION.tar.gz of the files git tracks, as they are in the work tree
# (so an uncommitted change is in it), with owners, order and times fixed: the same tree gives
# the same bytes. It is the orig tarball of the Debian package and the RPM's Source0.
DIST        := gitcage-$(VERSION)
DIST_TARBALL = $(BUILD)/$(DIST).tar.gz
dist:
	@mkdir -p $(BUILD)
	$(Q)git ls-files -z | tar --null -T - --sort=name --owner=0 --group=0 --numeric-owner \
		--mtime=@$$(git log -1 --format=%ct) --transform 's|^|$(DIST)/|' -cf - | \
		gzip -n9 > $(DIST_TARBALL).tmp && mv $(DIST_TARBALL).tmp $(DIST_TARBALL)
	@echo "  DIST    $(DIST_TARBALL)"

# make deb: the Debian source and binary packages in $(BUILD)/deb, from make dist's tarball
# (3.0 (quilt): the tarball is the orig, packaging/debian the debian/ directory), then
# lintian. Needs the packages of tools/install-deps --packaging.
DEB_DIR := $(BUILD)/deb
deb: dist
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)
	cp $(DIST_TARBALL) $(DEB_DIR)/gitcage_$(VERSION).orig.tar.gz
	tar -C $(DEB_DIR) -xzf $(DIST_TARBALL)
	cp -a packaging/debian $(DEB_DIR)/$(DIST)/debian
	cd $(DEB_DIR)/$(DIST) && dpkg-buildpackage -us -uc
	lintian --fail-on error,warning --info $(DEB_DIR)/gitcage_$(VERSION)-*.changes

# make lint: what CI checks before the tests. shellcheck on every shell script, and on the
# bats files as bash (shellcheck knows @test; SC2030 and SC2031 are left out there: each test
# runs in a subshell of its own, so a variable set in one is meant to stay there); the C
# sources as clang-format writes them (make format); an SPDX line in every source file; the
# folders' boundaries (tools/lint-boundaries: git2.h only in src/guard, namespaces, mounts,
# capabilities and rlimits only in src/sandbox); no function over 60 lines.
SHELL_SCRIPTS := $(wildcard tools/* bench/run bench/push hooks/* tests/lib/*.bash \
		 packaging/debian/tests/clone-push packaging/debian/*.postinst \
		 packaging/debian/*.postrm) tests/run-all tests/fuzz/run .ci/run
BATS_FILES    := $(wildcard tests/*.bats tests/*/*.bats)
C_SOURCES     := $(wildcard src/*/*.c src/*/*.h tests/unit/*/*.c tests/security/*.c \
		 tests/fuzz/*.c bench/*.c)
lint:
	@echo "  LINT    shellcheck"
	$(Q)shellcheck $(SHELL_SCRIPTS)
	$(Q)shellcheck -s bash -e SC2030,SC2031 $(BATS_FILES)
	@echo "  LINT    clang-format"
	$(Q)clang-format --dry-run --Werror $(C_SOURCES)
	@echo "  LINT    tools/lint-spdx, tools/lint-boundaries, tools/lint-functions"
	$(Q)tools/lint-spdx
	$(Q)tools/lint-boundaries
	$(Q)tools/lint-functions $(filter %.c,$(C_SOURCES))

format:
	clang-format -i $(C_SOURCES)

clean:
	rm -rf build

# The packaging tree in $(BUILD)/deb has dependency files of its own build, and directories
# named *.d (sshd_config.d).
-include $(shell find $(BUILD) -path $(BUILD)/deb -prune -o -type f -name '*.d' -print 2>/dev/null)

# gitcage. `make` builds, `make check` runs every test, `make demo` shows it working.
# Both check and demo install missing Debian packages first (tools/install-deps).

VERSION     := 0.1.0
PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
LIBDIR      ?= $(PREFIX)/lib/gitcage
HOOKSDIR    ?= $(LIBDIR)/hooks
MANDIR      ?= $(PREFIX)/share/man
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
HARDEN      := -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE
CPPFLAGS    += -D_GNU_SOURCE -Isrc -I$(BUILD) \
	       -DGITCAGE_VERSION='"$(VERSION)"' \
	       -DGITCAGE_HOOKS_DIR='"$(HOOKSDIR)"' \
	       -DGITCAGE_CONFIG_PATH='"$(SYSCONFDIR)/gitcage/gitcage.conf"' \
	       -DGITCAGE_GUARD_PATH='"$(LIBDIR)/gitcage-guard"'
DEPFLAGS    := -MMD -MP

# The gitcage binary links inih and libcap only. libseccomp runs at build time, to compile
# the filter into a BPF program (src/seccomp_gen.c). libgit2 is linked only where a write
# is verified, so the fetch path never pays for loading it.
RUN_PKGS    := inih libcap
PKG_CFLAGS  := $(shell $(PKG_CONFIG) --cflags $(RUN_PKGS) libgit2 libseccomp 2>/dev/null)
# Linked statically: two shared objects fewer for the dynamic loader at every start.
RUN_LIBS    := -Wl,-Bstatic $(shell $(PKG_CONFIG) --libs $(RUN_PKGS) 2>/dev/null) -Wl,-Bdynamic
SECCOMP_LIBS:= $(shell $(PKG_CONFIG) --libs libseccomp 2>/dev/null)
CMOCKA_LIBS := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)
ALL_CFLAGS  = $(CFLAGS) $(WARNINGS) $(HARDEN) $(PKG_CFLAGS) $(DEPFLAGS)
LDFLAGS     ?=
ALL_LDFLAGS = $(LDFLAGS) -pie -Wl,-z,relro,-z,now -Wl,--as-needed

# gitcage-guard verifies writes and serves `gitcage verify`: the one program that links
# libgit2, together with the same library objects as gitcage.
GUARD_SRCS  := src/guard.c src/verify.c src/verify_offline.c
GUARD_OBJS  := $(GUARD_SRCS:src/%.c=$(BUILD)/%.o)
# gitcage-guard links libgit2 and its libraries statically where Debian ships archives:
# loading the 18 shared objects of Debian's libgit2 cost 8.9 ms a push here, the static guard
# starts in 5.2 ms (hyperfine medians). Kerberos has no archive and stays shared.
# GUARD_STATIC=0 links everything dynamically, for systems without the archives.
GUARD_STATIC ?= 1
ifeq ($(GUARD_STATIC),1)
GIT2_LIBS   := -Wl,-Bstatic $(filter-out -lrt,$(shell $(PKG_CONFIG) --static --libs-only-l libgit2 2>/dev/null)) \
	       -lcrypto -Wl,-Bdynamic -lrt $(shell $(CC) -print-file-name=libgssapi_krb5.so.2)
else
GIT2_LIBS   := $(shell $(PKG_CONFIG) --libs libgit2 2>/dev/null)
endif
LIB_SRCS    := $(filter-out src/main.c src/seccomp_gen.c $(GUARD_SRCS),$(wildcard src/*.c))
LIB_OBJS    := $(LIB_SRCS:src/%.c=$(BUILD)/%.o)
UNIT_SRCS   := $(wildcard tests/unit/test_*.c)
UNIT_BINS   := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
PROBE       := $(BUILD)/tests/probe

.PHONY: all tests install uninstall check check-unit check-sandbox demo bench clean format deps asan
all: $(BUILD)/gitcage $(BUILD)/gitcage-guard

# The install paths are compiled in (the hooks, the guard, the config): a stamp that changes
# with them rebuilds everything, so `make install PREFIX=/usr` after `make` is not stale.
PATHS_NOW := $(PREFIX) $(LIBDIR) $(HOOKSDIR) $(SYSCONFDIR)
$(BUILD)/paths.stamp: FORCE
	@mkdir -p $(@D)
	@echo '$(PATHS_NOW)' | cmp -s - $@ || echo '$(PATHS_NOW)' > $@

.PHONY: FORCE
FORCE:

$(BUILD)/%.o: src/%.c $(BUILD)/paths.stamp | $(BUILD)/seccomp-filter.h
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/libgitcage.a: $(LIB_OBJS)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/gitcage: $(BUILD)/main.o $(BUILD)/libgitcage.a
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(RUN_LIBS)

$(BUILD)/gitcage-guard: $(GUARD_OBJS) $(BUILD)/libgitcage.a
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(RUN_LIBS) $(GIT2_LIBS)

# The seccomp filter is compiled once, at build time, by libseccomp itself.
$(BUILD)/seccomp-gen: src/seccomp_gen.c
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(WARNINGS) $(PKG_CFLAGS) -o $@ $< $(SECCOMP_LIBS)

$(BUILD)/seccomp-filter.h: $(BUILD)/seccomp-gen
	@echo "  GEN     $@"
	$(Q)$(BUILD)/seccomp-gen > $@.tmp && mv $@.tmp $@

$(BUILD)/tests/test_%: tests/unit/test_%.c $(BUILD)/libgitcage.a
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(BUILD)/libgitcage.a $(RUN_LIBS) $(CMOCKA_LIBS)

# The verifier's tests link the guard's objects (all but its main) and libgit2.
$(BUILD)/tests/test_verify: tests/unit/test_verify.c $(filter-out $(BUILD)/guard.o,$(GUARD_OBJS)) \
			    $(BUILD)/libgitcage.a
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $(filter %.c %.o %.a,$^) \
		$(RUN_LIBS) $(GIT2_LIBS) $(CMOCKA_LIBS)

$(PROBE): tests/security/probe.c
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(WARNINGS) -o $@ $<

tests: $(BUILD)/gitcage $(BUILD)/gitcage-guard $(UNIT_BINS) $(PROBE)

# Sanitizer build: the same sources, with ASan and UBSan, in its own directory.
asan:
	$(MAKE) BUILD=build/asan CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" HARDEN= tests

deps:
	tools/install-deps

# Every test: unit (plain and sanitized), then the sandbox, security and ssh tests, which run
# as an unprivileged user (as root, tools/as-test-user stages a copy for the test user).
check: deps
	$(MAKE) tests asan
	tests/run-all

check-unit: tests asan
	tests/run-all unit

check-sandbox: tests
	tests/run-all sandbox

demo: deps
	$(MAKE) all
	tools/demo

bench: deps
	$(MAKE) all
	bench/run
	bench/verify

install: $(BUILD)/gitcage $(BUILD)/gitcage-guard
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(HOOKSDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 0755 $(BUILD)/gitcage $(DESTDIR)$(BINDIR)/gitcage
	install -m 0755 $(BUILD)/gitcage-guard $(DESTDIR)$(LIBDIR)/gitcage-guard
	for hook in hooks/*; do [ -f "$$hook" ] && install -m 0755 "$$hook" $(DESTDIR)$(HOOKSDIR)/; done; true
	install -m 0644 man/gitcage.1 $(DESTDIR)$(MANDIR)/man1/gitcage.1
	install -d $(DESTDIR)$(SYSCONFDIR)/gitcage
	[ -e $(DESTDIR)$(SYSCONFDIR)/gitcage/gitcage.conf ] || \
		install -m 0644 config/gitcage.conf $(DESTDIR)$(SYSCONFDIR)/gitcage/gitcage.conf

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/gitcage $(DESTDIR)$(MANDIR)/man1/gitcage.1
	rm -rf $(DESTDIR)$(LIBDIR)

format:
	clang-format -i src/*.c src/*.h tests/unit/*.c tests/security/*.c

clean:
	rm -rf build

-include $(wildcard $(BUILD)/*.d $(BUILD)/tests/*.d)

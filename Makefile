# crashcap: a kdump crash-capture appliance.
#
#   make                 build/crashcapd, build/crashcapctl, build/crashcap-collect
#   make check           set-up, build, unit tests, QEMU panic tests (N passed, N failed)
#   make check-unit      unit tests only (no QEMU)
#   make check SANITIZE=1  the unit tests built with ASan and UBSan
#   make demo            a QEMU guest panics; crashcap captures and summarises the dump
#   make bench           the collector against makedumpfile on the same vmcore
#   make install DESTDIR= PREFIX=
#   make format          clang-format every C file in place
#
# V=1 shows the commands. WERROR=0 drops -Werror (kept on by default and in CI).

PREFIX ?= /usr/local
DESTDIR ?=
SBINDIR ?= $(PREFIX)/sbin
LIBEXECDIR ?= $(PREFIX)/lib/crashcap
SYSCONFDIR ?= /etc
UNITDIR ?= $(PREFIX)/lib/systemd/system
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions

CC ?= cc
PKG_CONFIG ?= pkg-config
INSTALL ?= install
PYTHON ?= /usr/bin/python3
BUILD ?= build
V ?= 0
WERROR ?= 1
SANITIZE ?= 0

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' '$(1)' '$(2)';
endif

CFLAGS ?= -O2 -g
WARNINGS := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wno-unused-parameter -Wno-missing-field-initializers
ifeq ($(WERROR),1)
WARNINGS += -Werror
endif
BASE_CFLAGS := -std=gnu11 $(WARNINGS) -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 \
	-Ilib -I. -fno-strict-aliasing -DCRASHCAP_LIBEXECDIR=\"$(LIBEXECDIR)\" \
	-DCRASHCAP_SYSCONFDIR=\"$(SYSCONFDIR)\"

# Dynamic programs (loader, tests) and their libraries.
DYN_PKGS := libelf libzstd zlib libsystemd libbpf libkmod blkid
DYN_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(DYN_PKGS) 2>/dev/null)
# lzo2 and snappy (kdump-compressed pages) have no .pc file in Debian 12.
DYN_LIBS := $(shell $(PKG_CONFIG) --libs $(DYN_PKGS) 2>/dev/null) -llzo2 -lsnappy
# The collector is one static binary: it is /init of the crash initramfs.
STATIC_PKGS := libelf libzstd zlib blkid
STATIC_LIBS := $(shell $(PKG_CONFIG) --static --libs $(STATIC_PKGS) 2>/dev/null) \
	-llzo2 -lsnappy -lstdc++ -lm
TEST_LIBS := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)

# A sanitizer build lives in its own folder, so it never mixes with the
# normal one: build/san/crashcapctl, build/san/tests/...
ifeq ($(SANITIZE),1)
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
OUT := $(BUILD)/san
else
SAN_FLAGS :=
OUT := $(BUILD)
endif
OBJ := $(OUT)/obj

ALL_CFLAGS = $(BASE_CFLAGS) $(DYN_CFLAGS) $(CFLAGS) $(SAN_FLAGS)

# Sources. Each program has one file with main(); everything else in its
# folder is shared with the unit tests.
LIB_SRCS := $(sort $(wildcard lib/*.c))
INITRAMFS_SRCS := $(sort $(wildcard initramfs/*.c))
LOADER_MAINS := loader/crashcapctl.c loader/crashcapd.c
LOADER_SRCS := $(filter-out $(LOADER_MAINS),$(sort $(wildcard loader/*.c)))
COLLECTOR_MAIN := collector/main.c
COLLECTOR_SRCS := $(filter-out $(COLLECTOR_MAIN),$(sort $(wildcard collector/*.c)))
TEST_SRCS := $(sort $(wildcard tests/unit/test-*.c))
TEST_HELPER_SRCS := $(filter-out $(TEST_SRCS),$(sort $(wildcard tests/unit/*.c)))

obj = $(patsubst %.c,$(OBJ)/%.o,$(1))

LIB_A := $(OBJ)/libcrashcap.a
# The static collector gets its own objects: no sanitizers in a static /init.
COLLECT_OBJ := $(OUT)/obj-static
# Dump analysis (libbpf) never runs in the crash kernel: not in the collector.
COLLECT_LIB_SRCS := $(filter-out lib/btf-dump.c lib/analyze%.c,$(LIB_SRCS))
COLLECT_OBJS := $(patsubst %.c,$(COLLECT_OBJ)/%.o,$(COLLECT_LIB_SRCS) $(COLLECTOR_SRCS) $(COLLECTOR_MAIN))

PROGRAMS := $(OUT)/crashcapctl $(OUT)/crashcapd $(OUT)/crashcap-collect
TESTS := $(patsubst tests/unit/%.c,$(OUT)/tests/%,$(TEST_SRCS))

.SECONDARY:
.PHONY: all check check-unit check-qemu demo bench install format setup clean tests
all: $(PROGRAMS)

$(OBJ)/%.o: %.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(COLLECT_OBJ)/%.o: %.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(BASE_CFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

$(LIB_A): $(call obj,$(LIB_SRCS))
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(OUT)/crashcapctl: $(call obj,loader/crashcapctl.c $(LOADER_SRCS) $(INITRAMFS_SRCS)) $(LIB_A)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) -o $@ $^ $(DYN_LIBS)

$(OUT)/crashcapd: $(call obj,loader/crashcapd.c $(LOADER_SRCS) $(INITRAMFS_SRCS)) $(LIB_A)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) -o $@ $^ $(DYN_LIBS)

$(OUT)/crashcap-collect: $(COLLECT_OBJS)
	$(call msg,LINK,$@ (static))
	$(Q)$(CC) $(CFLAGS) -static -o $@ $^ $(STATIC_LIBS)

$(OUT)/tests/%: $(OBJ)/tests/unit/%.o $(call obj,$(TEST_HELPER_SRCS) $(LOADER_SRCS) $(INITRAMFS_SRCS) $(COLLECTOR_SRCS)) $(LIB_A)
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) -o $@ $^ $(DYN_LIBS) $(TEST_LIBS)

# --- purgatory (issue 8) ---
# The purgatory runs between the panicked kernel and the crash kernel on the
# kexec_load path. It is assembled, linked into one flat image at two bases
# whose bytes must be identical (no absolute address inside, so the loader
# may put it anywhere), and embedded in crashcapctl and crashcapd through
# purgatory/blob.S. Its SHA-256 object also goes into the unit tests, which
# run it on the host against loader/sha256.c.
OBJCOPY ?= objcopy
PURGATORY_DIR := $(BUILD)/purgatory
PURGATORY_OBJS := $(PURGATORY_DIR)/entry.o $(PURGATORY_DIR)/sha256.o
PURGATORY_BIN := $(PURGATORY_DIR)/purgatory.bin
PURGATORY_BLOB := $(PURGATORY_DIR)/blob.o
PURGATORY_LDFLAGS := -nostdlib -static -z noexecstack \
	$(shell $(LD) --help 2>/dev/null | grep -q -- --no-warn-rwx-segments && echo --no-warn-rwx-segments)

$(PURGATORY_DIR)/%.o: purgatory/%.S purgatory/purgatory-abi.h
	$(call msg,AS,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) -Ipurgatory -Wa,--fatal-warnings -c -o $@ $<

$(PURGATORY_BIN): $(PURGATORY_OBJS) purgatory/purgatory.lds
	$(call msg,LD,$@)
	$(Q)$(LD) $(PURGATORY_LDFLAGS) --defsym=PURGATORY_BASE=0 -T purgatory/purgatory.lds \
		-o $@.elf $(PURGATORY_OBJS)
	$(Q)$(LD) $(PURGATORY_LDFLAGS) --defsym=PURGATORY_BASE=0x7fe00000 -T purgatory/purgatory.lds \
		-o $@.elf2 $(PURGATORY_OBJS)
	$(Q)$(OBJCOPY) -O binary $@.elf $@.tmp && $(OBJCOPY) -O binary $@.elf2 $@.tmp2
	$(Q)cmp -s $@.tmp $@.tmp2 || { rm -f $@.tmp $@.tmp2; \
		echo "purgatory: the image depends on its load address (an absolute reference?)" >&2; exit 1; }
	$(Q)rm -f $@.tmp2 $@.elf2 && mv $@.tmp $@

$(PURGATORY_BLOB): purgatory/blob.S $(PURGATORY_BIN)
	$(call msg,AS,$@)
	$(Q)$(CC) -DPURGATORY_BIN='"$(PURGATORY_BIN)"' -c -o $@ $<

$(OUT)/crashcapctl $(OUT)/crashcapd $(TESTS): $(PURGATORY_BLOB)
$(TESTS): $(PURGATORY_DIR)/sha256.o

# make fuzz: the setup-header parser under libFuzzer when clang has it, and
# always a standalone build that runs the target over files (the crafted
# fixtures by default).
FUZZ_DIR := $(BUILD)/fuzz
FUZZ_CORPUS := tests/fixtures/kexec/bzimage
FUZZ_SRCS := tests/fuzz/fuzz-bzimage.c loader/bzimage.c lib/util.c
FUZZ_SAN := -g -fsanitize=address,undefined -fno-sanitize-recover=all
.PHONY: fuzz purgatory-clean
fuzz: $(FUZZ_DIR)/fuzz-bzimage-standalone
	$(Q)$(FUZZ_DIR)/fuzz-bzimage-standalone $(FUZZ_CORPUS)/*
	$(Q)if command -v clang >/dev/null 2>&1 && echo 'int LLVMFuzzerTestOneInput(const char *d, long n) { return 0; }' | \
		clang -x c -fsanitize=fuzzer -o /dev/null - >/dev/null 2>&1; then \
		printf '  %-8s %s\n' CLANG $(FUZZ_DIR)/fuzz-bzimage; \
		clang -O1 $(FUZZ_SAN) -fsanitize=fuzzer -DCRASHCAP_LIBFUZZER $(BASE_CFLAGS) \
			-o $(FUZZ_DIR)/fuzz-bzimage $(FUZZ_SRCS) && \
		echo "fuzz: run $(FUZZ_DIR)/fuzz-bzimage $(FUZZ_CORPUS) (add -max_total_time=60)"; \
	else echo "fuzz: clang with -fsanitize=fuzzer not found: libFuzzer build skipped"; fi

$(FUZZ_DIR)/fuzz-bzimage-standalone: $(FUZZ_SRCS) loader/bzimage.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(BASE_CFLAGS) -O1 $(FUZZ_SAN) -o $@ $(FUZZ_SRCS)

clean: purgatory-clean
purgatory-clean:
	rm -rf $(PURGATORY_DIR) $(FUZZ_DIR)
# --- end purgatory ---

# --- fuzz analyze (issue 10) ---
# Standalone ASan/UBSan runners for the decoders of dump-supplied tables:
# kallsyms, and BTF extraction. Each also mutates a built-in seed.
FUZZ_ANALYZE := $(FUZZ_DIR)/fuzz-kallsyms-standalone $(FUZZ_DIR)/fuzz-btf-standalone
FUZZ_ANALYZE_SRCS := $(LIB_SRCS) tests/unit/kallsyms-build.c tests/unit/btf-build.c
.PHONY: fuzz-analyze
fuzz: fuzz-analyze
fuzz-analyze: $(FUZZ_ANALYZE)
	$(Q)for f in $(FUZZ_ANALYZE); do $$f || exit 1; done

$(FUZZ_DIR)/fuzz-%-standalone: tests/fuzz/fuzz-%.c $(FUZZ_ANALYZE_SRCS) $(wildcard lib/*.h)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(BASE_CFLAGS) $(DYN_CFLAGS) -O1 $(FUZZ_SAN) -o $@ $< $(FUZZ_ANALYZE_SRCS) $(DYN_LIBS)
# --- end fuzz analyze ---

# --- fuzz readers (issue 7) ---
# Standalone ASan/UBSan runners for the readers of a dump's description of
# itself: VMCOREINFO and the page rules read from it; the ELF vmcore, its
# notes, mem_section and struct page. `make fuzz` runs them in full (and
# builds libFuzzer versions when clang has it); make check runs them briefly
# through tests/cli/test-fuzz-smoke.sh.
FUZZ_READERS_DIR := $(OUT)/fuzz
FUZZ_READERS := $(FUZZ_READERS_DIR)/fuzz-vmcoreinfo-standalone \
	$(FUZZ_READERS_DIR)/fuzz-elf-notes-standalone
FUZZ_READERS_SRCS := $(LIB_SRCS) tests/unit/vmcore-synth.c
FUZZ_READERS_CORPUS := tests/fixtures/fuzz/vmcoreinfo
.PHONY: fuzz-readers
fuzz: fuzz-readers
tests: $(FUZZ_READERS)
fuzz-readers: $(FUZZ_READERS)
	$(Q)$(FUZZ_READERS_DIR)/fuzz-vmcoreinfo-standalone $(FUZZ_READERS_CORPUS)/*
	$(Q)$(FUZZ_READERS_DIR)/fuzz-elf-notes-standalone
	$(Q)if command -v clang >/dev/null 2>&1 && echo 'int LLVMFuzzerTestOneInput(const char *d, long n) { return 0; }' | \
		clang -x c -fsanitize=fuzzer -o /dev/null - >/dev/null 2>&1; then \
		for t in vmcoreinfo elf-notes; do \
			printf '  %-8s %s\n' CLANG $(FUZZ_READERS_DIR)/fuzz-$$t; \
			clang -O1 $(FUZZ_SAN) -fsanitize=fuzzer -DCRASHCAP_LIBFUZZER $(BASE_CFLAGS) \
				$(DYN_CFLAGS) -Wno-error -o $(FUZZ_READERS_DIR)/fuzz-$$t tests/fuzz/fuzz-$$t.c \
				$(FUZZ_READERS_SRCS) $(DYN_LIBS) || exit 1; \
		done; \
		echo "fuzz: run $(FUZZ_READERS_DIR)/fuzz-vmcoreinfo $(FUZZ_READERS_CORPUS) -max_total_time=60"; \
	else echo "fuzz: clang with -fsanitize=fuzzer not found: libFuzzer builds skipped"; fi

$(FUZZ_READERS): $(FUZZ_READERS_DIR)/%-standalone: tests/fuzz/%.c $(FUZZ_READERS_SRCS) \
		$(wildcard lib/*.h) tests/unit/vmcore-synth.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(BASE_CFLAGS) $(DYN_CFLAGS) -O1 $(FUZZ_SAN) -o $@ $< $(FUZZ_READERS_SRCS) $(DYN_LIBS)
# --- end ---

tests: $(TESTS) $(PROGRAMS)

setup:
	scripts/setup.sh

# The README's test command. The set-up installs what is missing first.
check:
	scripts/setup.sh
	$(MAKE) --no-print-directory tests
	tests/run-tests.sh --build $(OUT) $(if $(filter 1,$(SANITIZE)),--unit-only)

check-unit:
	scripts/setup.sh --build-only
	$(MAKE) --no-print-directory tests
	tests/run-tests.sh --build $(OUT) --unit-only

demo:
	scripts/setup.sh
	$(MAKE) --no-print-directory all
	$(PYTHON) tests/qemu/demo.py --build $(BUILD)

# --- bench (issue 7) ---
# The vmcores (a 3 GiB QEMU guest on 6.1 and on 6.12) are built once and kept
# in build/cache/bench; BENCH_ARGS passes options (--repeat, --threads, --out).
BENCH_ARGS ?=
bench:
	scripts/setup.sh
	$(MAKE) --no-print-directory all
	CRASHCAP_BUILD=$(abspath $(BUILD)) $(PYTHON) tests/bench/bench.py $(BENCH_ARGS)
# --- end bench ---

install: $(PROGRAMS)
	$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(SYSCONFDIR)
	$(INSTALL) -m 0755 $(BUILD)/crashcapctl $(BUILD)/crashcapd $(DESTDIR)$(SBINDIR)/
	$(INSTALL) -m 0755 $(BUILD)/crashcap-collect $(DESTDIR)$(LIBEXECDIR)/
	sed 's|@SBINDIR@|$(SBINDIR)|g' units/crashcap.service > $(DESTDIR)$(UNITDIR)/crashcap.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/crashcap.service
	test -e $(DESTDIR)$(SYSCONFDIR)/crashcap.conf || \
		$(INSTALL) -m 0644 conf/crashcap.conf $(DESTDIR)$(SYSCONFDIR)/crashcap.conf
	$(INSTALL) -d $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(BASHCOMPDIR)
	$(INSTALL) -m 0644 man/crashcapctl.8 man/crashcapd.8 man/crashcap-collect.8 $(DESTDIR)$(MANDIR)/man8/
	$(INSTALL) -m 0644 man/crashcap.conf.5 $(DESTDIR)$(MANDIR)/man5/
	$(INSTALL) -m 0644 completion/crashcapctl $(DESTDIR)$(BASHCOMPDIR)/crashcapctl
	ln -sf crashcapctl $(DESTDIR)$(BASHCOMPDIR)/crashcapd

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD)/obj $(BUILD)/obj-static $(BUILD)/san $(BUILD)/tests $(BUILD)/qemu \
		$(BUILD)/test-logs $(PROGRAMS)

-include $(shell find $(OUT)/obj $(OUT)/obj-static -name '*.d' 2>/dev/null)

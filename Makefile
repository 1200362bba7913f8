# tickd — a plain Makefile. `make`, `make check`, `make run`, `make bench`,
# `make install DESTDIR=… PREFIX=…`, `make deps`, `make clean`.

VERSION  := 0.1.0
PREFIX   ?= /usr/local
DESTDIR  ?=
CC       ?= cc
BUILD    := build

# Debian packages the build, the tests and packaging need. `make deps`
# installs whichever are missing (and does nothing when all are present).
DEPS := build-essential pkg-config libsystemd-dev libinih-dev check mandoc \
        clang libclang-rt-14-dev valgrind systemd tzdata procps util-linux \
        bsdutils passwd debhelper dpkg-dev fakeroot lintian rpm

PKGS     := libsystemd inih check
WARN     := -Wall -Wextra -Werror -Wformat=2 -Wshadow -Wno-unused-parameter
CFLAGS   ?= -O2 -g
ALL_CFLAGS = -std=gnu11 $(WARN) -D_GNU_SOURCE -DTICKD_VERSION='"$(VERSION)"' \
             -Idaemon $(CFLAGS) $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LIBS      = $(shell pkg-config --libs libsystemd inih 2>/dev/null) -lm
TEST_LIBS = $(shell pkg-config --libs check 2>/dev/null)

SAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

# Sources: every daemon/*.c is library code except the two mains and the
# tickctl commands (ctl-*.c), which only tickctl links.
MAIN_TICKD   := daemon/main-tickd.c
MAIN_TICKCTL := daemon/main-tickctl.c
CTL_SRCS     := $(wildcard daemon/ctl-*.c)
LIB_SRCS     := $(filter-out $(MAIN_TICKD) $(MAIN_TICKCTL) $(CTL_SRCS),$(wildcard daemon/*.c))
TEST_SRCS    := $(wildcard tests/test-*.c)
HARNESS_SRCS := $(wildcard tests/harness*.c)
BENCH_SRCS   := $(wildcard tests/bench/bench-*.c)
FUZZ_SRCS    := $(wildcard tests/fuzz/fuzz-*.c)
HEADERS      := $(wildcard daemon/*.h tests/*.h)

# Two flavours of every object: plain (build/) and sanitized (build/asan/).
obj = $(patsubst %.c,$(1)/obj/%.o,$(2))

.SECONDARY:
.PHONY: all check check-unit check-docs run bench fuzz deps install uninstall clean deb rpm
all: $(BUILD)/tickd $(BUILD)/tickctl

define flavour
$(1)/obj/%.o: %.c $(HEADERS)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(ALL_CFLAGS) $(2) -c $$< -o $$@
$(1)/libtickd.a: $(call obj,$(1),$(LIB_SRCS))
	@rm -f $$@; ar rcs $$@ $$^
$(1)/tickd: $(call obj,$(1),$(MAIN_TICKD)) $(1)/libtickd.a
	$$(CC) $(2) $$^ $$(LIBS) -o $$@
$(1)/tickctl: $(call obj,$(1),$(MAIN_TICKCTL) $(CTL_SRCS)) $(1)/libtickd.a
	$$(CC) $(2) $$^ $$(LIBS) -o $$@
$(1)/tests/%: $(1)/obj/tests/%.o $(call obj,$(1),$(HARNESS_SRCS)) $(1)/libtickd.a
	@mkdir -p $$(dir $$@)
	$$(CC) $(2) $$^ $$(TEST_LIBS) $$(LIBS) -o $$@
endef
$(eval $(call flavour,$(BUILD),))
$(eval $(call flavour,$(BUILD)/asan,$(SAN_FLAGS)))

TESTS      := $(patsubst tests/%.c,%,$(TEST_SRCS))
ASAN_TESTS := $(addprefix $(BUILD)/asan/tests/,$(TESTS))

deps:
	@missing=""; for p in $(DEPS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "make deps: installing$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# Every test binary runs under AddressSanitizer+UBSan; the binaries the
# end-to-end tests start are the sanitized ones too (TICKD_BUILD_DIR).
check: deps
	$(MAKE) all
	$(MAKE) check-unit check-docs

check-unit: $(ASAN_TESTS) $(BUILD)/asan/tickd $(BUILD)/asan/tickctl
	@failed=0; for t in $(ASAN_TESTS); do \
	  echo "== $$t"; \
	  TICKD_BUILD_DIR=$(BUILD)/asan TICKD_SOURCE_DIR=$(CURDIR) \
	  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=23 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  $$t || failed=$$((failed+1)); \
	done; \
	if [ $$failed -ne 0 ]; then echo "check: $$failed test suite(s) failed"; exit 1; fi

MANPAGES := $(wildcard man/*.[1-8])
check-docs:
	@for m in $(MANPAGES); do \
	  out=$$(mandoc -Tlint -Wwarning $$m 2>&1); \
	  if [ -n "$$out" ]; then echo "$$out"; echo "mandoc -Tlint: $$m is not clean"; exit 1; fi; \
	  echo "mandoc -Tlint: $$m clean"; \
	done

run: deps all
	@mkdir -p $(BUILD)/run/state $(BUILD)/run/runtime
	exec $(BUILD)/tickd --config-dir $(CURDIR)/config --state-dir $(CURDIR)/$(BUILD)/run/state \
	  --runtime-dir $(CURDIR)/$(BUILD)/run/runtime --log-target stderr

BENCHES := $(patsubst tests/bench/%.c,$(BUILD)/bench/%,$(BENCH_SRCS))
$(BUILD)/bench/%: tests/bench/%.c $(BUILD)/libtickd.a $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -O2 $< $(BUILD)/libtickd.a $(LIBS) -o $@
bench: all $(BENCHES)
	@for b in $(BENCHES); do echo "== $$b"; TICKD_BUILD_DIR=$(BUILD) $$b || exit 1; done
	@for s in $(wildcard tests/bench/bench-*.sh); do echo "== $$s"; TICKD_BUILD_DIR=$(BUILD) bash $$s || exit 1; done

FUZZ_SECONDS ?= 30
FUZZERS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))
FUZZ_LIB_SRCS := $(LIB_SRCS)
$(BUILD)/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB_SRCS) $(HEADERS)
	@mkdir -p $(dir $@)
	clang -std=gnu11 $(WARN) -D_GNU_SOURCE -DTICKD_VERSION='"$(VERSION)"' -Idaemon -g -O1 \
	  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	  $< $(FUZZ_LIB_SRCS) $(LIBS) -o $@
fuzz: deps $(FUZZERS)
	@for f in $(FUZZERS); do \
	  name=$$(basename $$f); corpus=$(BUILD)/fuzz/corpus-$$name; mkdir -p $$corpus; \
	  echo "== $$name for $(FUZZ_SECONDS)s"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -timeout=10 $$corpus tests/fuzz/seeds-$$name || exit 1; \
	done

clean:
	rm -rf $(BUILD)

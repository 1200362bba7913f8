# tickd — a plain Makefile. `make`, `make check`, `make run`, `make bench`,
# `make install DESTDIR=… PREFIX=…`, `make deps`, `make clean`.

VERSION  := 0.1.0
PREFIX   ?= /usr/local
DESTDIR  ?=
CC       ?= cc
BUILD    := build

# Debian packages, in two lists. DEPS_RUN: what building and running tickd
# needs (`make`, `make run` install whichever are missing). DEPS_TEST: what
# the tests, the linters and packaging need besides (`make check`). `make
# deps` installs both; each does nothing when all are present. etcd, which
# the fleet tests run, and dma, the MTA of the mail test, are not installed
# at all but unpacked into the build tree (ETCD and DMA below; README,
# Dependencies, says why).
DEPS_RUN  := build-essential pkg-config libsystemd-dev libinih-dev libcurl4-openssl-dev libjson-c-dev libpam0g-dev tzdata
DEPS_TEST := check mandoc clang openssl libclang-rt-14-dev valgrind systemd procps util-linux \
             bsdutils passwd dbus-bin groff-base debhelper dpkg-dev fakeroot lintian rpm cppcheck clang-format \
             python3 python3-yaml python3-jsonschema
DEPS      := $(DEPS_RUN) $(DEPS_TEST)

PKGS     := libsystemd inih check libcurl json-c
WARN     := -Wall -Wextra -Werror -Wformat=2 -Wshadow -Wno-unused-parameter
CFLAGS   ?= -O2 -g
ALL_CFLAGS = -std=gnu11 $(WARN) -D_GNU_SOURCE -DTICKD_VERSION='"$(VERSION)"' \
             -Idaemon -Itests $(CPPFLAGS) $(CFLAGS) $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LIBS      = $(shell pkg-config --libs libsystemd inih libcurl json-c pam 2>/dev/null) -lm
TEST_LIBS = $(shell pkg-config --libs check 2>/dev/null)

SAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

# Sources, by where they sit (docs/ARCHITECTURE.md): daemon/core (pure,
# both binaries), daemon/shared (I/O both binaries need), daemon/tickd (the
# daemon), daemon/tickctl (the client). libtickd.a holds core, shared and
# the daemon's modules (tests link it); tickctl links core and shared only.
CORE_SRCS    := $(wildcard daemon/core/*.c)
SHARED_SRCS  := $(wildcard daemon/shared/*.c)
MAIN_TICKD   := daemon/tickd/main.c
TICKD_SRCS   := $(filter-out $(MAIN_TICKD),$(wildcard daemon/tickd/*.c))
TICKCTL_SRCS := $(wildcard daemon/tickctl/*.c)
LIB_SRCS     := $(CORE_SRCS) $(SHARED_SRCS) $(TICKD_SRCS)
TEST_SRCS    := $(wildcard tests/*/test-*.c)
HARNESS_SRCS := $(wildcard tests/harness/harness*.c)
BENCH_SRCS   := $(wildcard tests/bench/bench-*.c)
FUZZ_SRCS    := $(wildcard tests/fuzz/fuzz-*.c)
HEADERS      := $(wildcard daemon/*/*.h tests/*/*.h)

# Two flavours of every object: plain (build/) and sanitized (build/asan/).
obj = $(patsubst %.c,$(1)/obj/%.o,$(2))

.SECONDARY:
.PHONY: all programs deps-run check check-rules check-clock suite-summary check-unit check-docs lint lint-layers lint-format run bench fuzz fuzz-minimize deps install uninstall clean deb rpm check-install print-unitdirs
# `make` first installs what building and running needs (DEPS_RUN), then
# builds; the two steps run one after the other even under -j.
all: deps-run
	@$(MAKE) --no-print-directory programs
programs: $(BUILD)/tickd $(BUILD)/tickctl

define flavour
$(1)/obj/%.o: %.c $(HEADERS)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(ALL_CFLAGS) $(2) -c $$< -o $$@
$(1)/libtickd.a: $(call obj,$(1),$(LIB_SRCS))
	@rm -f $$@; ar rcs $$@ $$^
$(1)/tickd: $(call obj,$(1),$(MAIN_TICKD)) $(1)/libtickd.a
	$$(CC) $(2) $$(LDFLAGS) $$^ $$(LIBS) -o $$@
$(1)/tickctl: $(call obj,$(1),$(TICKCTL_SRCS) $(CORE_SRCS) $(SHARED_SRCS))
	$$(CC) $(2) $$(LDFLAGS) $$^ $$(LIBS) -o $$@
$(1)/tests/%: $(1)/obj/tests/%.o $(call obj,$(1),$(HARNESS_SRCS)) $(1)/libtickd.a
	@mkdir -p $$(dir $$@)
	$$(CC) $(2) $$(TEST_LDFLAGS) $$^ $$(TEST_LIBS) $$(LIBS) -o $$@
endef
$(eval $(call flavour,$(BUILD),))
$(eval $(call flavour,$(BUILD)/asan,$(SAN_FLAGS)))

# The allocation-failure sweep (tests/core/test-alloc-fail.c): the linker
# sends the allocation calls of every object in that one test binary
# (libtickd.a's included) to the test's counting wrappers, __wrap_NAME.
ALLOC_FAIL_WRAP := -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup,--wrap=strndup,--wrap=free \
                   -Wl,--wrap=asprintf,--wrap=vasprintf,--wrap=fopen,--wrap=fdopendir
$(BUILD)/tests/core/test-alloc-fail $(BUILD)/asan/tests/core/test-alloc-fail: private TEST_LDFLAGS := $(ALLOC_FAIL_WRAP)

TESTS      := $(patsubst tests/%.c,%,$(TEST_SRCS))
ASAN_TESTS := $(addprefix $(BUILD)/asan/tests/,$(TESTS))

# Installs the missing ones of the packages $(1); nothing where there is no
# dpkg (an RPM build of the sources).
define install_missing
	@command -v dpkg-query >/dev/null || exit 0; missing=""; for p in $(1); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "make deps: installing$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi
endef
deps:
	$(call install_missing,$(DEPS))
deps-run:
	$(call install_missing,$(DEPS_RUN))

# etcd for the fleet tests (TICKD_ETCD), from Debian's etcd-server package
# but never installed: installing it would add a system user and enable
# and start an etcd service on this host. It is downloaded (apt-get
# download; the package lists refreshed only when it is not found) and
# unpacked (dpkg-deb -x) into $(BUILD)/deps/etcd; nothing outside the
# build tree changes but apt's lists.
ETCD := $(BUILD)/deps/etcd/usr/bin/etcd
$(ETCD):
	@mkdir -p $(BUILD)/deps && rm -f $(BUILD)/deps/etcd-server_*.deb
	cd $(BUILD)/deps && { apt-get download etcd-server 2>/dev/null || \
	  { apt-get update -qq && apt-get download etcd-server; }; }
	rm -rf $(BUILD)/deps/etcd && dpkg-deb -x $(BUILD)/deps/etcd-server_*.deb $(BUILD)/deps/etcd
	@test -x $@ && touch $@ && $@ --version | head -n 1

# dma (the DragonFly Mail Agent) for the mail test (TICKD_DMA): a real MTA
# that delivers to /var/mail and needs no daemon. Never installed either:
# installing an MTA changes how this host sends mail. Unpacked like etcd;
# tests/tickd/test-daemon-mail.c gives it a private /var/mail and spool.
DMA := $(BUILD)/deps/dma/usr/sbin/dma
$(DMA):
	@mkdir -p $(BUILD)/deps && rm -f $(BUILD)/deps/dma_*.deb
	cd $(BUILD)/deps && { apt-get download dma 2>/dev/null || \
	  { apt-get update -qq && apt-get download dma; }; }
	rm -rf $(BUILD)/deps/dma && dpkg-deb -x $(BUILD)/deps/dma_*.deb $(BUILD)/deps/dma
	@test -x $@ && touch $@

# promtool (and prometheus) for the metrics tests (TICKD_PROMTOOL,
# TICKD_PROMETHEUS), from Debian's prometheus package, fetched and
# unpacked as etcd is above and for the same reason: installing it would
# add a user and start a Prometheus service on this host.
PROMTOOL := $(BUILD)/deps/prometheus/usr/bin/promtool
$(PROMTOOL):
	@mkdir -p $(BUILD)/deps && rm -f $(BUILD)/deps/prometheus_*.deb
	cd $(BUILD)/deps && { apt-get download prometheus 2>/dev/null || \
	  { apt-get update -qq && apt-get download prometheus; }; }
	rm -rf $(BUILD)/deps/prometheus && dpkg-deb -x $(BUILD)/deps/prometheus_*.deb $(BUILD)/deps/prometheus
	@test -x $@ && touch $@ && $@ --version 2>&1 | head -n 1

# The example alert rules (packaging/tickd.rules.yml) as Prometheus reads
# them, and their unit tests (which alerts fire on which series).
check-rules: $(PROMTOOL)
	$(PROMTOOL) check rules packaging/tickd.rules.yml
	$(PROMTOOL) test rules tests/docs/tickd-rules.test.yml

# Every test binary runs under AddressSanitizer+UBSan; the binaries the
# end-to-end tests start are the sanitized ones too (TICKD_BUILD_DIR).
# The suites come last, so that a passing run ends with their one summary
# line ("check: N suites, N checks, N passed, 0 failed, 0 errors, N not run").
check: deps $(ETCD) $(DMA) $(PROMTOOL)
	$(MAKE) all
	$(MAKE) lint check-docs check-rules check-install rpm
	$(MAKE) --no-print-directory check-unit

# Suites run CHECK_JOBS at a time (most of their time is spent waiting on
# processes and timers), each in its own mount namespace over a private
# copy of /etc (tests/run-suite.sh). test-clock steps the real-time clock:
# it is not part of make check but of make check-clock, run alone.
CHECK_JOBS  ?= 4
CLOCK_TESTS := tickd/test-clock
# The longest suites first, so the parallel run ends sooner.
SLOW_TESTS  := tickd/test-control-daemon integration/test-fleet-policies tickd/test-daemon-metrics integration/test-systemd tickctl/test-export tickd/test-daemon-reload tickd/test-control tickd/test-daemon-soak integration/test-fleet tickd/test-daemon
UNIT_TESTS  := $(filter $(SLOW_TESTS),$(TESTS)) $(filter-out $(SLOW_TESTS) $(CLOCK_TESTS),$(TESTS))
SUITE_ENV    = TICKD_BUILD_DIR=$(BUILD)/asan TICKD_SOURCE_DIR=$(CURDIR) TICKD_ETCD=$(CURDIR)/$(ETCD) \
               TICKD_DMA=$(CURDIR)/$(DMA) \
               TICKD_PROMTOOL=$(CURDIR)/$(PROMTOOL) TICKD_PROMETHEUS=$(CURDIR)/$(BUILD)/deps/prometheus/usr/bin/prometheus \
               ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=23 \
               UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

check-unit: $(ASAN_TESTS) $(BUILD)/asan/tickd $(BUILD)/asan/tickctl $(ETCD) $(DMA) $(PROMTOOL)
	@rm -rf $(BUILD)/asan/logs
	@$(MAKE) --no-print-directory -k -j$(CHECK_JOBS) $(addprefix suite/,$(UNIT_TESTS)); \
	status=$$?; $(MAKE) --no-print-directory suite-summary; exit $$status

check-clock: $(addprefix $(BUILD)/asan/tests/,$(CLOCK_TESTS)) $(BUILD)/asan/tickd $(BUILD)/asan/tickctl
	@rm -rf $(BUILD)/asan/logs
	@$(MAKE) --no-print-directory $(addprefix suite/,$(CLOCK_TESTS)); \
	status=$$?; $(MAKE) --no-print-directory suite-summary; exit $$status

suite/shared/test-etcd suite/integration/test-fleet-secure: $(ETCD)
suite/tickd/test-daemon-mail: $(DMA)
suite/tickd/test-daemon-metrics: $(PROMTOOL) $(ETCD)
suite/%:
	@$(SUITE_ENV) tests/run-suite.sh $(BUILD)/asan/tests/$* $(BUILD)/asan/logs/$*.log

suite-summary:
	@cat $(BUILD)/asan/logs/*/*.log | awk -F'[:,] *' '/^[0-9]+%: Checks: / { c += $$3; f += $$5; e += $$7; n++ } \
	  /^NOT RUN / { u++; sub(/^NOT RUN /, ""); notrun = notrun "  not run: " $$0 "\n" } \
	  END { printf "%s", notrun; printf "check: %d suites, %d checks, %d passed, %d failed, %d errors, %d not run\n", n, c, c - f - e, f, e, u }'

# Static analysis; a false positive gets an inline
# `// cppcheck-suppress ID ; why` on the line before it.
lint: lint-layers lint-format
	cppcheck --quiet --enable=warning,performance,portability --std=c11 -D_GNU_SOURCE -Idaemon -Itests \
	  --suppress=missingIncludeSystem --inline-suppr --error-exitcode=1 daemon/ tests/

# The layers only look down (docs/ARCHITECTURE.md): core includes core;
# shared includes core and shared; tickctl never includes tickd.
lint-layers:
	@bad=$$(grep -Hn '#include "\(shared\|tickd\|tickctl\)/' daemon/core/*.[ch]; \
	        grep -Hn '#include "\(tickd\|tickctl\)/' daemon/shared/*.[ch]; \
	        grep -Hn '#include "tickd/' daemon/tickctl/*.[ch]; \
	        grep -Hn '#include "tickctl/' daemon/tickd/*.[ch]); \
	if [ -n "$$bad" ]; then echo "$$bad"; echo "lint-layers: an include looks up or across (docs/ARCHITECTURE.md)"; exit 1; fi; \
	echo "lint-layers: every include looks down"

# Every C file as .clang-format (the house style) has it: clang-format 14,
# Debian 12's. `clang-format -i --style=file FILE` mends one.
FORMAT_SRCS = $(wildcard daemon/*/*.[ch] tests/*/*.[ch] tests/bench/*.c tests/fuzz/*.c)
lint-format:
	@clang-format --dry-run --Werror --style=file $(FORMAT_SRCS) && echo "lint-format: every C file is formatted as .clang-format says"

MANPAGES := $(wildcard man/*.[1-8])
check-docs:
	@for m in $(MANPAGES); do \
	  out=$$(mandoc -Tlint -Wwarning $$m 2>&1); \
	  if [ -n "$$out" ]; then echo "$$out"; echo "mandoc -Tlint: $$m is not clean"; exit 1; fi; \
	  echo "mandoc -Tlint: $$m clean"; \
	done
	@tests/docs/check-man-quotes.sh $(MANPAGES)
	@for f in README.md man/tickd.8; do grep -q 'enable-linger' $$f || \
	  { echo "check-docs: $$f does not say how a user's jobs run while logged out (loginctl enable-linger)"; exit 1; }; done

# tickd logs to stderr here, so tickctl history and logs have nothing to
# read; status, list, next, run and cancel talk to it with the line below.
run: all
	@mkdir -p $(BUILD)/run/state $(BUILD)/run/runtime
	@echo "make run: from another terminal: $(CURDIR)/$(BUILD)/tickctl status --runtime-dir $(CURDIR)/$(BUILD)/run/runtime --config-dir $(CURDIR)/config --state-dir $(CURDIR)/$(BUILD)/run/state"
	exec $(BUILD)/tickd --config-dir $(CURDIR)/config --state-dir $(CURDIR)/$(BUILD)/run/state \
	  --runtime-dir $(CURDIR)/$(BUILD)/run/runtime --log-target stderr

BENCHES := $(patsubst tests/bench/%.c,$(BUILD)/bench/%,$(BENCH_SRCS))
$(BUILD)/bench/%: tests/bench/%.c $(BUILD)/libtickd.a $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -O2 $< $(BUILD)/libtickd.a $(LIBS) -o $@
# The start-latency benchmarks' job: static, so nothing runs between its
# exec and its stamp.
$(BUILD)/bench/stamp: tests/bench/stamp.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 $(WARN) -O2 -static $< -o $@
bench: all $(BENCHES) $(BUILD)/bench/stamp $(ETCD)
	@for b in $(BENCHES); do echo "== $$b"; TICKD_BUILD_DIR=$(BUILD) $$b || exit 1; done
	@for s in $(wildcard tests/bench/bench-*.sh); do echo "== $$s"; TICKD_BUILD_DIR=$(BUILD) bash $$s || exit 1; done

# libFuzzer targets. The library is compiled once with coverage
# instrumentation (fuzzer-no-link) and linked into each target. New inputs
# go to the first corpus directory, $(BUILD)/fuzz/corpus-NAME; the seeds
# (hand-made) and the committed, minimised corpus (tests/fuzz/corpus-NAME,
# see fuzz-minimize) are only read. Each target's output is kept in
# $(BUILD)/fuzz/NAME.log; a crash, leak or timeout fails `make fuzz`, and
# its input is left in $(BUILD)/fuzz/artifacts/.
# `make fuzz` is the campaign: each target until 10 million executions or
# an hour, whichever comes first; `make fuzz FUZZ_SECONDS=60` a quick look.
FUZZ_SECONDS ?= 3600
FUZZ_RUNS    ?= 10000000
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS  := -std=gnu11 $(WARN) -D_GNU_SOURCE -DTICKD_VERSION='"$(VERSION)"' -Idaemon -Itests -g -O1
FUZZERS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))
$(BUILD)/fuzz/obj/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(FUZZ_SAN) -c $< -o $@
$(BUILD)/fuzz/libtickd.a: $(call obj,$(BUILD)/fuzz,$(LIB_SRCS))
	@rm -f $@; ar rcs $@ $^
$(BUILD)/fuzz/%: tests/fuzz/%.c $(BUILD)/fuzz/libtickd.a $(HEADERS)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer $(FUZZ_SAN) $< $(BUILD)/fuzz/libtickd.a $(LIBS) -o $@
fuzz: deps $(FUZZERS)
	@mkdir -p $(BUILD)/fuzz/artifacts
	@for f in $(FUZZERS); do \
	  name=$$(basename $$f); corpus=$(BUILD)/fuzz/corpus-$$name; mkdir -p $$corpus; \
	  dirs="$$corpus tests/fuzz/seeds-$$name"; [ -d tests/fuzz/corpus-$$name ] && dirs="$$dirs tests/fuzz/corpus-$$name"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -runs=$(FUZZ_RUNS) -timeout=10 -print_final_stats=1 \
	    -artifact_prefix=$(BUILD)/fuzz/artifacts/$$name- $$dirs >$(BUILD)/fuzz/$$name.log 2>&1; status=$$?; \
	  awk -v name=$$name -v status=$$status '/^stat::number_of_executed_units:/ { n = $$2 } \
	    /^stat::average_exec_per_sec:/ { r = $$2 } /^Done [0-9]+ runs in/ { t = $$(NF - 1) } \
	    END { printf "%-16s %10d executions %8d exec/s %6d s  %s\n", name, n, r, t, status ? "FAILED" : "ok" }' \
	    $(BUILD)/fuzz/$$name.log; \
	  if [ $$status -ne 0 ]; then tail -n 40 $(BUILD)/fuzz/$$name.log; \
	    echo "make fuzz: $$name failed (exit $$status); log $(BUILD)/fuzz/$$name.log"; exit 1; fi; \
	done

# Merges what fuzzing found ($(BUILD)/fuzz/corpus-NAME) with the committed
# corpus into a minimised tests/fuzz/corpus-NAME: the fewest inputs that
# keep the coverage of all of them, less any input that is a seed already.
fuzz-minimize: $(FUZZERS)
	@for f in $(FUZZERS); do \
	  name=$$(basename $$f); out=tests/fuzz/corpus-$$name; tmp=$(BUILD)/fuzz/merge-$$name; \
	  rm -rf $$tmp; mkdir -p $$tmp $$out $(BUILD)/fuzz/corpus-$$name; \
	  $$f -merge=1 $$tmp tests/fuzz/seeds-$$name $$out $(BUILD)/fuzz/corpus-$$name \
	    >$(BUILD)/fuzz/$$name-merge.log 2>&1 || { cat $(BUILD)/fuzz/$$name-merge.log; exit 1; }; \
	  for s in tests/fuzz/seeds-$$name/*; do rm -f $$tmp/$$(sha1sum <$$s | cut -c1-40); done; \
	  rm -rf $$out; mv $$tmp $$out; \
	  echo "$$name: $$(ls $$out | wc -l) inputs in $$out besides the seeds"; \
	done

clean:
	rm -rf $(BUILD)

# ==== Installation, packages and the systemd proof (packaging) ============
# Kept in one section so that other branches' Makefile edits merge cleanly.
#
# Directories follow PREFIX: with PREFIX=/usr the units, the catalog and
# the user units go where this system's systemd.pc says (Debian 12:
# /lib/systemd/system, /usr/lib/systemd/user); with any other PREFIX
# (/usr/local) the same layout under PREFIX, which systemd also searches
# (/usr/local/lib/systemd/system, …/user, …/catalog). Configuration always
# goes to /etc, where tickd reads it. Each directory can be overridden.
SYSTEMD_PC_PREFIX := $(shell pkg-config --variable=prefix systemd 2>/dev/null)
ifeq ($(PREFIX),$(SYSTEMD_PC_PREFIX))
SYSTEMD_PC := pkg-config
else
SYSTEMD_PC := pkg-config --define-variable=prefix=$(PREFIX) \
              --define-variable=root_prefix=$(PREFIX) --define-variable=rootprefix=$(PREFIX)
endif
BINDIR               ?= $(PREFIX)/bin
SBINDIR              ?= $(PREFIX)/sbin
MANDIR               ?= $(PREFIX)/share/man
DATADIR              ?= $(PREFIX)/share
BASHCOMPLETIONDIR    ?= $(PREFIX)/share/bash-completion/completions
SYSCONFDIR           ?= /etc
SYSTEMDSYSTEMUNITDIR ?= $(shell $(SYSTEMD_PC) --variable=systemdsystemunitdir systemd)
SYSTEMDUSERUNITDIR   ?= $(shell $(SYSTEMD_PC) --variable=systemduserunitdir systemd)
CATALOGDIR           ?= $(shell $(SYSTEMD_PC) --variable=catalogdir systemd)

# The units name /usr/sbin and /usr/bin; point them at the installed programs.
UNIT_SED := -e 's|/usr/sbin/|$(SBINDIR)/|g' -e 's|/usr/bin/|$(BINDIR)/|g'
# The journal catalog is written with the journal integration; installed
# when it exists.
CATALOG := $(wildcard packaging/tickd.catalog)
# /etc/pam.d/tickd (pam = yes): Debian's @include form; the RPM spec passes
# PAMFILE=packaging/pam.d/tickd.redhat (Fedora's "include system-auth").
PAMFILE ?= packaging/pam.d/tickd

install: all
	install -Dm0755 $(BUILD)/tickd $(DESTDIR)$(SBINDIR)/tickd
	install -Dm0755 $(BUILD)/tickctl $(DESTDIR)$(BINDIR)/tickctl
	install -d $(DESTDIR)$(SYSTEMDSYSTEMUNITDIR) $(DESTDIR)$(SYSTEMDUSERUNITDIR)
	sed $(UNIT_SED) packaging/tickd.service > $(DESTDIR)$(SYSTEMDSYSTEMUNITDIR)/tickd.service
	sed $(UNIT_SED) packaging/tickd-user.service > $(DESTDIR)$(SYSTEMDUSERUNITDIR)/tickd.service
	chmod 0644 $(DESTDIR)$(SYSTEMDSYSTEMUNITDIR)/tickd.service $(DESTDIR)$(SYSTEMDUSERUNITDIR)/tickd.service
	@for m in $(MANPAGES); do \
	  echo "install -Dm0644 $$m $(DESTDIR)$(MANDIR)/man$${m##*.}/$${m##*/}"; \
	  install -Dm0644 $$m $(DESTDIR)$(MANDIR)/man$${m##*.}/$${m##*/} || exit 1; \
	done
	$(if $(CATALOG),install -Dm0644 $(CATALOG) $(DESTDIR)$(CATALOGDIR)/tickd.catalog)
	install -Dm0644 packaging/tickctl.bash-completion $(DESTDIR)$(BASHCOMPLETIONDIR)/tickctl
	install -Dm0644 packaging/tickd.conf $(DESTDIR)$(SYSCONFDIR)/tickd/tickd.conf
	install -Dm0644 packaging/example.ini $(DESTDIR)$(SYSCONFDIR)/tickd/jobs.d/example.ini
	install -Dm0644 $(PAMFILE) $(DESTDIR)$(SYSCONFDIR)/pam.d/tickd
	install -Dm0644 packaging/tickd.rules.yml $(DESTDIR)$(DATADIR)/tickd/tickd.rules.yml

# Removes exactly what install put there; directories only when empty
# (an administrator's crontabs in jobs.d stay).
uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/tickd $(DESTDIR)$(BINDIR)/tickctl \
	  $(DESTDIR)$(SYSTEMDSYSTEMUNITDIR)/tickd.service $(DESTDIR)$(SYSTEMDUSERUNITDIR)/tickd.service \
	  $(DESTDIR)$(CATALOGDIR)/tickd.catalog $(DESTDIR)$(BASHCOMPLETIONDIR)/tickctl \
	  $(DESTDIR)$(SYSCONFDIR)/tickd/tickd.conf $(DESTDIR)$(SYSCONFDIR)/tickd/jobs.d/example.ini \
	  $(DESTDIR)$(SYSCONFDIR)/pam.d/tickd \
	  $(DESTDIR)$(DATADIR)/tickd/tickd.rules.yml
	@for m in $(MANPAGES); do echo "rm -f $(DESTDIR)$(MANDIR)/man$${m##*.}/$${m##*/}"; \
	  rm -f $(DESTDIR)$(MANDIR)/man$${m##*.}/$${m##*/}; done
	-rmdir $(DESTDIR)$(SYSCONFDIR)/tickd/jobs.d $(DESTDIR)$(SYSCONFDIR)/tickd $(DESTDIR)$(DATADIR)/tickd 2>/dev/null

# install + uninstall into a scratch DESTDIR, for both prefixes: the files
# land where expected, and uninstall leaves no file behind.
check-install: all
	@set -e; for prefix in /usr /usr/local; do \
	  d=$(CURDIR)/$(BUILD)/check-install; rm -rf $$d; \
	  $(MAKE) -s install DESTDIR=$$d PREFIX=$$prefix >/dev/null; \
	  for f in $$prefix/sbin/tickd $$prefix/bin/tickctl \
	           /etc/tickd/tickd.conf /etc/tickd/jobs.d/example.ini /etc/pam.d/tickd $$prefix/share/tickd/tickd.rules.yml \
	           $$prefix/share/bash-completion/completions/tickctl \
	           $$($(MAKE) -s --no-print-directory print-unitdirs PREFIX=$$prefix); do \
	    [ -f $$d$$f ] || { echo "check-install: $$prefix: $$f not installed"; exit 1; }; done; \
	  if [ $$prefix = /usr/local ] && ! grep -q '^ExecStart=/usr/local/sbin/tickd$$' \
	       $$d/usr/local/lib/systemd/system/tickd.service; then \
	    echo "check-install: unit does not point at /usr/local/sbin/tickd"; exit 1; fi; \
	  $(MAKE) -s uninstall DESTDIR=$$d PREFIX=$$prefix >/dev/null; \
	  left=$$(find $$d ! -type d); \
	  [ -z "$$left" ] || { echo "check-install: $$prefix: left after uninstall: $$left"; exit 1; }; \
	  echo "check-install: PREFIX=$$prefix install/uninstall clean"; \
	done; rm -rf $(CURDIR)/$(BUILD)/check-install
print-unitdirs:
	@echo $(SYSTEMDSYSTEMUNITDIR)/tickd.service $(SYSTEMDUSERUNITDIR)/tickd.service

# ---- Debian package: make deb -> build/deb/tickd_VERSION_ARCH.deb ----
# dpkg-buildpackage wants debian/ at the top of a source tree: the tree is
# copied to build/deb-src/tickd-VERSION/ with packaging/debian as debian/.
# lintian runs on the result and fails the build on any error.
DEB_ARCH     := $(shell dpkg --print-architecture 2>/dev/null)
DEB          := $(BUILD)/deb/tickd_$(VERSION)_$(DEB_ARCH).deb
DEB_SRC      := $(BUILD)/deb-src/tickd-$(VERSION)
PKG_INPUTS   := Makefile $(filter-out %/,$(wildcard daemon/*/* man/* packaging/* \
                packaging/debian/* packaging/debian/source/* packaging/pam.d/*))

deb: $(DEB)
$(DEB): $(PKG_INPUTS)
	@v=$$(dpkg-parsechangelog -l packaging/debian/changelog -S Version); \
	[ "$$v" = "$(VERSION)" ] || { echo "make deb: debian/changelog says $$v, Makefile $(VERSION)"; exit 1; }
	rm -rf $(BUILD)/deb-src; mkdir -p $(DEB_SRC) $(BUILD)/deb
	tar -c --exclude=./build --exclude=./.git --exclude=./packaging/debian -f - . | tar -x -C $(DEB_SRC) -f -
	cp -r packaging/debian $(DEB_SRC)/debian
	cd $(DEB_SRC) && dpkg-buildpackage -us -uc -b > ../build.log 2>&1 || { tail -40 ../build.log; exit 1; }
	lintian --allow-root --fail-on error $(BUILD)/deb-src/tickd_$(VERSION)_$(DEB_ARCH).changes
	rm -f $(BUILD)/deb/*; mv $(BUILD)/deb-src/tickd*_$(VERSION)_* $(BUILD)/deb/
	@echo "make deb: $(DEB)"

# ---- RPM: make rpm -> build/rpm/RPMS/ARCH/tickd-VERSION-1.ARCH.rpm ----
# On Debian the build requirements are not in an RPM database: --nodeps.
rpm: $(PKG_INPUTS)
	rm -rf $(BUILD)/rpm; mkdir -p $(BUILD)/rpm/SOURCES $(BUILD)/rpm/tar/tickd-$(VERSION)
	tar -c --exclude=./build --exclude=./.git -f - . | tar -x -C $(BUILD)/rpm/tar/tickd-$(VERSION) -f -
	tar -C $(BUILD)/rpm/tar -czf $(BUILD)/rpm/SOURCES/tickd-$(VERSION).tar.gz tickd-$(VERSION)
	rpmbuild -bb --nodeps --define '_topdir $(CURDIR)/$(BUILD)/rpm' \
	  --define 'tickd_version $(VERSION)' \
	  $$(rpm --eval '%{?systemd_post:defined}' | grep -q defined || echo --load packaging/rpm-macros.systemd) \
	  packaging/tickd.spec > $(BUILD)/rpm/build.log 2>&1 \
	  || { tail -40 $(BUILD)/rpm/build.log; exit 1; }
	@ls $(BUILD)/rpm/RPMS/*/tickd-$(VERSION)-*.rpm
	@# Installable: the files land where the spec says, the systemd scriptlets
	@# are there, and it installs into (and erases from) an empty RPM database.
	@# --nodeps/--noscripts: Debian's RPM database knows no libc or systemd.
	@r=$$(ls $(BUILD)/rpm/RPMS/*/tickd-$(VERSION)-*.rpm | head -1); root=$(CURDIR)/$(BUILD)/rpm/root; \
	  for f in /usr/sbin/tickd /usr/bin/tickctl /usr/lib/systemd/system/tickd.service /etc/tickd/tickd.conf; do \
	    rpm -qpl $$r | grep -qx $$f || { echo "make rpm: $$f is not in $$r"; exit 1; }; done; \
	  rpm -qp --scripts $$r | grep -q 'systemctl' || { echo "make rpm: no systemd scriptlets in $$r"; exit 1; }; \
	  rm -rf $$root && mkdir -p $$root && rpm --root $$root --initdb && \
	  rpm --root $$root -i --nodeps --noscripts $$r && test -x $$root/usr/sbin/tickd && \
	  rpm --root $$root -q tickd && rpm --root $$root -e --nodeps --noscripts tickd && \
	  test ! -e $$root/usr/sbin/tickd || { echo "make rpm: $$r does not install and erase cleanly"; exit 1; }; \
	  rm -rf $$root; echo "make rpm: $$r installs and erases cleanly (scratch root)"

# The proof under a real systemd (tests/test-systemd.c runs
# tests/systemd-proof.sh) installs the freshly built .deb.
check-unit: $(DEB)

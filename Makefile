# dfix - plain Makefile. `make` builds ./dfix; `make test` runs every test.
# Dependencies come from pkg-config; `make deps` installs them on Debian/Ubuntu.

PREFIX ?= /usr/local
DESTDIR ?=
CC ?= cc
PKG_CONFIG ?= pkg-config
DEBIAN_PKGS = build-essential pkg-config libpcre2-dev libcmocka-dev libjansson-dev libyaml-dev python3 git

WARN = -std=c11 -Wall -Wextra -Wshadow -Wpedantic -Wmissing-prototypes -Wno-unused-parameter
CFLAGS ?= -O2 -g
ALL_CFLAGS = $(WARN) $(CFLAGS) -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Iinclude -Isrc
LIBS_PKGS = libpcre2-8 jansson yaml-0.1

# Ask pkg-config once; name the Debian package that is missing.
PKG_OK := $(shell $(PKG_CONFIG) --exists $(LIBS_PKGS) && echo yes)
ifneq ($(PKG_OK),yes)
# (`make demo`, `make test` and `make asan` install them first, then run a
# fresh make that sees them.)
ifeq ($(filter deps help demo test asan,$(MAKECMDGOALS)),)
$(error missing build dependencies: run 'make deps' (or: apt-get install $(DEBIAN_PKGS)))
endif
endif
DEP_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(LIBS_PKGS) 2>/dev/null)
DEP_LIBS := $(shell $(PKG_CONFIG) --libs $(LIBS_PKGS) 2>/dev/null)
CMOCKA_LIBS := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)

SRC := $(filter-out src/main.c,$(wildcard src/*.c)) $(wildcard transforms/*.c)
OBJ := $(patsubst %.c,build/%.o,$(SRC))
TESTS := $(patsubst tests/%.c,build/tests/%,$(wildcard tests/test_*.c))

.PHONY: all deps test test-run asan-run demo-run unit golden golden-update corpus buildkit fuzz-replay asan fuzz bench demo install uninstall dist clean check-deps

all: dfix

deps:
	@if $(PKG_CONFIG) --exists $(LIBS_PKGS) cmocka 2>/dev/null && command -v python3 >/dev/null; then \
		echo "build dependencies present"; \
	else \
		SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DEBIAN_PKGS); \
	fi

build/%.o: %.c include/dfix.h src/internal.h $(wildcard src/*.h) $(wildcard transforms/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(DEP_CFLAGS) -c -o $@ $<

build/libdfix.a: $(OBJ)
	@rm -f $@
	ar rcs $@ $(OBJ)

dfix: build/src/main.o build/libdfix.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ build/src/main.o build/libdfix.a $(DEP_LIBS)

# tests of one pass share tests/passcase.c (the pass run alone, a build context)
PASSCASE_TESTS := test_manifests test_multi_stage
$(addprefix build/tests/,$(PASSCASE_TESTS)) $(addprefix build-asan/tests/,$(PASSCASE_TESTS)): \
	tests/passcase.c tests/passcase.h

build/tests/%: tests/%.c build/libdfix.a
	@mkdir -p $(dir $@)
	@$(PKG_CONFIG) --exists cmocka || { echo "missing cmocka: run 'make deps' (apt-get install libcmocka-dev)"; exit 2; }
	$(CC) $(ALL_CFLAGS) $(DEP_CFLAGS) -o $@ $(filter %.c,$^) build/libdfix.a $(DEP_LIBS) $(CMOCKA_LIBS)

unit: $(TESTS)
	@set -e; for t in $(TESTS); do echo "== $$t"; ./$$t; done

test: deps
	@$(MAKE) --no-print-directory test-run

test-run: dfix unit build/fuzz-replay
	@python3 tests/run_tests.py

# The fuzz harness with a plain main() that replays files: runs under $(CC) in make test.
build/fuzz-replay: tests/fuzz/fuzz_roundtrip.c build/libdfix.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(DEP_CFLAGS) -DFUZZ_REPLAY_MAIN -o $@ $< build/libdfix.a $(DEP_LIBS)

fuzz-replay: build/fuzz-replay
	@build/fuzz-replay tests/fuzz/corpus

# Everything again in build-asan/ under AddressSanitizer + UBSan, then every test.
ASAN_CFLAGS = $(WARN) -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Iinclude -Isrc
ASAN_OBJ := $(patsubst %.c,build-asan/%.o,$(SRC))
ASAN_TESTS := $(patsubst tests/%.c,build-asan/tests/%,$(wildcard tests/test_*.c))

build-asan/%.o: %.c include/dfix.h src/internal.h $(wildcard src/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_CFLAGS) $(DEP_CFLAGS) -c -o $@ $<

build-asan/libdfix.a: $(ASAN_OBJ)
	@rm -f $@
	ar rcs $@ $(ASAN_OBJ)

build-asan/dfix: build-asan/src/main.o build-asan/libdfix.a
	$(CC) $(ASAN_CFLAGS) $(LDFLAGS) -o $@ build-asan/src/main.o build-asan/libdfix.a $(DEP_LIBS)

build-asan/tests/%: tests/%.c build-asan/libdfix.a
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_CFLAGS) $(DEP_CFLAGS) -o $@ $(filter %.c,$^) build-asan/libdfix.a $(DEP_LIBS) $(CMOCKA_LIBS)

build-asan/fuzz-replay: tests/fuzz/fuzz_roundtrip.c build-asan/libdfix.a
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_CFLAGS) $(DEP_CFLAGS) -DFUZZ_REPLAY_MAIN -o $@ $< build-asan/libdfix.a $(DEP_LIBS)

asan: deps
	@$(MAKE) --no-print-directory asan-run

asan-run: build-asan/dfix build-asan/fuzz-replay $(ASAN_TESTS)
	@set -e; for t in $(ASAN_TESTS); do echo "== $$t"; ./$$t; done
	@DFIX=build-asan/dfix FUZZ_REPLAY=build-asan/fuzz-replay python3 tests/run_tests.py

# libFuzzer (clang): build/fuzz-roundtrip [-max_total_time=N] tests/fuzz/corpus
FUZZ_CC ?= clang
fuzz: build/fuzz-roundtrip

build/fuzz-roundtrip: tests/fuzz/fuzz_roundtrip.c $(SRC) include/dfix.h src/internal.h $(wildcard src/*.h)
	@mkdir -p $(dir $@)
	@command -v $(FUZZ_CC) >/dev/null || { echo "make fuzz needs clang with libFuzzer (apt-get install clang)"; exit 2; }
	$(FUZZ_CC) $(WARN) -g -O1 -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer \
		-D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Iinclude -Isrc $(DEP_CFLAGS) \
		-o $@ tests/fuzz/fuzz_roundtrip.c $(SRC) $(DEP_LIBS)

# Throughput, latency, memory and pathological inputs (a report: see bench/bench.py).
build/bench-mem: bench/bench_mem.c build/libdfix.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(DEP_CFLAGS) -o $@ $< build/libdfix.a $(DEP_LIBS)

bench: dfix build/bench-mem
	@python3 bench/bench.py

golden-update: dfix build/tests/test_report
	@python3 tests/golden.py --update
	@DFIX_UPDATE=1 ./build/tests/test_report >/dev/null

demo: deps
	@$(MAKE) --no-print-directory demo-run

demo-run: dfix
	@echo '$$ cat examples/node/Dockerfile'; cat examples/node/Dockerfile
	@echo; echo '$$ ./dfix --diff examples/node/Dockerfile'
	@./dfix --diff examples/node/Dockerfile; test $$? -le 1

# Install the binary and the manual page; DESTDIR stages a package.
VERSION := $(shell sed -n 's/^\#define DFIX_VERSION "\(.*\)"$$/\1/p' include/dfix.h)
BINDIR = $(PREFIX)/bin
MANDIR = $(PREFIX)/share/man/man1

install: dfix
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)
	install -m 755 dfix $(DESTDIR)$(BINDIR)/dfix
	install -m 644 dfix.1 $(DESTDIR)$(MANDIR)/dfix.1

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/dfix $(DESTDIR)$(MANDIR)/dfix.1

# A release tarball of the committed tree: dfix-$(VERSION).tar.gz from git archive HEAD.
dist:
	git archive --format=tar.gz --prefix=dfix-$(VERSION)/ -o dfix-$(VERSION).tar.gz HEAD
	@echo "wrote dfix-$(VERSION).tar.gz"

clean:
	rm -rf build build-asan dfix dfix-asan fuzz-*

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
ifeq ($(filter deps help,$(MAKECMDGOALS)),)
$(error missing build dependencies: run 'make deps' (or: apt-get install $(DEBIAN_PKGS)))
endif
endif
DEP_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(LIBS_PKGS) 2>/dev/null)
DEP_LIBS := $(shell $(PKG_CONFIG) --libs $(LIBS_PKGS) 2>/dev/null)
CMOCKA_LIBS := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)

SRC := $(filter-out src/main.c,$(wildcard src/*.c)) $(wildcard transforms/*.c)
OBJ := $(patsubst %.c,build/%.o,$(SRC))
TESTS := $(patsubst tests/%.c,build/tests/%,$(wildcard tests/test_*.c))

.PHONY: all deps test unit golden golden-update corpus buildkit fuzz-replay asan fuzz bench demo install uninstall dist clean check-deps

all: dfix

deps:
	@if $(PKG_CONFIG) --exists $(LIBS_PKGS) cmocka 2>/dev/null && command -v python3 >/dev/null; then \
		echo "build dependencies present"; \
	else \
		SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DEBIAN_PKGS); \
	fi

build/%.o: %.c include/dfix.h src/internal.h $(wildcard src/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(DEP_CFLAGS) -c -o $@ $<

build/libdfix.a: $(OBJ)
	@rm -f $@
	ar rcs $@ $(OBJ)

dfix: build/src/main.o build/libdfix.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ build/src/main.o build/libdfix.a $(DEP_LIBS)

build/tests/%: tests/%.c build/libdfix.a
	@mkdir -p $(dir $@)
	@$(PKG_CONFIG) --exists cmocka || { echo "missing cmocka: run 'make deps' (apt-get install libcmocka-dev)"; exit 2; }
	$(CC) $(ALL_CFLAGS) $(DEP_CFLAGS) -o $@ $< build/libdfix.a $(DEP_LIBS) $(CMOCKA_LIBS)

unit: $(TESTS)
	@set -e; for t in $(TESTS); do echo "== $$t"; ./$$t; done

test: deps dfix unit
	@python3 tests/run_tests.py

golden-update: dfix
	@python3 tests/golden.py --update

demo: deps dfix
	@echo '$$ cat examples/node/Dockerfile'; cat examples/node/Dockerfile
	@echo; echo '$$ ./dfix --diff --context examples/node examples/node/Dockerfile'
	@./dfix --diff examples/node/Dockerfile; test $$? -le 1

clean:
	rm -rf build dfix dfix-asan fuzz-*

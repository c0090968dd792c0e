# SPDX-License-Identifier: MIT
# calx — a thin wrapper over CMake. `make demo` and `make test` install
# what is missing (scripts/deps.sh) and then build. `make bench` also
# installs the benchmark's own packages (scripts/bench-deps.sh) and builds
# in its own directory, so `make test` never needs them.
BUILD     ?= build
ASAN_BUILD ?= build-asan
BENCH_BUILD ?= build-bench
FUZZ_BUILD ?= build-fuzz
FUZZ_CC   ?= clang
FUZZ_SECONDS ?= 60
CC        ?= cc
JOBS      ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=
# make install PREFIX=/opt/calx DESTDIR=/tmp/stage: PREFIX is where calx
# will live (calx.pc and the CMake package name it); DESTDIR, for packagers,
# puts the files under another root meanwhile. No PREFIX: the build's own
# CMAKE_INSTALL_PREFIX (/usr/local unless CMAKE_FLAGS said otherwise).
PREFIX    ?=
DESTDIR   ?=

.PHONY: all deps test-deps build demo test asan valgrind install clean bench-deps bench fuzz docs

all: build

# Building needs the compiler, cmake, pkg-config and the three libraries;
# the tests also need the servers they start, valgrind and clang.
deps:
	@sh scripts/deps.sh build

test-deps:
	@sh scripts/deps.sh test

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

# DATABASE_URL=postgresql://... make demo runs it on PostgreSQL.
demo: build
	cd $(BUILD) && ./heroes

# The suite runs against SQLite and against a throwaway PostgreSQL (and
# PgBouncer) that scripts/with-test-servers.sh starts and always stops.
test: test-deps build
	sh scripts/with-test-servers.sh sh -c 'cd $(BUILD) && ctest --output-on-failure -j $(JOBS)'

$(ASAN_BUILD)/CMakeCache.txt:
	CC=clang cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DCALX_SANITIZE=ON $(CMAKE_FLAGS)

asan: test-deps $(ASAN_BUILD)/CMakeCache.txt
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	sh scripts/with-test-servers.sh sh -c 'cd $(ASAN_BUILD) && \
	    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    ctest --output-on-failure -j $(JOBS)'

valgrind: test-deps build
	sh scripts/with-test-servers.sh sh scripts/valgrind.sh $(BUILD)

# The reference is Markdown in docs/, one page per concept; this checks it
# against include/calx/ (as make test does, CTest's check_docs): no build
# and no Doxygen needed.
docs:
	@sh scripts/check-docs.sh .
	@echo "the reference: docs/README.md, one page per concept in docs/ (read them on GitHub or in any Markdown viewer)"

install: build
	DESTDIR="$(DESTDIR)" cmake --install $(BUILD) $(if $(PREFIX),--prefix "$(PREFIX)")

bench-deps:
	@sh scripts/bench-deps.sh

$(BENCH_BUILD)/CMakeCache.txt:
	cmake -S . -B $(BENCH_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCALX_BENCH=ON $(CMAKE_FLAGS)

# Benchmarks (bench/README.md): BENCH_QUICK=1 make bench for a short run.
bench: deps bench-deps $(BENCH_BUILD)/CMakeCache.txt
	cmake --build $(BENCH_BUILD) -j $(JOBS) --target bench_programs
	sh bench/run.sh $(BENCH_BUILD)

$(FUZZ_BUILD)/CMakeCache.txt:
	CC=$(FUZZ_CC) cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCALX_FUZZ=ON $(CMAKE_FLAGS)

# libFuzzer targets (fuzz/README.md), each run FUZZ_SECONDS from the seeds
# in fuzz/corpus/; what they find is kept in $(FUZZ_BUILD)/fuzz-artifacts.
fuzz: test-deps $(FUZZ_BUILD)/CMakeCache.txt
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzz_programs
	sh fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(BENCH_BUILD) $(FUZZ_BUILD)

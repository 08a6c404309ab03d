# The front door: each target does its own set-up on a fresh Debian 12
# machine (scripts/setup.sh installs what is missing) and drives CMake.
#   make          Release build in build/release
#   make test     format check, Debug+ASan+UBSan tree and Release tree, ctest in both
#   make demo     builds and runs examples/tour.c
#   make bench    Release benchmarks against their peers, ratios printed
#   make install  PREFIX=/usr/local
JOBS ?= $(shell nproc)
PREFIX ?= /usr/local
RELEASE := build/release
DEBUG := build/debug
BENCH := build/bench

SOURCES = $(shell find include src tests bench examples -name '*.[ch]')

.PHONY: all release debug test test-debug test-release demo bench install format format-check clean

all: release

release:
	@scripts/setup.sh build
	cmake -S . -B $(RELEASE) -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	cmake --build $(RELEASE) -j $(JOBS)

debug:
	@scripts/setup.sh test
	cmake -S . -B $(DEBUG) -DCMAKE_BUILD_TYPE=Debug -DRECLAIM_SANITIZE=ON >/dev/null
	cmake --build $(DEBUG) -j $(JOBS)

test-debug: debug
	cd $(DEBUG) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
		ctest --output-on-failure -j $(JOBS) --timeout 900

test-release: release
	cd $(RELEASE) && ctest --output-on-failure -j $(JOBS) --timeout 900

test:
	@scripts/setup.sh test
	$(MAKE) format-check
	$(MAKE) test-debug
	$(MAKE) test-release

demo: release
	$(RELEASE)/examples/tour

bench:
	@scripts/setup.sh bench
	cmake -S . -B $(BENCH) -DCMAKE_BUILD_TYPE=Release -DRECLAIM_BENCH=ON -DBUILD_TESTING=OFF >/dev/null
	cmake --build $(BENCH) -j $(JOBS)
	bench/run.sh $(BENCH)

install: release
	cmake --install $(RELEASE)

format:
	clang-format -i $(SOURCES)

format-check:
	@clang-format --dry-run --Werror $(SOURCES) && echo "format: clean"

clean:
	rm -rf build

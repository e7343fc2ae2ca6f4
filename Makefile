# Postino — the two commands a user needs: `make run` and `make test`.
# Builds use Ninja with two jobs (the reference machine has two cores) and ccache.

JOBS ?= 2
export CCACHE_DIR ?= $(HOME)/.cache/ccache
export CCACHE_SLOPPINESS := pch_defines,time_macros,include_file_mtime,include_file_ctime
# A fresh clone in another directory (CI) still hits the cache.
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := 1
CMAKE_COMMON := -G Ninja -DCMAKE_EXPORT_COMPILE_COMMANDS=ON

.PHONY: deps build run test test-build tsan-build fuzz bench clean format

deps:
	@scripts/install-deps

# Release build: build/postino
build: deps
	@cmake -S . -B build $(CMAKE_COMMON) -DCMAKE_BUILD_TYPE=Release -DPOSTINO_TESTS=OFF >/dev/null
	@cmake --build build -j $(JOBS)

run: build
	build/postino serve --dev

# Test build: Debug + ASan + UBSan, every test through ctest.
test-build: deps
	@cmake -S . -B build-test $(CMAKE_COMMON) -DCMAKE_BUILD_TYPE=Debug -DPOSTINO_SANITIZE=ON >/dev/null
	@cmake --build build-test -j $(JOBS)

# The unit tests that run threads (store writers and readers, change notifications,
# failure throttles, maildrop locks, connection limits, metrics) again under ThreadSanitizer.
TSAN_TESTS := store_test imap_test net_test auth_test smtp_test pop3_test base_test
TSAN_REGEX := ^unit\.(store_test|imap_test|net_test|auth_test|smtp_test|pop3_test|base_test)$$
tsan-build: deps
	@cmake -S . -B build-tsan $(CMAKE_COMMON) -DCMAKE_BUILD_TYPE=Debug -DPOSTINO_TSAN=ON >/dev/null
	@cmake --build build-tsan -j $(JOBS) --target $(TSAN_TESTS)

test: test-build tsan-build
	cd build-test && ctest --output-on-failure -j $(JOBS) --timeout 600
	cd build-tsan && TSAN_OPTIONS=halt_on_error=1 ctest --output-on-failure -j $(JOBS) \
	  --timeout 600 -R '$(TSAN_REGEX)'

# Benchmarks side by side with Postfix + Dovecot (BENCHMARKS.md): the release build, the
# reference systems from Debian's packages on loopback ports, results in bench/results/.
bench: build
	@scripts/install-bench-deps
	/usr/bin/python3 bench/smtp_bench.py --binary build/postino
	/usr/bin/python3 bench/pop3_bench.py --binary build/postino
	/usr/bin/python3 bench/imap_bench.py --binary build/postino
	/usr/bin/python3 bench/imap_load_bench.py --seconds 20 --repeat 3
	/usr/bin/python3 bench/footprint.py --binary build/postino

# libFuzzer targets built with clang (fuzz/), each run FUZZ_SECONDS; `make test` replays
# their committed corpora.
FUZZ_SECONDS ?= 60
fuzz: deps
	@CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz $(CMAKE_COMMON) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPOSTINO_FUZZ=ON -DPOSTINO_TESTS=OFF >/dev/null
	@cmake --build build-fuzz -j $(JOBS) --target fuzz_all
	@scripts/fuzz $(FUZZ_SECONDS)

clean:
	rm -rf build build-test build-tsan build-fuzz

format:
	clang-format -i $$(git ls-files 'src/*.cpp' 'src/*.hpp')

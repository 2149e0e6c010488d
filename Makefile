# The two commands of the README:
#   make run    install what is missing, build the bridge (not the tests), start it on its defaults
#   make test   install what is missing, build, run every test
BUILD_DIR ?= build
ASAN_BUILD_DIR ?= build-sanitize
FUZZ_BUILD_DIR ?= build-fuzz
FUZZ_SECONDS ?= 60
JOBS ?= 2
BRIDGE_FLAGS ?=

.PHONY: deps build build-for-run run test test-release test-thread-safety test-sanitize test-fuzz clean format

deps:
	@bash scripts/install-deps.sh

$(BUILD_DIR)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: deps $(BUILD_DIR)/CMakeCache.txt
	cmake --build $(BUILD_DIR) -j$(JOBS)

# Only the binary `make run` starts: compiling every test first took a fresh
# clone 11.5 minutes to a ready bridge (docs/benchmarks.md, "Time to a ready
# bridge from a fresh clone").
build-for-run: deps $(BUILD_DIR)/CMakeCache.txt
	cmake --build $(BUILD_DIR) --target refir-bridge -j$(JOBS)

run: build-for-run
	$(BUILD_DIR)/bridge/refir-bridge --data_dir=./data $(BRIDGE_FLAGS)

# Every test, in the release build and again under the sanitizers, then a
# short run of each fuzz target. Between them, Clang's thread-safety
# analysis of the lock annotations (GCC ignores them).
test: test-release test-thread-safety test-sanitize test-fuzz

test-release: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j$(JOBS)

# clang++ -fsyntax-only -Wthread-safety -Werror=thread-safety over every
# translation unit of the release build (its compile_commands.json).
test-thread-safety: build
	JOBS=$(JOBS) bash scripts/check-thread-safety.sh $(BUILD_DIR)

# The whole suite under AddressSanitizer and UndefinedBehaviorSanitizer.
test-sanitize: deps
	cmake -S . -B $(ASAN_BUILD_DIR) -DCMAKE_BUILD_TYPE=Debug \
	  -DREFIR_SANITIZE_ADDRESS=ON -DREFIR_SANITIZE_UNDEFINED=ON
	cmake --build $(ASAN_BUILD_DIR) -j$(JOBS)
	ctest --test-dir $(ASAN_BUILD_DIR) --output-on-failure -j$(JOBS)

format:
	find bridge tests client_examples bench -name '*.h' -o -name '*.cc' | xargs clang-format -i

# Each libFuzzer target (tests/fuzz) for FUZZ_SECONDS, built with clang,
# ASan and UBSan. Longer runs: make test-fuzz FUZZ_SECONDS=600
test-fuzz: deps
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DREFIR_FUZZ=ON -DREFIR_FUZZ_SECONDS=$(FUZZ_SECONDS)
	cmake --build $(FUZZ_BUILD_DIR) --target refir_fuzzers -j$(JOBS)
	ctest --test-dir $(FUZZ_BUILD_DIR) -L fuzz --output-on-failure -j$(JOBS)

clean:
	rm -rf $(BUILD_DIR) $(ASAN_BUILD_DIR) $(FUZZ_BUILD_DIR)

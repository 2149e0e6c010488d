# The two commands of the README:
#   make run    install what is missing, build, start the bridge on its defaults
#   make test   install what is missing, build, run every test
BUILD_DIR ?= build
ASAN_BUILD_DIR ?= build-sanitize
JOBS ?= 2
BRIDGE_FLAGS ?=

.PHONY: deps build run test test-release test-sanitize clean format

deps:
	@bash scripts/install-deps.sh

$(BUILD_DIR)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: deps $(BUILD_DIR)/CMakeCache.txt
	cmake --build $(BUILD_DIR) -j$(JOBS)

run: build
	$(BUILD_DIR)/bridge/refir_bridge --data_dir=./data $(BRIDGE_FLAGS)

# Every test, in the release build and again under the sanitizers.
test: test-release test-sanitize

test-release: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j$(JOBS)

# The whole suite under AddressSanitizer and UndefinedBehaviorSanitizer.
test-sanitize: deps
	cmake -S . -B $(ASAN_BUILD_DIR) -DCMAKE_BUILD_TYPE=Debug \
	  -DREFIR_SANITIZE_ADDRESS=ON -DREFIR_SANITIZE_UNDEFINED=ON
	cmake --build $(ASAN_BUILD_DIR) -j$(JOBS)
	ctest --test-dir $(ASAN_BUILD_DIR) --output-on-failure -j$(JOBS)

format:
	find bridge tests client_examples bench -name '*.h' -o -name '*.cc' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR) $(ASAN_BUILD_DIR)

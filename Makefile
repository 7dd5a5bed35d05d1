# vprn: the two commands a newcomer needs are `make demo` and `make test`
# (as root on Debian 12); both install what is missing first.
BUILD ?= build

.PHONY: all deps build test demo bench clean format

all: build

deps:
	./scripts/install-deps

$(BUILD)/build.ninja:
	meson setup $(BUILD)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

test: deps
	/usr/bin/python3 tests/run_all.py

demo: build
	./scripts/demo

bench: build
	./scripts/bench

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-asan build-fuzz

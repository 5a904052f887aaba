# Thin wrapper over CMake + CTest. `make` builds build/nstats; `make check` runs every test.
BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
LINT_BUILD ?= build-lint
FUZZ_SECONDS ?= 60
JOBS ?= $(shell nproc)
ARGS ?=

SOURCES := $(shell find src tests bench -name '*.[ch]' 2>/dev/null)

.PHONY: all deps run check test asan fuzz lint format format-check bench clean

all: $(BUILD)/nstats

deps:
	./scripts/install-deps.sh build

$(BUILD)/Makefile:
	cmake -S . -B $(BUILD) -DNSTATS_WERROR=ON

$(BUILD)/nstats: $(BUILD)/Makefile $(SOURCES) CMakeLists.txt
	cmake --build $(BUILD) -j $(JOBS)

# The main job: live capture on the default-route interface. In a terminal, the live view
# (nstats top, capturing itself); otherwise the daemon, line protocol on stdout.
run: deps $(BUILD)/nstats
	@if [ -t 0 ] && [ -t 1 ]; then exec $(BUILD)/nstats top $(ARGS); \
	else exec $(BUILD)/nstats $(ARGS); fi

# The whole suite: formatting, static analysis, the -Werror build's tests, the same tests
# under ASan+UBSan, and a short libFuzzer run of every fuzz target.
check:
	./scripts/install-deps.sh test
	$(MAKE) format-check
	$(MAKE) lint
	$(MAKE) test
	$(MAKE) asan
	$(MAKE) fuzz

test: $(BUILD)/nstats
	cd $(BUILD) && ctest --output-on-failure

asan:
	cmake -S . -B $(ASAN_BUILD) -DNSTATS_WERROR=ON -DNSTATS_SANITIZE=ON -DCMAKE_C_COMPILER=clang
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure

fuzz:
	cmake -S . -B $(FUZZ_BUILD) -DNSTATS_FUZZ=ON -DCMAKE_C_COMPILER=clang
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzz_decode fuzz_lineproto fuzz_prom fuzz_dns fuzz_k8s fuzz_api fuzz_pcapfile \
		fuzz_promwrite
	./tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

# clang-tidy (.clang-tidy) and cppcheck over src/; any finding fails.
lint:
	./scripts/lint.sh $(LINT_BUILD)

format:
	clang-format -i $(SOURCES)

format-check:
	clang-format --dry-run -Werror $(SOURCES)

bench: $(BUILD)/nstats
	./scripts/install-deps.sh bench
	./bench/run.sh $(BUILD)

# make install [PREFIX=/usr/local] [DESTDIR=/staging]: bin/nstats, the manual, the systemd unit
# (ExecStart under PREFIX) and /etc/default/nstats (kept if there is one), by cmake --install.
PREFIX ?= /usr/local
.PHONY: install
install: $(BUILD)/nstats
	DESTDIR="$(DESTDIR)" cmake --install $(BUILD) --prefix "$(PREFIX)"

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) $(LINT_BUILD)

# asynclab — top-level build.
#
#   make run     build everything and start the main program: the asynclab Lua
#                prompt (make demo: the narrated C demo of the runtime)
#   make test    build and run every test: the core's Criterion suite in release,
#                ASan+UBSan and TSan, a clang build, the trace commands
#                (test-cli), the Lua suite and the program (test-lua, also under
#                TSan), and the Lua module in the stock lua5.4 (test-module)
#   make bench   the C ports of the peer benchmark suite, the visualizer's seek
#                benchmark (10M events), then the Lua rows (TSV)
#   make fuzz    fuzz the trace reader for FUZZ_SECONDS (libFuzzer, clang)
#   make clean
#
# Build variants live in build/<variant>/ (release, asan, tsan, clang), so the
# sanitizer builds never mix objects with the normal one.
#
# Sources are found by wildcard: a new core/src/*.c, repl/src/*.c or
# tests/core/test_*.c file is picked up without editing this file.

SHELL := /bin/bash
.DEFAULT_GOAL := all

CC ?= gcc
ifeq ($(origin CC),default)
CC := gcc
endif

# Missing Debian packages are installed by scripts/install-deps.sh (once).
# BUILD: where objects go (a separate tree per concurrent developer is fine).
BUILD ?= build
DEPS_STAMP := $(BUILD)/.deps-ok
$(DEPS_STAMP): scripts/install-deps.sh
	@scripts/install-deps.sh --check >/dev/null 2>&1 || scripts/install-deps.sh
	@mkdir -p $(BUILD) && touch $@

WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wno-unused-parameter
BASE     := -std=c11 -D_GNU_SOURCE -pthread -g -Icore/include -Icore/src $(WARN)
LDLIBS   := -pthread -lm

CFLAGS_release := -O2
CFLAGS_asan    := -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
CFLAGS_tsan    := -O1 -fno-omit-frame-pointer -fsanitize=thread
CFLAGS_clang   := -O2

CORE_SRC   := $(sort $(wildcard core/src/*.c))
CORE_HDR   := $(wildcard core/include/*.h core/src/*.h)
TEST_SRC   := $(sort $(wildcard tests/core/test_*.c))
TEST_HDR   := $(wildcard tests/core/*.h tests/tsan/criterion/*.h)
BENCH_SRC  := $(filter-out tests/bench/viz_seek_bench.c,$(sort $(wildcard tests/bench/*.c)))
BENCH_HDR  := $(wildcard tests/bench/*.h)

# ---- per-variant rules -----------------------------------------------------
# $(1) = variant name
define VARIANT
$(BUILD)/$(1)/core/%.o: core/src/%.c $(CORE_HDR) | $(DEPS_STAMP)
	@mkdir -p $$(@D)
	$$(VCC_$(1)) $(BASE) $(CFLAGS_$(1)) -c $$< -o $$@

$(BUILD)/$(1)/libasynclab.a: $(patsubst core/src/%.c,$(BUILD)/$(1)/core/%.o,$(CORE_SRC))
	@rm -f $$@
	ar rcs $$@ $$^

$(BUILD)/$(1)/tests/%.o: tests/core/%.c $(CORE_HDR) $(TEST_HDR) | $(DEPS_STAMP)
	@mkdir -p $$(@D)
	$$(VCC_$(1)) $(BASE) $(CFLAGS_$(1)) $(TESTINC_$(1)) -Itests/core -c $$< -o $$@

$(BUILD)/$(1)/core_tests: $(patsubst tests/core/%.c,$(BUILD)/$(1)/tests/%.o,$(TEST_SRC)) $(TESTRUNNER_$(1)) $(BUILD)/$(1)/libasynclab.a
	$$(VCC_$(1)) $(CFLAGS_$(1)) -o $$@ $$^ $(TESTLIB_$(1)) $(LDLIBS)
endef

# Criterion cannot start under ThreadSanitizer (Snaipe/Criterion#274), so the
# TSan build compiles the same tests against the stand-in in tests/tsan/.
TESTLIB_release := -lcriterion -ljansson
TESTLIB_asan    := -lcriterion -ljansson
TESTLIB_clang   := -lcriterion -ljansson
TESTLIB_tsan    := -ljansson
TESTINC_tsan    := -Itests/tsan
TESTRUNNER_tsan := $(BUILD)/tsan/tests/runner.o

$(BUILD)/tsan/tests/runner.o: tests/tsan/runner.c tests/tsan/criterion/criterion.h | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(BASE) $(CFLAGS_tsan) -Itests/tsan -c $< -o $@

VCC_release := $(CC)
VCC_asan    := $(CC)
VCC_tsan    := $(CC)
VCC_clang   := clang
$(foreach v,release asan tsan clang,$(eval $(call VARIANT,$(v))))

# ---- the visualizer (issue 5) ------------------------------------------------
#
# viz/src/*.c is linked into the `asynclab` program (`asynclab replay`, see
# docs/visualizer.md) and, with tests/viz/test_*.c, into
# $(BUILD)/<variant>/viz_tests. `make test-viz` runs those (ASan+UBSan) with
# SDL's offscreen video driver, then the replay command's tests on real
# recordings (tests/viz/test_replay_cli.sh), and checks that the visualizer
# builds warning-free with clang. SDL's headers are -isystem: the project's
# warnings are not theirs.
VIZ_SRC      := $(sort $(wildcard viz/src/*.c))
VIZ_HDR      := $(wildcard viz/src/*.h)
VIZ_TEST_SRC := $(sort $(wildcard tests/viz/test_*.c))
VIZ_TEST_HDR := $(wildcard tests/viz/*.h)
VIZ_PKGS     := sdl2 SDL2_ttf libpng
VIZ_CFLAGS    = -DAL_WITH_VIZ -Iviz/src $(patsubst -I%,-isystem %,$(shell pkg-config --cflags $(VIZ_PKGS)))
VIZ_LIBS      = $(shell pkg-config --libs $(VIZ_PKGS))

$(BUILD)/%/viz_tests: $(VIZ_TEST_SRC) $(VIZ_TEST_HDR) $(VIZ_SRC) $(VIZ_HDR) $(BUILD)/%/libasynclab.a $(CORE_HDR)
	$(VCC_$*) $(BASE) $(CFLAGS_$*) $(VIZ_CFLAGS) -Itests/viz -o $@ $(VIZ_TEST_SRC) $(VIZ_SRC) \
	    $(BUILD)/$*/libasynclab.a -lcriterion $(VIZ_LIBS) $(LDLIBS)

# The scenario recorder: a small C program whose recording the tests replay.
$(BUILD)/%/viz_scenario: tests/viz/scenario_main.c tests/viz/viz_test_scenario.h tests/viz/viz_test_deadlock.h $(BUILD)/%/libasynclab.a $(CORE_HDR)
	$(VCC_$*) $(BASE) $(CFLAGS_$*) -Itests/viz -o $@ $< $(BUILD)/$*/libasynclab.a $(LDLIBS)

# What the console panel and metrics strip cost per frame (docs/performance.md).
$(BUILD)/%/viz_panel_bench: tests/viz/panel_bench.c $(VIZ_SRC) $(VIZ_HDR) $(BUILD)/%/libasynclab.a $(CORE_HDR)
	$(VCC_$*) $(BASE) $(CFLAGS_$*) $(VIZ_CFLAGS) -o $@ $< $(VIZ_SRC) $(BUILD)/$*/libasynclab.a $(VIZ_LIBS) $(LDLIBS)

.PHONY: test-viz
test-viz: $(BUILD)/asan/viz_tests $(BUILD)/asan/asynclab $(BUILD)/release/viz_scenario \
          $(BUILD)/release/asynclab-demo $(BUILD)/clang/viz_tests
	@echo "== the visualizer: scene model, layout, headless rendering (tests/viz)"
	SDL_VIDEODRIVER=offscreen $(BUILD)/asan/viz_tests $(CRITERION_ARGS) 2>&1 | tee $(BUILD)/asan/viz_tests.log; \
	    test $${PIPESTATUS[0]} -eq 0
	scripts/sanitizer-report-check.sh $(BUILD)/asan/viz_tests.log
	@echo "== asynclab replay (tests/viz/test_replay_cli.sh)"
	SDL_VIDEODRIVER=offscreen LSAN_OPTIONS=exitcode=99 tests/viz/test_replay_cli.sh \
	    $(BUILD)/asan/asynclab $(BUILD)/release/viz_scenario $(BUILD)/release/asynclab-demo $(BUILD)/viz-cli

# ---- programs ----------------------------------------------------------------

$(BUILD)/%/asynclab-demo: core/examples/demo.c $(BUILD)/%/libasynclab.a $(CORE_HDR)
	$(VCC_$*) $(BASE) $(CFLAGS_$*) -o $@ $< $(BUILD)/$*/libasynclab.a $(LDLIBS)

# The `asynclab` program: the Lua REPL and script runner, and `asynclab trace`.
REPL_SRC := $(sort $(wildcard repl/src/*.c))
REPL_HDR := $(wildcard repl/src/*.h)
LUA_CFLAGS := -I/usr/include/lua5.4
LUA_LIBS   := -llua5.4 -lreadline
$(BUILD)/%/asynclab: $(REPL_SRC) $(REPL_HDR) $(VIZ_SRC) $(VIZ_HDR) $(BUILD)/%/libasynclab.a $(CORE_HDR)
	$(VCC_$*) $(BASE) $(CFLAGS_$*) -Irepl/src $(LUA_CFLAGS) $(VIZ_CFLAGS) -o $@ $(REPL_SRC) $(VIZ_SRC) \
	    $(BUILD)/$*/libasynclab.a $(LUA_LIBS) $(VIZ_LIBS) $(LDLIBS)

# The visualizer's frame-time bench (tests/bench/viz/, docs/performance.md).
$(BUILD)/release/viz_bench: $(wildcard tests/bench/viz/*.c) $(VIZ_SRC) $(VIZ_HDR) $(BUILD)/release/libasynclab.a $(CORE_HDR)
	$(CC) $(BASE) $(CFLAGS_release) $(VIZ_CFLAGS) -o $@ $(wildcard tests/bench/viz/*.c) $(VIZ_SRC) \
	    $(BUILD)/release/libasynclab.a $(VIZ_LIBS) $(LDLIBS)

$(BUILD)/release/bench: $(BENCH_SRC) $(BENCH_HDR) $(BUILD)/release/libasynclab.a $(CORE_HDR)
	$(CC) $(BASE) $(CFLAGS_release) -Itests/bench -o $@ $(BENCH_SRC) $(BUILD)/release/libasynclab.a $(LDLIBS)

.PHONY: all run demo test test-release test-asan test-tsan test-cli test-lua check-clang bench clean

all: $(BUILD)/release/libasynclab.a $(BUILD)/release/asynclab-demo $(BUILD)/release/asynclab

# The main program: the asynclab Lua prompt (Ctrl-D exits). `make demo` runs
# the narrated C demo of the runtime instead.
run: all
	$(BUILD)/release/asynclab

demo: $(BUILD)/release/asynclab-demo
	$(BUILD)/release/asynclab-demo

# Criterion runs every test in its own process, with per-test timeouts.
# Sanitizer reports abort the test process, which Criterion counts as a failure.
CRITERION_ARGS ?= --jobs 2 --timeout 120
export ASAN_OPTIONS  := detect_leaks=1:abort_on_error=1:halt_on_error=1:detect_stack_use_after_return=1
# Leaks are judged from the log, not the exit status: LSan's exit code would
# also fire for the Criterion runner's own small leak (see the check script).
export LSAN_OPTIONS  := exitcode=0
export UBSAN_OPTIONS := print_stacktrace=1:halt_on_error=1
export TSAN_OPTIONS  := halt_on_error=1:abort_on_error=1:second_deadlock_stack=1

test-release: $(BUILD)/release/core_tests
	@echo "== core tests (release)"
	$(BUILD)/release/core_tests $(CRITERION_ARGS)

# The log is kept and scanned: a leak is reported at process exit, after
# Criterion has counted the test as passed (scripts/sanitizer-report-check.sh).
test-asan: $(BUILD)/asan/core_tests
	@echo "== core tests (AddressSanitizer + UndefinedBehaviorSanitizer)"
	AL_TEST_SCALE=4 $(BUILD)/asan/core_tests $(CRITERION_ARGS) 2>&1 | tee $(BUILD)/asan/tests.log; \
	    test $${PIPESTATUS[0]} -eq 0
	scripts/sanitizer-report-check.sh $(BUILD)/asan/tests.log

test-tsan: $(BUILD)/tsan/core_tests
	@echo "== core tests (ThreadSanitizer)"
	AL_TEST_SCALE=8 $(BUILD)/tsan/core_tests $(CRITERION_ARGS) 2>&1 | tee $(BUILD)/tsan/tests.log; \
	    test $${PIPESTATUS[0]} -eq 0
	scripts/sanitizer-report-check.sh $(BUILD)/tsan/tests.log

check-clang: $(BUILD)/clang/core_tests $(BUILD)/clang/asynclab-demo $(BUILD)/clang/asynclab
	@echo "== core, tests, demo and program build warning-free with clang"

# The real `asynclab` binary (ASan build) on a real recording of the demo.
test-cli: $(BUILD)/asan/asynclab $(BUILD)/release/asynclab-demo
	@echo "== asynclab trace commands (tests/cli)"
	LSAN_OPTIONS=exitcode=99 tests/cli/test_trace_cli.sh $(BUILD)/asan/asynclab $(BUILD)/release/asynclab-demo $(BUILD)/cli

# The Lua layer: the Lua test suite and the program, under ASan+UBSan, then
# the Lua test files again under TSan (task states hop between workers).
$(BUILD)/pty_drive: tests/lua/pty_drive.c | $(DEPS_STAMP)
	$(CC) -std=c11 -D_GNU_SOURCE -O2 $(WARN) -o $@ $< -lutil

test-lua: $(BUILD)/asan/asynclab $(BUILD)/tsan/asynclab $(BUILD)/pty_drive
	@echo "== Lua API and the asynclab program (tests/lua)"
	LSAN_OPTIONS=exitcode=99 PTY_DRIVE=$(BUILD)/pty_drive tests/lua/run.sh $(BUILD)/asan/asynclab $(BUILD)/lua-asan
	@echo "== Lua tasks under ThreadSanitizer"
	for t in tests/lua/test_*.lua; do $(BUILD)/tsan/asynclab $$t || exit 1; done

test: test-release check-clang test-asan test-tsan test-cli test-lua test-viz
	@echo "== all tests passed"

# The visualizer's seek benchmark (tests/bench/viz_seek_bench.c): the player
# and its keyframes on 10 million synthetic events; no SDL needed.
VIZ_SEEK_SRC := viz/src/viz_player.c viz/src/viz_recording.c viz/src/viz_motion.c \
                viz/src/viz_keyframes.c viz/src/viz_timeline.c
$(BUILD)/release/viz_seek_bench: tests/bench/viz_seek_bench.c tests/viz/viz_test_synth.h \
                                 $(VIZ_SEEK_SRC) $(VIZ_HDR) $(BUILD)/release/libasynclab.a $(CORE_HDR)
	$(CC) $(BASE) $(CFLAGS_release) -Iviz/src -Itests/viz -o $@ $< $(VIZ_SEEK_SRC) \
	    $(BUILD)/release/libasynclab.a $(LDLIBS)

# The C suite, then the visualizer's seek rows, then the Lua layer's rows
# (tests/bench/lua_bench.lua), same TSV; then the visualizer's frame rate.
bench: $(BUILD)/release/bench $(BUILD)/release/asynclab $(BUILD)/release/viz_seek_bench \
       $(BUILD)/release/viz_bench
	$(BUILD)/release/bench $(BENCH_FILTER)
	$(BUILD)/release/viz_seek_bench $(BENCH_FILTER)
	ASYNCLAB_NO_CONSOLE=$${ASYNCLAB_NO_CONSOLE-1} $(BUILD)/release/asynclab tests/bench/lua_bench.lua $(BENCH_FILTER)
	@case "viz frame_" in *"$(BENCH_FILTER)"*) SDL_VIDEODRIVER=offscreen $(BUILD)/release/viz_bench ;; esac

clean:
	rm -rf $(BUILD)

# ---- fuzzing the trace reader (issue 3) -------------------------------------
#
#   make fuzz          build the libFuzzer target (clang, ASan+UBSan) into
#                      $(BUILD)/fuzz/ and run it FUZZ_SECONDS (default 60) over
#                      a copy of tests/fuzz/corpus/ ($(BUILD)/fuzz/corpus/, kept
#                      between runs). A crash or a broken invariant stops it and
#                      leaves the input in $(BUILD)/fuzz/artifacts/ (reproduce:
#                      $(BUILD)/fuzz/fuzz_trace_read FILE).
#   make fuzz-merge    add the inputs that found new coverage to the committed
#                      corpus, minimized (libFuzzer -merge=1 keeps only inputs
#                      that add coverage, named by their SHA-1); review and
#                      commit what lands in tests/fuzz/corpus/. A crash input:
#                      fix the reader, then copy the file into the corpus as
#                      bad-<code>-<offset>-<what>.trace (or damaged-<what>.trace
#                      if any error will do), so test_trace_corpus keeps it.
#   make fuzz-corpus   regenerate the seed files from tests/fuzz/make_corpus.c
#                      (valid-*, open-*, bad-*, damaged-*; fuzzer finds stay).
#
# FUZZ_ARGS passes more libFuzzer options (e.g. FUZZ_ARGS=-jobs=2).
FUZZ_SECONDS ?= 60
FUZZ_ARGS    ?=
FUZZ_CFLAGS  := -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined \
                -fno-sanitize-recover=all
FUZZ_SRC     := core/src/al_tracefile_read.c core/src/al_tracefile_write.c core/src/al_error.c

$(BUILD)/fuzz/fuzz_trace_read: tests/fuzz/fuzz_trace_read.c $(wildcard tests/core/al_test_trace*.h) \
                               $(FUZZ_SRC) $(CORE_HDR) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	clang $(BASE) $(FUZZ_CFLAGS) -Itests/core -o $@ $< $(FUZZ_SRC)

$(BUILD)/fuzz/make_corpus: tests/fuzz/make_corpus.c $(BUILD)/release/libasynclab.a $(CORE_HDR)
	@mkdir -p $(@D)
	$(CC) $(BASE) $(CFLAGS_release) -o $@ $< $(BUILD)/release/libasynclab.a $(LDLIBS)

.PHONY: fuzz fuzz-merge fuzz-corpus
fuzz: $(BUILD)/fuzz/fuzz_trace_read
	@mkdir -p $(BUILD)/fuzz/corpus $(BUILD)/fuzz/artifacts
	cp tests/fuzz/corpus/* $(BUILD)/fuzz/corpus/
	ASAN_OPTIONS=detect_leaks=1 $< -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	    -artifact_prefix=$(BUILD)/fuzz/artifacts/ $(FUZZ_ARGS) $(BUILD)/fuzz/corpus

fuzz-merge: $(BUILD)/fuzz/fuzz_trace_read
	$< -merge=1 tests/fuzz/corpus $(BUILD)/fuzz/corpus

fuzz-corpus: $(BUILD)/fuzz/make_corpus
	$(BUILD)/fuzz/make_corpus tests/fuzz/corpus

# ---- the Lua C module: require "asynclab" from a stock lua5.4 ---------------
#
#   make module        $(BUILD)/release/asynclab.so (also built by `make`):
#                      LUA_CPATH='build/release/?.so' lua5.4 -e \
#                        'local rt = require "asynclab"; print(rt.spawn(function() return 1 end):await())'
#   make test-module   the module in the real /usr/bin/lua5.4 (tests/lua/module.sh;
#                      part of `make test`)
#
# A shared object is position-independent throughout: the core is compiled
# again with -fPIC into $(BUILD)/pic/, the module from the repl sources minus
# the program's own (main, the prompt, completion, `asynclab trace`). Only
# luaopen_asynclab is exported (-fvisibility=hidden). It does not link liblua:
# the interpreter that loads it provides Lua (Debian's lua5.4 exports the API).
MODULE_SRC := $(filter-out repl/src/main.c repl/src/lua_repl.c repl/src/lua_complete.c \
                           repl/src/trace_cli.c,$(REPL_SRC))
MODULE_CFLAGS := $(BASE) $(CFLAGS_release) -fPIC -fvisibility=hidden

$(BUILD)/pic/core/%.o: core/src/%.c $(CORE_HDR) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(MODULE_CFLAGS) -c $< -o $@

$(BUILD)/pic/libasynclab.a: $(patsubst core/src/%.c,$(BUILD)/pic/core/%.o,$(CORE_SRC))
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/release/asynclab.so: $(MODULE_SRC) $(REPL_HDR) $(BUILD)/pic/libasynclab.a $(CORE_HDR)
	@mkdir -p $(@D)
	$(CC) $(MODULE_CFLAGS) -shared -Irepl/src $(LUA_CFLAGS) -o $@ $(MODULE_SRC) \
	    $(BUILD)/pic/libasynclab.a $(LDLIBS)

.PHONY: module test-module
module: $(BUILD)/release/asynclab.so
all: $(BUILD)/release/asynclab.so

test-module: $(BUILD)/release/asynclab.so
	@echo "== require \"asynclab\" from the stock lua5.4 (tests/lua/module.sh)"
	tests/lua/module.sh /usr/bin/lua5.4 $(BUILD)/release $(BUILD)/lua-module
test: test-module

# loaxa — plain Makefile. `make`, `make check`, `make asan`, `make install`.
# Build products go to $(B) (build/, build-asan/ with SANITIZE=1, build-tsan/
# with SANITIZE=thread).

PREFIX ?= /usr/local
DESTDIR ?=
BINDIR = $(PREFIX)/bin
SYSCONFDIR ?= /etc

PKGS = alsa sndfile libmpg123 sqlite3 soxr libebur128 libmd libcjson
CC ?= cc
CFLAGS ?= -O2 -g
# Messages are cut to their buffers on purpose (snprintf), hence no -Wformat-truncation.
WARN = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-format-truncation
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)

ifeq ($(SANITIZE),1)
B ?= build-asan
SAN = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else ifeq ($(SANITIZE),thread)
# ThreadSanitizer: data races between the engine's threads (make tsan)
B ?= build-tsan
SAN = -fsanitize=thread -fno-omit-frame-pointer
else
B ?= build
SAN =
endif

ALL_CFLAGS = $(WARN) $(CFLAGS) $(SAN) -I. $(PKG_CFLAGS) -pthread
ALL_LDFLAGS = $(LDFLAGS) $(SAN) -pthread
LIBS = $(PKG_LIBS) -lm

LIB_SRC = $(wildcard media/*.c schedules/*.c scheduler/*.c playout/*.c) \
	  $(filter-out cli/main.c,$(wildcard cli/*.c))
LIB_OBJ = $(LIB_SRC:%.c=$(B)/%.o)
TEST_SRC = $(wildcard tests/unit/test_*.c)
TEST_BIN = $(TEST_SRC:tests/unit/%.c=$(B)/tests/%)
BENCH_SRC = $(wildcard bench/*.c)
BENCH_BIN = $(BENCH_SRC:bench/%.c=$(B)/bench/%)
PLUGIN = $(B)/libasound_module_pcm_loaxatest.so
DEPS = $(LIB_OBJ:.o=.d) $(B)/cli/main.d

.PHONY: all check unit e2e asan tsan check-asan deps install uninstall clean demo bench soak

all: $(B)/loaxa $(PLUGIN) $(B)/tapetool $(B)/testcard.conf $(TEST_BIN) $(BENCH_BIN)

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(B)/libloaxa.a: $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(B)/loaxa: $(B)/cli/main.o $(B)/libloaxa.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(B)/tests/%: tests/unit/%.c $(B)/libloaxa.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(B)/libloaxa.a $(LIBS) $(CMOCKA_LIBS)

$(B)/bench/%: bench/%.c $(B)/libloaxa.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(B)/libloaxa.a $(LIBS)

# The paced test sound card (an alsa-lib ioplug plugin) is loaded into the
# program under test; it is built without sanitizers so it can be loaded
# into either build.
$(PLUGIN): tests/testcard/pcm_loaxatest.c
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(CFLAGS) -fPIC -shared $(shell pkg-config --cflags alsa) -o $@ $< $(shell pkg-config --libs alsa) -lm -pthread

$(B)/tapetool: tests/testcard/tapetool.c
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(CFLAGS) $(shell pkg-config --cflags sndfile) -o $@ $< $(shell pkg-config --libs sndfile) -lm

$(B)/testcard.conf: tests/testcard/testcard.conf.in $(PLUGIN)
	sed "s|@PLUGIN@|$(abspath $(PLUGIN))|g" $< > $@

unit: all
	tests/run-tests.sh unit $(B)

e2e: all
	tests/run-tests.sh e2e $(B)

# The whole suite: unit and end-to-end tests on the normal build, then the
# same under AddressSanitizer and UndefinedBehaviorSanitizer, then the
# engine's tests under ThreadSanitizer.
check:
	$(MAKE) all
	$(MAKE) SANITIZE=1 all
	$(MAKE) SANITIZE=thread all
	$(MAKE) fuzz
	tests/run-tests.sh all $(B) build-asan build-tsan

check-asan:
	$(MAKE) SANITIZE=1 all
	tests/run-tests.sh all build-asan

asan:
	$(MAKE) SANITIZE=1 all

# ThreadSanitizer (build-tsan/): the engine's threads
tsan:
	$(MAKE) SANITIZE=thread all

# Installs the Debian packages the build, tests and demo need (as root), or
# says which to install.
deps:
	scripts/install-deps

demo: all
	scripts/demo $(B)

# The long fault campaigns: 36 rounds of kill -9 and restart (make check
# runs 6). About six minutes.
soak: all
	ROUNDS=36 tests/e2e/test_kill.sh $(B)

# Benchmarks print figures against a baseline measured in the same run. The
# station benchmark plays ten minutes of programme in real time, twice.
bench: all
	@for b in $(BENCH_BIN); do echo "== $$b"; $$b || exit 1; done
	bench/bench_import.sh $(B)
	bench/bench_emergency.sh $(B)
	bench/bench_station.sh $(B)
	bench/bench_report.sh $(B)

# --- fuzzing -------------------------------------------------------------------
# build/fuzz_import: the import path (tests/fuzz/fuzz_import.c) over media/*.c,
# built by clang with libFuzzer, AddressSanitizer and UBSan. `make check`
# builds it and tests/run-tests.sh runs it for 30 s; docs/media.md has the
# long run. Without clang, `make fuzz` says so and the run is skipped.
FUZZ_CC ?= clang
FUZZ_PKGS = sndfile libmpg123 soxr libmd
FUZZ_SRC = tests/fuzz/fuzz_import.c $(wildcard media/*.c)
.PHONY: fuzz
fuzz:
	@if command -v $(FUZZ_CC) >/dev/null; then $(MAKE) --no-print-directory build/fuzz_import; \
	else echo "fuzz: $(FUZZ_CC) not found (scripts/install-deps installs it): fuzz target not built"; fi
build/fuzz_import: $(FUZZ_SRC) $(wildcard media/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=c11 -D_GNU_SOURCE -DLOAXA_LIBFUZZER -Wall -Wextra -Werror -g -O1 -I. \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		$(shell pkg-config --cflags $(FUZZ_PKGS)) -o $@ $(FUZZ_SRC) \
		$(shell pkg-config --libs $(FUZZ_PKGS)) -lm
# --- end of fuzzing --------------------------------------------------------------

install: $(B)/loaxa
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SYSCONFDIR)/loaxa
	install -m 755 $(B)/loaxa $(DESTDIR)$(BINDIR)/loaxa
	install -m 644 docs/loaxa.conf.sample $(DESTDIR)$(SYSCONFDIR)/loaxa/loaxa.conf.sample

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/loaxa $(DESTDIR)$(SYSCONFDIR)/loaxa/loaxa.conf.sample

clean:
	rm -rf build build-asan build-tsan

-include $(DEPS)

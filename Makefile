# Makefile -- builds libnsd, nsd, the module and the tests.
#
# Hand-written; configure contributes only config.mk and config.h, and runs by
# itself on a fresh clone (after tools/deps.sh has installed what it needs).
#
#   make            build lib/libnsd.so and bin/nsd
#   make run        build and start the server with conf/nsd-config.tcl
#   make test       build and run the C unit tests and tests/all.tcl
#   make bench      nsd against a plain C baseline under load (bench/run.tcl)
#   make install    lay out a server tree under $(DESTDIR)$(PREFIX)
#   make clean      remove build products (distclean: and configure's output)

.DEFAULT_GOAL := all
SHELL := /bin/sh

ifeq ($(filter clean distclean,$(MAKECMDGOALS)),)
include config.mk
endif

config.mk: configure config.mk.in config.h.in
	@sh tools/deps.sh build
	./configure $(CONFIGURE_FLAGS)
	@touch config.mk

config.h: config.mk

WARN_FLAGS := -Wall -Wextra -Wshadow -Wpointer-arith -Wstrict-prototypes -Wmissing-prototypes
BASE_FLAGS := -std=c11 -D_GNU_SOURCE -pthread $(WARN_FLAGS) $(OPT_FLAGS) $(SAN_FLAGS)
CPPFLAGS   := -I. -Iinclude -Insd $(TCL_INCLUDE_SPEC)
CFLAGS_LIB := $(BASE_FLAGS) -fPIC -fvisibility=hidden
LDLIBS     := $(TCL_LIB_SPEC) $(LIBS) $(TCL_LIBS)

LIB_SRCS := $(filter-out nsd/main.c,$(wildcard nsd/*.c))
LIB_OBJS := $(LIB_SRCS:%.c=build/%.o)
MOD_SRCS := $(wildcard nswebsocket/*.c)
MOD_OBJS := $(MOD_SRCS:%.c=build/%.o)

PROGRAMS := lib/libnsd.so bin/nsd
ifneq ($(MOD_SRCS),)
PROGRAMS += bin/nswebsocket.so
endif

all: $(PROGRAMS)

build/%.o: %.c config.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS_LIB) -MMD -MP -c $< -o $@

lib/libnsd.so: $(LIB_OBJS)
	@mkdir -p $(@D)
	$(CC) $(BASE_FLAGS) -shared -Wl,-soname,libnsd.so -o $@ $^ $(LDLIBS)

bin/nsd: build/nsd/main.o lib/libnsd.so
	@mkdir -p $(@D)
	$(CC) $(BASE_FLAGS) -o $@ build/nsd/main.o -Llib -lnsd \
	    -Wl,-rpath,'$$ORIGIN/../lib' $(LDLIBS)

bin/nswebsocket.so: $(MOD_OBJS) lib/libnsd.so
	@mkdir -p $(@D)
	$(CC) $(BASE_FLAGS) -shared -o $@ $(MOD_OBJS) -Llib -lnsd \
	    -Wl,-rpath,'$$ORIGIN/../lib' $(LDLIBS)

-include $(LIB_OBJS:.o=.d) $(MOD_OBJS:.o=.d) build/nsd/main.d

# --- C unit tests: each links the sources it exercises, always sanitized ----------

UNIT_FLAGS := -std=c11 -D_GNU_SOURCE -pthread -g -O1 $(WARN_FLAGS) \
              -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
UNIT_TESTS := build/tests/request_test build/tests/sockconnect_test build/tests/wsframe_test \
              build/tests/wsparser_test

build/tests/request_test: tests/c/request_test.c nsd/request.c nsd/request.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(UNIT_FLAGS) -o $@ tests/c/request_test.c nsd/request.c $(LDLIBS)

# The two WebSocket engine tests share tests/c/unittest.h and the UTF-8 table.
WS_TEST_DEPS := nswebsocket/wsframe.c nswebsocket/wsframe.h tests/c/unittest.h tests/c/utf8cases.h

build/tests/wsframe_test: tests/c/wsframe_test.c $(WS_TEST_DEPS) nswebsocket/wsdigest.c \
                          nswebsocket/wsdigest.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Inswebsocket $(UNIT_FLAGS) -o $@ tests/c/wsframe_test.c \
	    nswebsocket/wsframe.c nswebsocket/wsdigest.c $(LDLIBS)

build/tests/wsparser_test: tests/c/wsparser_test.c $(WS_TEST_DEPS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Inswebsocket $(UNIT_FLAGS) -o $@ tests/c/wsparser_test.c \
	    nswebsocket/wsframe.c $(LDLIBS)

# sockconnect_test links lib/libnsd.so, whose sanitizer must agree with its own:
# with --enable-tsan it takes the library's flags instead of ASan's.
SOCK_TEST_FLAGS := $(if $(findstring thread,$(SAN_FLAGS)), \
                   -std=c11 -D_GNU_SOURCE -pthread -g -O1 $(WARN_FLAGS) $(SAN_FLAGS), \
                   $(UNIT_FLAGS))

build/tests/sockconnect_test: tests/c/sockconnect_test.c lib/libnsd.so include/ns.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(SOCK_TEST_FLAGS) -o $@ tests/c/sockconnect_test.c -Llib -lnsd \
	    -Wl,-rpath,'$$ORIGIN/../../lib' $(LDLIBS)

# A tiny C module for tests/modules.test, built and linked like a real one.
TEST_MODULES := build/tests/testmodule.so

build/tests/testmodule.so: tests/c/testmodule.c include/ns.h lib/libnsd.so
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS_LIB) -shared -o $@ tests/c/testmodule.c -Llib -lnsd \
	    -Wl,-rpath,'$$ORIGIN/../../lib' $(LDLIBS)

# The load client of tests/ws_multicast.test and tests/ws_storm.test: thousands of
# WebSockets, with epoll.  Never sanitized: it must keep up with the server.
TEST_TOOLS := build/tests/wsload
TEST_WSLOAD_SRCS := tests/c/wsload.c tests/c/wsload_conn.c tests/c/wsload_multicast.c \
                    tests/c/wsload_drop.c tests/c/wsload_hold.c tests/c/wsload_storm.c

build/tests/wsload: $(TEST_WSLOAD_SRCS) tests/c/wsload.h
	@mkdir -p $(@D)
	$(CC) -std=c11 -D_GNU_SOURCE -O2 -g $(WARN_FLAGS) -o $@ $(TEST_WSLOAD_SRCS)

unit: $(UNIT_TESTS)
	@for t in $(UNIT_TESTS); do $$t || exit 1; done

# --- Benchmarks: the load generator, the baseline server, make bench ------------
#
# Plain C (libc, and OpenSSL for the handshake's SHA-1), optimised, unsanitised.
# make bench is never part of make test; tests/bench.test only checks that the
# tools work.

BENCH_FLAGS := -std=c11 -O2 -g $(WARN_FLAGS)
BENCH_TOOLS := build/bench/wsload build/bench/baseline

WSLOAD_SRCS := bench/wsload.c bench/wsload_conn.c bench/wsload_stats.c

build/bench/wsload: $(WSLOAD_SRCS) bench/wsload.h
	@mkdir -p $(@D)
	$(CC) $(BENCH_FLAGS) -o $@ $(WSLOAD_SRCS) -lcrypto

build/bench/baseline: bench/baseline.c
	@mkdir -p $(@D)
	$(CC) $(BENCH_FLAGS) -o $@ $<

bench-tools: $(BENCH_TOOLS)

# Up to 65536 descriptors when the hard limit allows, else the hard limit.
bench: all $(BENCH_TOOLS)
	@sh tools/deps.sh build
	ulimit -n 65536 2>/dev/null || ulimit -n $$(ulimit -Hn); \
	    $(TCLSH) bench/run.tcl $(BENCHFLAGS)

# --- Running and testing ---------------------------------------------------------

run: all
	@sh tools/deps.sh build
	@mkdir -p logs
	bin/nsd -f -t conf/nsd-config.tcl

test: all unit $(TEST_MODULES) $(TEST_TOOLS) $(BENCH_TOOLS)
	@sh tools/deps.sh test
	$(TCLSH) tests/all.tcl $(TESTFLAGS)

# The suite again and again beside busy loops, to shake out timing races.
test-stress: all unit $(TEST_MODULES) $(TEST_TOOLS) $(BENCH_TOOLS)
	@sh tools/deps.sh test
	sh tools/stress-tests.sh $(STRESS_RUNS) $(STRESS_BUSY)

# --- Sanitizers and fuzzing ------------------------------------------------------
#
# test-asan / test-tsan run the whole suite in a copy of the tree built with
# AddressSanitizer+UBSan or ThreadSanitizer, leaving this build alone.
# fuzz runs each libFuzzer harness for FUZZ_SECONDS on a copy of its corpus:
# fuzz_request (the HTTP request parser), fuzz_wsframe (the WebSocket frame
# parser and reassembler, with UTF-8 validation) and fuzz_readframe
# (ns_connchan read -websocket without the socket).  The seed corpora are
# in tests/fuzz/NAME.

FUZZ_SECONDS ?= 60
FUZZERS      := build/fuzz/fuzz_request build/fuzz/fuzz_wsframe build/fuzz/fuzz_readframe

define sanitized-test
	rm -rf $(1) && mkdir -p $(1)
	git ls-files --cached --others --exclude-standard | tar cf - -T - | tar xf - -C $(1)
	cd $(1) && ./configure -q $(2) && $(MAKE) test
endef

test-asan:
	$(call sanitized-test,build/asan,--enable-sanitizers)

test-tsan:
	$(call sanitized-test,build/tsan,--enable-tsan)

FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -I. -Iinclude -Insd -Inswebsocket \
              $(TCL_INCLUDE_SPEC)

build/fuzz/fuzz_request: tests/c/fuzz_request.c nsd/request.c nsd/request.h
	@mkdir -p $(@D)
	clang $(FUZZ_FLAGS) -o $@ tests/c/fuzz_request.c nsd/request.c $(LDLIBS)

build/fuzz/fuzz_wsframe: tests/c/fuzz_wsframe.c tests/c/fuzzcheck.h nswebsocket/wsframe.c \
                         nswebsocket/wsframe.h
	@mkdir -p $(@D)
	clang $(FUZZ_FLAGS) -o $@ tests/c/fuzz_wsframe.c nswebsocket/wsframe.c $(LDLIBS)

READFRAME_SRCS  := nswebsocket/wsreadframe.c nswebsocket/wsframe.c
# Tiny buffers, so that short inputs make them grow, move and go.
READFRAME_FLAGS := -DWS_READ_BUFFER_MIN=1 -DWS_READ_BUFFER_KEEP=64

build/fuzz/fuzz_readframe: tests/c/fuzz_readframe.c tests/c/fuzzcheck.h $(READFRAME_SRCS) \
                           nswebsocket/wsreadframe.h nswebsocket/wsframe.h
	@mkdir -p $(@D)
	clang $(FUZZ_FLAGS) $(READFRAME_FLAGS) -o $@ tests/c/fuzz_readframe.c $(READFRAME_SRCS) \
	    $(LDLIBS)

fuzz: $(FUZZERS)
	@sh tools/deps.sh fuzz
	@for f in $(FUZZERS); do \
	    name=$$(basename $$f | sed 's/^fuzz_//'); \
	    rm -rf build/fuzz/corpus-$$name && cp -R tests/fuzz/$$name build/fuzz/corpus-$$name; \
	    echo "fuzz: $$name for $(FUZZ_SECONDS) s"; \
	    $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 build/fuzz/corpus-$$name \
	        > build/fuzz/$$name.log 2>&1; rc=$$?; tail -6 build/fuzz/$$name.log; \
	    [ $$rc = 0 ] || { echo "fuzz: $$name failed, see build/fuzz/$$name.log"; exit 1; }; \
	done

# --- Installing ------------------------------------------------------------------

# PREFIX (as the issue and README spell it) overrides configure's --prefix.
PREFIX       ?= $(prefix)
INSTALL_ROOT := $(DESTDIR)$(PREFIX)

install: all
	install -d $(INSTALL_ROOT)/bin $(INSTALL_ROOT)/lib $(INSTALL_ROOT)/include \
	    $(INSTALL_ROOT)/tcl $(INSTALL_ROOT)/modules/tcl $(INSTALL_ROOT)/pages \
	    $(INSTALL_ROOT)/logs $(INSTALL_ROOT)/conf
	install -m 755 bin/nsd $(INSTALL_ROOT)/bin/nsd
	install -m 755 lib/libnsd.so $(INSTALL_ROOT)/lib/libnsd.so
	install -m 644 include/ns.h $(INSTALL_ROOT)/include/ns.h
	install -m 644 tcl/*.tcl $(INSTALL_ROOT)/tcl/
	cp -R pages/. $(INSTALL_ROOT)/pages/
	for d in tcl/*/; do [ -d "$$d" ] || continue; \
	    install -d $(INSTALL_ROOT)/modules/$$d && \
	    cp -R $$d. $(INSTALL_ROOT)/modules/$$d; done
	[ ! -f bin/nswebsocket.so ] || install -m 755 bin/nswebsocket.so $(INSTALL_ROOT)/bin/
	[ -f $(INSTALL_ROOT)/conf/nsd-config.tcl ] || \
	    install -m 644 conf/nsd-config.tcl $(INSTALL_ROOT)/conf/nsd-config.tcl

clean:
	rm -rf build lib bin tests/out bench/out

distclean: clean
	rm -rf config.mk config.h config.log config.status autom4te.cache

.PHONY: all run test unit install clean distclean test-asan test-tsan test-stress fuzz bench bench-tools

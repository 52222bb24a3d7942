# ferry - GitOps continuous delivery for Kubernetes, in C.
#
#   make            build build/ferry
#   make test       build normal + ASan/UBSan variants and run every test
#   make deps       install the Debian packages (and helm) the build and tests need
#   make bench      run the benchmarks
#   make fuzz       build the libFuzzer targets (clang) into build/fuzz/
#   make SANITIZE=1 build the ASan+UBSan variant into build/asan/
#
# Sources are picked up by wildcard: a new src/<dir>/<file>.c needs no edit here.

CC ?= cc
SANITIZE ?=
ifeq ($(SANITIZE),1)
BUILD ?= build/asan
SANFLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
OPT ?= -O1
else
BUILD ?= build
SANFLAGS =
OPT ?= -O2
endif

PKGS = libgit2 yaml-0.1 jansson libcurl libmicrohttpd luajit sqlite3 openssl
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN = -Wall -Wextra -Werror -Wno-unused-parameter -Wstrict-prototypes -Wvla -Wformat -Wformat-security -Wshadow
CFLAGS ?= $(OPT) -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -pthread $(WARN) $(SANFLAGS) -Isrc -I$(BUILD)/gen $(PKG_CFLAGS) $(CFLAGS) -MMD -MP
LDLIBS = $(PKG_LIBS) -ljq -ljsonnet -lcrypt -lpthread -lm
ALL_LDFLAGS = $(SANFLAGS) -pthread $(LDFLAGS)

SRC := $(sort $(shell find src -name '*.c'))
LIB_SRC := $(filter-out src/main.c,$(SRC))
EMBED = kube_kinds:data/kube-kinds.tsv smp_keys:data/strategic-merge-keys.tsv \
	crd_app:data/crds/application-crd.yaml crd_appset:data/crds/applicationset-crd.yaml \
	crd_appproj:data/crds/appproject-crd.yaml
EMBED_C = $(foreach e,$(EMBED),$(BUILD)/gen/embed_$(word 1,$(subst :, ,$(e))).c)
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/%.o) $(EMBED_C:.c=.o)
UNIT_SRC := $(sort $(wildcard tests/unit/*.c))
UNIT_OBJ := $(UNIT_SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/gen/unit_suite.o
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))

all: $(BUILD)/ferry

$(BUILD)/ferry: $(BUILD)/obj/src/main.o $(BUILD)/libferry.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/libferry.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/gen/embed_%.c: scripts/embed.sh $(foreach e,$(EMBED),$(word 2,$(subst :, ,$(e))))
	@mkdir -p $(dir $@)
	sh scripts/embed.sh $* $(word 2,$(subst :, ,$(filter $*:%,$(EMBED)))) $@

$(BUILD)/gen/%.o: $(BUILD)/gen/%.c
	$(CC) $(ALL_CFLAGS) -Wno-overlength-strings -c -o $@ $<

# unit tests: every `void test_<suite>__<case>(void)` in tests/unit/*.c
$(BUILD)/gen/unit_suite.c: $(UNIT_SRC) tests/unit/gen-suite.sh
	@mkdir -p $(dir $@)
	sh tests/unit/gen-suite.sh $(UNIT_SRC) > $@

$(BUILD)/obj/gen/unit_suite.o: $(BUILD)/gen/unit_suite.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests/unit -c -o $@ $<

$(BUILD)/unit: $(UNIT_OBJ) $(BUILD)/libferry.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS)

# fuzz corpus replay without libFuzzer (gcc-friendly standalone driver)
$(BUILD)/fuzz-replay/%: tests/fuzz/%.c tests/fuzz/standalone.c $(BUILD)/libferry.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< tests/fuzz/standalone.c $(BUILD)/libferry.a $(LDLIBS)

FUZZ_REPLAY = $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz-replay/%)

unit: $(BUILD)/unit
fuzz-replay: $(FUZZ_REPLAY)

test:
	sh scripts/test.sh

deps:
	sh scripts/deps.sh

bench: all
	FERRY=$(BUILD)/ferry sh bench/run.sh

fuzz:
	sh scripts/fuzz.sh

clean:
	rm -rf build

.PHONY: all test deps bench fuzz clean unit fuzz-replay

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

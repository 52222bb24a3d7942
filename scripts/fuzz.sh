#!/bin/sh
# fuzz.sh - build every tests/fuzz/fuzz_*.c as a libFuzzer binary with clang
# into build/fuzz/. Run one: build/fuzz/fuzz_yaml tests/fuzz/corpus/yaml -max_total_time=60
set -e
make -j2 CC=clang BUILD=build/fuzz-lib SANFLAGS="-fsanitize=fuzzer-no-link,address,undefined" build/fuzz-lib/libferry.a
mkdir -p build/fuzz
LIBS="$(pkg-config --libs libgit2 yaml-0.1 jansson libcurl libmicrohttpd luajit sqlite3 openssl) -ljq -ljsonnet -lcrypt -lpthread -lm"
for src in tests/fuzz/fuzz_*.c; do
	t=$(basename "$src" .c)
	clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -Isrc \
		$(pkg-config --cflags jansson yaml-0.1 luajit) -o build/fuzz/$t "$src" build/fuzz-lib/libferry.a $LIBS
	echo "built build/fuzz/$t"
done

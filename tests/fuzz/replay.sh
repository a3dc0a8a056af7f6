#!/bin/sh
# replay.sh -- make check: replay every fuzz corpus through its fuzz target
# (tests/fuzz/corpus/NAME through tests/fuzz/replay_NAME)
set -e
for dir in "${srcdir:-.}"/tests/fuzz/corpus/*/; do
	target=$(basename "$dir")
	./tests/fuzz/replay_"$target" "$dir"
done

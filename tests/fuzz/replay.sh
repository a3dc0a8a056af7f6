#!/bin/sh
# replay.sh -- make check: replay every fuzz corpus through its fuzz target
# (tests/fuzz/corpus/NAME through tests/fuzz/replay_NAME)
set -e
for target in query feed response; do
	./tests/fuzz/replay_$target "${srcdir:-.}/tests/fuzz/corpus/$target"
done

#!/bin/sh
# replay.sh -- make check: replay the fuzz corpus through the query fuzz target
exec ./tests/fuzz/replay_query "${srcdir:-.}/tests/fuzz/corpus/query"

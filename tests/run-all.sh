#!/usr/bin/env bash
# tests/run-all.sh -- the whole test suite on a fresh Debian 12 machine (root):
# install what it needs, build, unit tests + fuzz corpus replay (make check),
# the integration suite against the fake internet, the same again built with
# AddressSanitizer and UBSan, a bounded libFuzzer run, and make distcheck.
# Last line: "N passed, N failed".  Exit status 0 only when nothing failed.
#   FUZZ_SECONDS (default 60)   how long libFuzzer runs
#   SKIP_DISTCHECK=1            leave out make distcheck
set -uo pipefail
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$SRC/tests/.work
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
JOBS=$(nproc 2>/dev/null || echo 2)
PASS=0
FAIL=0
mkdir -p "$OUT"
cd "$SRC" || exit 2

note() { printf '\n=== %s\n' "$*"; }
count() {  # count NAME PASSED FAILED
  PASS=$((PASS + $2)); FAIL=$((FAIL + $3))
  printf '%s: %s passed, %s failed\n' "$1" "$2" "$3"
}
step() {   # step NAME CMD...: one check that passes when CMD does
  local name=$1; shift
  if "$@" >"$OUT/$name.log" 2>&1; then count "$name" 1 0
  else count "$name" 0 1; tail -30 "$OUT/$name.log"; fi
}

# make_check DIR NAME: run make check in DIR, count cmocka cases and scripts
make_check() {
  local dir=$1 name=$2 p f
  make -C "$dir" -j"$JOBS" check >"$OUT/$name.log" 2>&1
  local logs
  logs=$(find "$dir/tests/unit" -name '*.log' 2>/dev/null)
  # shellcheck disable=SC2086
  p=$(cat $logs /dev/null | sed -n 's/^\[  PASSED  \] \([0-9]*\).*/\1/p' | paste -sd+ | bc)
  # shellcheck disable=SC2086
  f=$(cat $logs /dev/null | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | paste -sd+ | bc)
  # scripts and programs that are not cmocka suites count as one each
  p=$(( ${p:-0} + $(grep -l '^PASS' "$dir"/tests/fuzz/*.trs 2>/dev/null | wc -l) ))
  f=$(( ${f:-0} + $(find "$dir/tests" -name '*.trs' -exec grep -lE '^:test-result: (FAIL|ERROR|XPASS)' {} + 2>/dev/null | wc -l) ))
  if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then f=1; fi   # nothing ran: the build broke
  [ "$f" -eq 0 ] || tail -40 "$OUT/$name.log"
  count "$name" "$p" "$f"
}

# integration BIN NAME [WRAP]: the suite against the fake internet
integration() {
  local line
  "$SRC/tests/integration/run.sh" --egressd "$1" --work "$OUT/$2" >"$OUT/$2.log" 2>&1
  grep -E '^not ok|^#   ' "$OUT/$2.log" | head -60
  line=$(tail -1 "$OUT/$2.log")
  if [[ $line =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
    count "$2" "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}"
  else
    tail -20 "$OUT/$2.log"; count "$2" 0 1
  fi
}

build() {  # build DIR [configure args...]
  local dir=$1; shift
  rm -rf "$dir"; mkdir -p "$dir"
  (cd "$dir" && "$SRC/configure" -q "$@" && make -j"$JOBS") >"$OUT/build-$(basename "$dir").log" 2>&1
}

note "dependencies"
"$SRC/tools/install-deps.sh" --test || { echo "cannot install dependencies"; echo "0 passed, 1 failed"; exit 1; }
# builds go to build-*/; an in-tree build (README's quick start) would stop them
[ -f "$SRC/config.status" ] && make -C "$SRC" distclean >/dev/null 2>&1
autoreconf -fi >"$OUT/autoreconf.log" 2>&1 || { cat "$OUT/autoreconf.log"; echo "0 passed, 1 failed"; exit 1; }

note "build and unit tests"
if build "$SRC/build-plain"; then
  count build 1 0
  make_check "$SRC/build-plain" unit
  note "integration"
  integration "$SRC/build-plain/egressd" integration
else
  tail -30 "$OUT/build-build-plain.log"; count build 0 1
fi

note "AddressSanitizer + UBSan"
SAN="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
if build "$SRC/build-asan" CFLAGS="$SAN" LDFLAGS="-fsanitize=address,undefined"; then
  count build-asan 1 0
  make_check "$SRC/build-asan" unit-asan
  integration "$SRC/build-asan/egressd" integration-asan
  step asan-reports bash -c "! grep -l 'ERROR: AddressSanitizer\|runtime error:\|ERROR: LeakSanitizer' $OUT/integration-asan/*.log"
else
  tail -30 "$OUT/build-build-asan.log"; count build-asan 0 1
fi
unset ASAN_OPTIONS UBSAN_OPTIONS

note "libFuzzer (${FUZZ_SECONDS}s)"
if build "$SRC/build-fuzz" CC=clang --enable-fuzzing --disable-werror; then
  for target in $(ls "$SRC/tests/fuzz/corpus"); do   # one corpus per target
    mkdir -p "$OUT/fuzz-corpus-$target"
    step "fuzz-$target" "$SRC/build-fuzz/tests/fuzz/fuzz_$target" -max_total_time="$FUZZ_SECONDS" \
      -timeout=10 -rss_limit_mb=2048 "$OUT/fuzz-corpus-$target" "$SRC/tests/fuzz/corpus/$target"
  done
else
  tail -30 "$OUT/build-build-fuzz.log"; count build-fuzz 0 1
fi

if [ "${SKIP_DISTCHECK:-0}" != 1 ]; then
  note "make distcheck"
  step distcheck make -C "$SRC/build-plain" -j"$JOBS" distcheck
fi

echo
echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]

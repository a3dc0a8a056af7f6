#!/usr/bin/env bash
# tests/integration/run.sh -- start the fake internet and egressd on loopback
# and check them with real clients (dig, kdig, raw probes).
#   run.sh [--egressd PATH] [--work DIR] [--wrap CMD] [AREA...]
# AREA is a file name under tests/integration/ without .sh (default: all).
# Prints TAP lines and a last line "N passed, N failed"; exit 1 on failures.
# Needs root (the fake internet serves on port 53 of 127.53.x.x).
set -uo pipefail
T_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=$(cd "$T_DIR/../.." && pwd)
EGRESSD=$SRC/egressd
WORK=
EG_WRAP=
while [ $# -gt 0 ]; do
  case $1 in
    --egressd) EGRESSD=$(realpath "$2"); shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    --wrap) EG_WRAP=$2; shift 2 ;;
    *) break ;;
  esac
done
AREAS=("$@")
[ ${#AREAS[@]} -gt 0 ] || AREAS=(daemon do53)
[ -n "$WORK" ] || WORK=$(mktemp -d /tmp/egressd-test.XXXXXX)
mkdir -p "$WORK"
FAKENET=$WORK/fakenet
EG_ADDR=127.0.0.1
EG_PORT=${EG_PORT:-5301}
export T_DIR SRC EGRESSD WORK FAKENET EG_ADDR EG_PORT EG_WRAP
source "$T_DIR/lib.sh"

cleanup() {
  stop_egressd
  "$SRC/tests/fakenet/stop" "$FAKENET" >/dev/null 2>&1 || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ -x "$EGRESSD" ] || { echo "no egressd binary at $EGRESSD" >&2; exit 2; }
if ! timeout 120 "$SRC/tests/fakenet/start" "$FAKENET" >"$WORK/fakenet.log" 2>&1; then
  echo "fake internet did not start:" >&2
  cat "$WORK/fakenet.log" >&2
  echo "0 passed, 1 failed"
  exit 1
fi

for area in "${AREAS[@]}"; do
  echo "# $area"
  source "$T_DIR/$area.sh"
done
stop_egressd
echo "$T_PASS passed, $T_FAIL failed"
[ "$T_FAIL" -eq 0 ]

#!/usr/bin/env bash
# tests/integration/run.sh -- start the fake internet and egressd on loopback
# and check them with real clients (dig, kdig, raw probes).
#   run.sh [--egressd PATH] [--threatctl PATH] [--work DIR] [--wrap CMD]
#          [--fakenet DIR] [AREA...]
# AREA is a file name under tests/integration/ without .sh (default: all).
# --fakenet DIR shares one fake internet between runs (it is started if
# needed and left running); EG_PORT picks egressd's port (default 5301),
# so that runs side by side do not meet.
# Prints TAP lines and a last line "N passed, N failed"; exit 1 on failures.
# Needs root (the fake internet serves on port 53 of 127.53.x.x).
set -uo pipefail
T_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=$(cd "$T_DIR/../.." && pwd)
EGRESSD=$SRC/egressd
THREATCTL=
WORK=
EG_WRAP=
FAKENET=
KEEP_FAKENET=
while [ $# -gt 0 ]; do
  case $1 in
    --egressd) EGRESSD=$(realpath "$2"); shift 2 ;;
    --threatctl) THREATCTL=$(realpath "$2"); shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    --wrap) EG_WRAP=$2; shift 2 ;;
    --fakenet) FAKENET=$(realpath -m "$2"); KEEP_FAKENET=1; shift 2 ;;
    *) break ;;
  esac
done
AREAS=("$@")
if [ ${#AREAS[@]} -eq 0 ]; then   # all: daemon and do53 first, then the rest
  AREAS=(daemon do53)
  for f in "$T_DIR"/*.sh; do
    f=$(basename "$f" .sh)
    case $f in lib|run|daemon|do53) ;; *) AREAS+=("$f") ;; esac
  done
fi
[ -n "$WORK" ] || WORK=$(mktemp -d /tmp/egressd-test.XXXXXX)
mkdir -p "$WORK"
[ -n "$FAKENET" ] || FAKENET=$WORK/fakenet
# threatctl: as given, else the one built beside egressd
[ -n "$THREATCTL" ] || THREATCTL=$(dirname "$EGRESSD")/threatctl
EG_ADDR=127.0.0.1
EG_PORT=${EG_PORT:-5301}
export T_DIR SRC EGRESSD THREATCTL WORK FAKENET EG_ADDR EG_PORT EG_WRAP
source "$T_DIR/lib.sh"

cleanup() {
  stop_egressd
  [ -n "$KEEP_FAKENET" ] || "$SRC/tests/fakenet/stop" "$FAKENET" >/dev/null 2>&1 || true
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

# tests/integration/lib.sh -- helpers for the integration suite (sourced).
# Every server we start is recorded and stopped by its pid; every client
# call is bounded by timeouts, so a run always ends by itself.
# shellcheck shell=bash

T_PASS=0
T_FAIL=0
T_N=0

# t NAME 'SHELL CONDITION': one check, reported TAP-style.
t() {
  local name=$1 cond=$2
  T_N=$((T_N + 1))
  if (eval "$cond") >"$WORK/last-check.out" 2>&1; then
    T_PASS=$((T_PASS + 1))
    echo "ok $T_N - $name"
  else
    T_FAIL=$((T_FAIL + 1))
    echo "not ok $T_N - $name"
    echo "#   condition: $cond"
    sed 's/^/#   /' "$WORK/last-check.out" | head -20
  fi
}

# q [dig args...]: dig at the egressd under test, bounded.
q() {
  timeout 30 dig +time=5 +tries=1 -p "$EG_PORT" @"$EG_ADDR" "$@"
}

# status OUTPUT: the rcode from dig's output
status_of() { sed -n 's/.*status: \([A-Z]*\),.*/\1/p' | head -1; }

probe() { timeout 60 python3 "$T_DIR/dnsprobe.py" "$@"; }

# start_egressd CONFIG LOG: start in the foreground mode, in the background;
# sets EG_PID; waits until it answers (any rcode) for at most 10 s.
start_egressd() {
  local cfg=$1 log=$2 i
  $EG_WRAP "$EGRESSD" -f -c "$cfg" >"$log" 2>&1 &
  EG_PID=$!
  for i in $(seq 1 100); do
    if timeout 2 dig +time=1 +tries=1 -p "$EG_PORT" @"$EG_ADDR" . SOA >/dev/null 2>&1; then
      return 0
    fi
    kill -0 "$EG_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "egressd did not come up; its log:" >&2
  cat "$log" >&2
  return 1
}

# stop_egressd: SIGTERM, wait up to 10 s, then KILL. Sets EG_RC.
stop_egressd() {
  local i
  EG_RC=
  [ -n "${EG_PID:-}" ] || return 0
  kill -TERM "$EG_PID" 2>/dev/null || true
  for i in $(seq 1 100); do
    kill -0 "$EG_PID" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$EG_PID" 2>/dev/null; then
    kill -KILL "$EG_PID" 2>/dev/null
    echo "egressd did not stop within 10 s: killed" >&2
  fi
  wait "$EG_PID" 2>/dev/null
  EG_RC=$?
  EG_PID=
}

# write_config FILE [extra server keys]: the test configuration
write_config() {
  local file=$1 extra=${2:-}
  cat >"$file" <<CFG
server:
  listen:
    - { transport: dns, address: "$EG_ADDR:$EG_PORT" }
    - { transport: dns, address: "[::1]:$EG_PORT" }
  tcp-idle-timeout: 2s
  tcp-max-connections: 16
  workers: 1   # caches are per worker: one, so a repeated query meets its cache
$extra
resolution:
  dnssec: yes
  trust-anchor: $FAKENET/root.key
  root-hints: $FAKENET/root.hints
  query-timeout: 8s
  unbound-options: { do-not-query-localhost: "no" }
tenants:
  - { name: local, networks: [ 127.0.0.1/32, "::1/128" ] }
CFG
}

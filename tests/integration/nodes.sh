# tests/integration/nodes.sh -- security-node pools and health checks through real
# queries: a redirected name answers the healthy nodes of the client's pool;
# a node that goes down leaves the answers within interval + timeout and
# comes back when it is up again.  Nodes are loopback addresses with a
# listener (nodelisten.py) this file starts and stops: nothing outside
# 127.0.0.0/8 and ::1 is ever probed.  The redirect comes from a policy's
# geo rule (www.zone02.com is in RU in mkmmdb.pl's map; client 127.0.0.3 DE).
# shellcheck shell=bash

NODES=$WORK/nodes
NODE_PORT=$((EG_PORT + 1100))
mkdir -p "$NODES"
if ! perl "$T_DIR/mkmmdb.pl" "$NODES" 2>"$NODES/mkmmdb.err"; then
  t "mkmmdb.pl writes the test databases (libmaxmind-db-writer-perl)" 'cat "$NODES/mkmmdb.err"; false'
  return 0
fi

declare -A NODE_PID=()

# node_up ADDR: start a listener on ADDR:NODE_PORT (for 300 s at most)
node_up() {
  local a=$1 i
  python3 "$T_DIR/nodelisten.py" "$a" "$NODE_PORT" 300 >"$NODES/listen-$a.out" 2>&1 &
  NODE_PID[$a]=$!
  for i in $(seq 1 50); do
    grep -q listening "$NODES/listen-$a.out" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "listener on $a did not start:" >&2
  cat "$NODES/listen-$a.out" >&2
  return 1
}

# node_down ADDR: stop its listener
node_down() {
  local a=$1
  [ -n "${NODE_PID[$a]:-}" ] || return 0
  kill -TERM "${NODE_PID[$a]}" 2>/dev/null
  wait "${NODE_PID[$a]}" 2>/dev/null
  NODE_PID[$a]=
}

nodes_cleanup() {
  local a
  for a in "${!NODE_PID[@]}"; do node_down "$a"; done
}

# answers CLIENT TYPE: the redirected name's addresses, sorted, one line
answers() {
  q -b "$1" www.zone02.com "$2" +short | sort | tr '\n' ' ' | sed 's/ $//'
}

# settles CLIENT TYPE WANT SECONDS: poll until the answer is WANT; prints
# how long it took (or the last answer), fails after SECONDS
settles() {
  local client=$1 type=$2 want=$3 secs=$4 start now got
  start=$(date +%s%N)
  while :; do
    got=$(answers "$client" "$type")
    now=$(date +%s%N)
    if [ "$got" = "$want" ]; then
      echo "after $(( (now - start) / 1000000 )) ms"
      return 0
    fi
    if [ $(( (now - start) / 1000000 )) -ge $((secs * 1000)) ]; then
      echo "still \"$got\" after $secs s, want \"$want\""
      return 1
    fi
    sleep 0.1
  done
}

cat >"$NODES/egressd.yaml" <<CFG
server:
  listen:
    - { transport: dns, address: "$EG_ADDR:$EG_PORT" }
    - { transport: dns, address: "[::1]:$EG_PORT" }
resolution:
  dnssec: yes
  trust-anchor: $FAKENET/root.key
  root-hints: $FAKENET/root.hints
  query-timeout: 8s
  unbound-options: { do-not-query-localhost: "no" }
threatdb: $NODES/no-threatdb
geoip: { country: country.mmdb }
security-nodes:
  health-check: { port: $NODE_PORT, interval: 1s, timeout: 300ms }
  pools:
    default: [ 127.0.0.21, 127.0.0.22, "::1" ]
    eu: { countries: [ DE, FR ], addresses: [ 127.0.0.23 ] }
tenants:
  - { name: local, networks: [ 127.0.0.1/32, 127.0.0.3/32, "::1/128" ], policy: geo }
policies:
  geo:
    redirect-ttl: 10s
    geo: { redirect-countries: [ RU ] }
CFG

ok=1
for a in 127.0.0.21 127.0.0.22 127.0.0.23 ::1; do node_up "$a" || ok=
done
t "four node listeners on loopback" '[ -n "$ok" ]'
if ! start_egressd "$NODES/egressd.yaml" "$WORK/egressd-nodes.log"; then
  t "egressd starts with security-nodes" false
  nodes_cleanup
  return 0
fi
LOG=$WORK/egressd-nodes.log
t "health checks started" 'grep -q "health checks: 4 security nodes, TCP port $NODE_PORT every 1000 ms" "$LOG"'
sleep 1.5   # a round of checks with every node up
t "all up: the default pool" '[ "$(answers 127.0.0.1 A)" = "127.0.0.21 127.0.0.22" ]'
t "all up: the default pool, IPv6" '[ "$(answers 127.0.0.1 AAAA)" = "::1" ]'
t "all up: a client in DE gets the eu pool" '[ "$(answers 127.0.0.3 A)" = 127.0.0.23 ]'
t "no node reported down while all listen" '! grep -q "is down" "$LOG"'

# one node of the default pool goes down: gone within interval + timeout
node_down 127.0.0.22
t "a node down leaves the answers within interval + timeout (1.3 s)" \
  'settles 127.0.0.1 A 127.0.0.21 2'
t "its state change is logged" \
  'grep -q "security node 127.0.0.22 port $NODE_PORT is down" "$LOG"'
t "the other pools are not affected" '[ "$(answers 127.0.0.3 A)" = 127.0.0.23 ]'
node_up 127.0.0.22
t "the node back up returns to the answers" \
  'settles 127.0.0.1 A "127.0.0.21 127.0.0.22" 2'
t "its recovery is logged" \
  'grep -q "security node 127.0.0.22 port $NODE_PORT is up again" "$LOG"'

# the eu pool's only node down: its clients get the default pool's nodes
node_down 127.0.0.23
t "regional pool down: the default pool's healthy nodes" \
  'settles 127.0.0.3 A "127.0.0.21 127.0.0.22" 2'
# every IPv4 node down: fail open to the configured proxies, never the real answer
node_down 127.0.0.21
node_down 127.0.0.22
t "every IPv4 node down: the client's pool, all of it (fail open)" \
  'settles 127.0.0.3 A 127.0.0.23 3'
t "every IPv4 node down: the default pool, all of it" \
  '[ "$(answers 127.0.0.1 A)" = "127.0.0.21 127.0.0.22" ]'
t "IPv6 is judged on its own" '[ "$(answers 127.0.0.1 AAAA)" = "::1" ]'
node_up 127.0.0.21
t "one node back: only it" 'settles 127.0.0.3 A 127.0.0.21 2'
node_up 127.0.0.23
t "the regional node back: the eu pool again" 'settles 127.0.0.3 A 127.0.0.23 2'
t "queries are answered at once while checks run" \
  'ms=$(q www.zone02.com A | sed -n "s/;; Query time: \([0-9]*\) msec/\1/p"); echo "$ms ms"; [ "$ms" -lt 200 ]'

stop_egressd
t "clean exit with the health checks running" '[ "$EG_RC" = 0 ]'
nodes_cleanup

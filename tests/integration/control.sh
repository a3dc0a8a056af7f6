# tests/integration/control.sh -- egressctl, reload and SIGHUP under load,
# refused reloads, workers on threads, and the drop to server.user.
# shellcheck shell=bash

CTL=$(dirname "$EGRESSD")/egressctl
CDB=$WORK/control-db
CSOCK=$WORK/control-run/control.sock
CCFG=$WORK/control.yaml

CMPORT=$((EG_PORT + 4100))
ctl() { timeout 30 "$CTL" -s "$CSOCK" "$@"; }

# control_config FILE C2-ACTION [PORT] [EXTRA server keys] [SOCKET]
control_config() {
  cat >"$1" <<CFG
server:
  listen:
    - { transport: dns, address: "$EG_ADDR:${3:-$EG_PORT}" }
  workers: ${CW:-2}
${4:-}
resolution:
  dnssec: yes
  trust-anchor: $FAKENET/root.key
  root-hints: $FAKENET/root.hints
  query-timeout: 8s
  unbound-options: { do-not-query-localhost: "no" }
threatdb: $CDB
security-nodes:
  health-check: { port: 5358, interval: 1s, timeout: 200ms }
  pools:
    default: [ 127.0.0.10 ]
tenants:
  - { name: hq, networks: [ 127.0.0.1/32, "::1/128" ], policy: strict }
  - { name: lab, networks: [ 127.0.0.9/32 ] }
policies:
  strict: { categories: { c2: $2 } }
metrics: { listen: "127.0.0.1:${CMP:-$CMPORT}" }
control: ${5:-$CSOCK}
CFG
}

if [ ! -x "$CTL" ] || [ ! -x "$THREATCTL" ]; then
  t "egressctl and threatctl are built next to egressd" 'false'
  return 0
fi

rm -rf "$CDB" "$WORK/control-run"
printf 'zone02.com\n' >"$WORK/control-c2.txt"
t "import a c2 feed" \
  'timeout 30 "$THREATCTL" -d "$CDB" import --feed c2 --format domains --category c2 "$WORK/control-c2.txt"'

control_config "$CCFG" block
t "-t accepts workers, control and user keys" '"$EGRESSD" -t -c "$CCFG" | grep -q "configuration OK"'
CW=0 control_config "$WORK/control-w0.yaml" block
t "-t: server.workers out of range names file, line and key" \
  '! "$EGRESSD" -t -c "$WORK/control-w0.yaml" 2>"$WORK/err" && grep -E "control-w0.yaml:[0-9]+: server.workers: 0 is out of range" "$WORK/err"'
control_config "$WORK/control-u.yaml" block "" "  user: no-such-user-here"
t "-t: an unknown server.user is refused" \
  '! "$EGRESSD" -t -c "$WORK/control-u.yaml" 2>"$WORK/err" && grep -E "control-u.yaml:[0-9]+: server.user: no such user" "$WORK/err"'

start_egressd "$CCFG" "$WORK/egressd-control.log" || return 0

# --- the socket and the read-only commands
t "control socket is mode 0600" '[ "$(stat -c %a "$CSOCK")" = 600 ]'
t "its directory was created 0750" '[ "$(stat -c %a "$(dirname "$CSOCK")")" = 750 ]'
t "status: version, config, workers, threat DB generation" \
  'ctl status >"$WORK/out" && grep -q "^version " "$WORK/out" && grep -q "^config $CCFG$" "$WORK/out" &&
   grep -q "^workers 2$" "$WORK/out" && grep -Eq "^threatdb $CDB generation [0-9]+$" "$WORK/out" && grep -q "^uptime [0-9]*s$" "$WORK/out"'
t "two workers: two more threads" '[ "$(ls /proc/$EG_PID/task | wc -l)" -ge 3 ]'
for i in $(seq 1 40); do q www.zone00.com A >/dev/null 2>&1; done
t "stats: the queries counted" \
  'ctl stats >"$WORK/out" && [ "$(sed -n "s/^queries //p" "$WORK/out")" -ge 40 ]'
t "stats: both workers answered (SO_REUSEPORT spreads source ports)" \
  '[ "$(sed -n "s/^worker.0.queries //p" "$WORK/out")" -gt 0 ] && [ "$(sed -n "s/^worker.1.queries //p" "$WORK/out")" -gt 0 ]'
t "metrics: the workers' counters summed (= stats queries)" \
  'timeout 10 curl -sf "http://127.0.0.1:$CMPORT/metrics" >"$WORK/control-metrics.txt" &&
   [ "$(timeout 30 python3 "$T_DIR/auditcheck.py" metrics "$WORK/control-metrics.txt")" = "$(ctl stats | sed -n "s/^queries //p")" ]'
t "tenants: name, policy, networks, identity" \
  'ctl tenants >"$WORK/out" && grep -qx "hq policy=strict networks=::1/128,127.0.0.1/32 identity=-" "$WORK/out" &&
   grep -qx "lab policy=(default) networks=127.0.0.9/32 identity=-" "$WORK/out"'
t "nodes: pools and node health" \
  'ctl nodes >"$WORK/out" && grep -q "^pool default" "$WORK/out" && grep -Eq "^  127.0.0.10 (up|down)$" "$WORK/out"'

# --- a second egressd: SO_REUSEPORT must not let it share our port, and it
# must not take our control socket
t "a second egressd on the same address is refused" \
  '! timeout 10 "$EGRESSD" -f -c "$CCFG" 2>"$WORK/err" && grep -Eq "control.yaml:[0-9]+: server.listen: $EG_ADDR:$EG_PORT \(udp\): address already in use" "$WORK/err"'
CMP=$((CMPORT + 1)) control_config "$WORK/control-2nd.yaml" block "$((EG_PORT + 1))"
t "a second egressd on our control socket is refused" \
  '! timeout 10 "$EGRESSD" -f -c "$WORK/control-2nd.yaml" 2>"$WORK/err" && grep -q "control: $CSOCK: in use by another running egressd" "$WORK/err" &&
   ctl status >/dev/null'

# --- explain agrees with what a real query gets
t "explain a listed name: the deciding entry and the block" \
  'ctl explain www.zone02.com >"$WORK/out" && grep -q "^tenant *hq (policy strict)" "$WORK/out" &&
   grep -q "zone02.com block category=c2 feed=c2 <- decides" "$WORK/out" &&
   grep -q "^qname *block reason=qname category=c2 feed=c2" "$WORK/out" && grep -q "^action *block: NXDOMAIN" "$WORK/out" &&
   ! grep -q "^recursion" "$WORK/out"'
t "a real query for it is NXDOMAIN" '[ "$(q www.zone02.com A | status_of)" = NXDOMAIN ]'
t "explain a clean name: recursion, DNSSEC, answer, response policy" \
  'ctl explain www.zone00.com --type A >"$WORK/out" && grep -q "^qname *pass" "$WORK/out" &&
   grep -Eq "^recursion *dnssec=(secure|insecure)" "$WORK/out" && grep -q "^answer *NOERROR" "$WORK/out" &&
   grep -q "www.zone00.com.*IN.*A" "$WORK/out" && grep -q "^response *pass" "$WORK/out" && grep -q "^action *pass" "$WORK/out"'
t "explain for another tenant uses its policy" \
  'ctl explain www.zone02.com --tenant lab >"$WORK/out" && grep -q "^tenant *lab (policy (built-in pass))" "$WORK/out" &&
   grep -q "^action *pass" "$WORK/out"'
t "explain: unknown tenant is an error (exit 1)" \
  'ctl explain www.zone00.com --tenant nobody-here 2>"$WORK/err"; [ $? = 1 ] && grep -q "no tenant" "$WORK/err"'
t "explain: unknown type is an error" \
  '! ctl explain www.zone00.com --type BOGUSTYPE 2>"$WORK/err" && grep -q "unknown type" "$WORK/err"'
t "usage errors exit 2" \
  'ctl frobnicate 2>/dev/null; a=$?; ctl explain 2>/dev/null; b=$?; ctl status extra 2>/dev/null; c=$?; [ "$a$b$c" = 222 ]'
t "a missing socket is exit 1 with the reason" \
  'timeout 10 "$CTL" -s "$WORK/no-such.sock" status 2>"$WORK/err"; [ $? = 1 ] && grep -q "No such file" "$WORK/err"'
t "the daemon refuses an unknown command line" \
  'printf "frobnicate\n" | timeout 5 python3 -c "
import socket,sys
s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(sys.stdin.buffer.read())
print(s.recv(4096).decode())" "$CSOCK" | grep -q "^error: unknown command"'
t "the daemon refuses an over-long command line" \
  'head -c 5000 /dev/zero | tr "\0" a | timeout 5 python3 -c "
import socket,sys
s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(sys.stdin.buffer.read())
print(s.recv(4096).decode())" "$CSOCK" | grep -q "^error: command line longer"'

# --- reload under load: a changed policy takes effect, no query fails
cload() {  # N OUTFILE: N queries one after the other, failures counted
  local n=$1 out=$2 i fails=0 st
  for i in $(seq 1 "$n"); do
    st=$(timeout 10 dig +time=3 +tries=1 -p "$EG_PORT" @"$EG_ADDR" "$([ $((i % 2)) = 0 ] && echo www || echo mail).zone00.com" A | status_of)
    [ "$st" = NOERROR ] || fails=$((fails + 1))
  done
  echo "$fails" >"$out"
}
cload 150 "$WORK/load1" &
load_pid=$!
sleep 0.3
control_config "$CCFG" pass
t "reload: a changed policy is accepted" 'ctl reload >"$WORK/out" && grep -q "^reloaded $CCFG" "$WORK/out"'
wait "$load_pid"
t "reload: no query failed during it" '[ "$(cat "$WORK/load1")" = 0 ]'
t "reload: the new policy answers (c2 now pass)" '[ "$(q www.zone02.com A | status_of)" = NOERROR ]'
t "reload: counted in status" 'ctl status | grep -q "^reloads 1$"'

# --- a bad config is refused, the running one stays
control_config "$CCFG" pass
sed -i 's/^  query-timeout: 8s/  query-timeout: 8s\n  no-such-key: 1/' "$CCFG"
cload 60 "$WORK/load2" &
load_pid=$!
t "reload: a broken config is refused with file:line: key (exit 1)" \
  'ctl reload 2>"$WORK/err"; [ $? = 1 ] && grep -Eq "$CCFG:[0-9]+: resolution.no-such-key: unknown key" "$WORK/err" &&
   grep -q "running config stays" "$WORK/err"'
wait "$load_pid"
t "reload refused: no query failed" '[ "$(cat "$WORK/load2")" = 0 ]'
t "reload refused: the old config keeps answering" '[ "$(q www.zone02.com A | status_of)" = NOERROR ]'
control_config "$CCFG" block "$((EG_PORT + 1))"
t "reload: a listener change is refused" \
  '! ctl reload 2>"$WORK/err" && grep -q "server.listen changed: restart egressd to apply" "$WORK/err"'
CW=1 control_config "$CCFG" block
t "reload: a workers change is refused" \
  '! ctl reload 2>"$WORK/err" && grep -q "server.workers changed: restart egressd to apply" "$WORK/err"'
t "refusals are counted; the policy is still the old one" \
  'ctl status | grep -q "^reloads-refused 3$" && [ "$(q www.zone02.com A | status_of)" = NOERROR ]'

# --- SIGHUP does what reload does
control_config "$CCFG" block
kill -HUP "$EG_PID"
for i in $(seq 1 50); do
  [ "$(grep -c "info: reloaded" "$WORK/egressd-control.log")" = 2 ] && break
  sleep 0.1
done
t "SIGHUP: reloaded (c2 blocked again)" \
  '[ "$(grep -c "info: reloaded" "$WORK/egressd-control.log")" = 2 ] && [ "$(q www.zone02.com A | status_of)" = NXDOMAIN ]'

# --- flush: both workers' caches hold ttl.alpha.com (TTL 100) and age it;
# after the flush the answer comes fresh from the zone again
cttl() { q ttl.alpha.com A +noall +answer | awk '{ print $2 }'; }
# (the kernel spreads queries over the workers by source port: 40 queries
# leave a worker without one with odds of 2^-39, 10 left it 1 in 500)
for i in $(seq 1 40); do cttl >/dev/null; done
sleep 2.2
t "before the flush: every answer comes aged from a cache" \
  'for i in $(seq 1 10); do ttl=$(cttl); [ -n "$ttl" ] && [ "$ttl" -le 98 ] || exit 1; done'
t "flush: every worker" 'ctl flush | grep -qx "flushed the caches of 2 workers"'
t "after the flush: the full TTL again (no cache held it)" '[ "$(cttl)" = 100 ]'
t "flush NAME" 'ctl flush www.zone00.com | grep -q "^flushed"'
t "flush: a bad name is refused" '! ctl flush "a..b" 2>/dev/null'
t "answers after the flush" '[ "$(q www.zone00.com A | status_of)" = NOERROR ] && ctl stats | grep -q "^flushes 2$"'

stop_egressd
t "SIGTERM with two workers: exit 0" '[ "$EG_RC" = 0 ]'
t "the socket is removed at exit" '[ ! -e "$CSOCK" ]'

# --- server.user: bind as root, then run as nobody; reload still works
UDIR=$(mktemp -d /tmp/egressd-user.XXXXXX)
chmod 755 "$UDIR"
control_config "$UDIR/egressd.yaml" block "" "  user: nobody" "$UDIR/run/control.sock"
chmod 644 "$UDIR/egressd.yaml"
chmod -R a+rX "$CDB"
CSOCK=$UDIR/run/control.sock
start_egressd "$UDIR/egressd.yaml" "$WORK/egressd-user.log" || { rm -rf "$UDIR"; return 0; }
t "server.user: runs as nobody" \
  'grep -Eq "^Uid:[[:space:]]+65534[[:space:]]+65534[[:space:]]+65534[[:space:]]+65534$" /proc/$EG_PID/status'
t "server.user: the socket and its directory belong to nobody" \
  '[ "$(stat -c %U:%a "$CSOCK")" = nobody:600 ] && [ "$(stat -c %U "$UDIR/run")" = nobody ]'
t "server.user: answers, the policy too" \
  '[ "$(q www.zone00.com A | status_of)" = NOERROR ] && [ "$(q www.zone02.com A | status_of)" = NXDOMAIN ]'
control_config "$UDIR/egressd.yaml" pass "" "  user: nobody" "$UDIR/run/control.sock"
t "server.user: reload works after the drop" \
  'ctl reload | grep -q "^reloaded" && [ "$(q www.zone02.com A | status_of)" = NOERROR ]'
stop_egressd
t "server.user: clean exit" '[ "$EG_RC" = 0 ]'
rm -rf "$UDIR"
CSOCK=$WORK/control-run/control.sock

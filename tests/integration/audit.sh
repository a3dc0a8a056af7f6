# tests/integration/audit.sh -- the query log (file, stdout-free modes, syslog
# over TCP and TLS) and the metrics endpoint, through real queries.
# Metrics listen on 127.0.0.1:$((EG_PORT + 4000)) (9361 with EG_PORT=5361);
# the SIEM stand-in on $((EG_PORT + 4001)) and $((EG_PORT + 4002)).
# shellcheck shell=bash

A=$WORK/audit
MPORT=$((EG_PORT + 4000))
SPORT=$((EG_PORT + 4001))
TPORT=$((EG_PORT + 4002))
M="http://127.0.0.1:$MPORT"
rm -rf "$A"
mkdir -p "$A"
AC() { timeout 30 python3 "$T_DIR/auditcheck.py" "$@"; }
http() { timeout 10 curl -s -o "$A/body" -w '%{http_code}' "$@"; }
scrape() { timeout 10 curl -sf "$M/metrics" >"$A/metrics.txt"; }
SL_PIDS=()
# sysloglisten PORT OUT [--tls CERT KEY]: a SIEM stand-in for at most 120 s
sysloglisten() {
  local port=$1 out=$2 i
  shift 2
  timeout 130 python3 "$T_DIR/sysloglisten.py" "$port" "$out" 120 "$@" &
  SL_PID=$!
  SL_PIDS+=("$SL_PID")
  for i in $(seq 1 50); do
    ss -ltn "sport = :$port" | grep -q LISTEN && return 0
    sleep 0.1
  done
  return 1
}
stop_listener() { kill "$1" 2>/dev/null; wait "$1" 2>/dev/null; true; }
# wait_lines FILE N: until FILE has at least N lines (at most 10 s)
wait_lines() {
  local i
  for i in $(seq 1 100); do
    [ "$(wc -l <"$2" 2>/dev/null || echo 0)" -ge "$1" ] 2>/dev/null && return 0
    sleep 0.1
  done
  echo "only $(wc -l <"$2" 2>/dev/null) lines in $2, wanted $1"
  return 1
}
wl() { wait_lines "$2" "$1"; }

# audit_config FILE LOG-SECTION
audit_config() {
  cat >"$1" <<CFG
server:
  listen:
    - { transport: dns, address: "$EG_ADDR:$EG_PORT" }
  workers: 1   # caches are per worker: one, so the second query is a hit
resolution:
  dnssec: yes
  trust-anchor: $FAKENET/root.key
  root-hints: $FAKENET/root.hints
  query-timeout: 8s
  unbound-options: { do-not-query-localhost: "no" }
threatdb: $A/db
security-nodes:
  pools:
    default: [ 127.0.0.10 ]
tenants:
  - { name: hq, networks: [ 127.0.0.1/32, 127.0.0.3/32 ], policy: strict }
policies:
  strict:
    categories: { malware: redirect, c2: block, tracking: log }
$2
metrics: { listen: "127.0.0.1:$MPORT" }
CFG
}

if [ ! -x "$THREATCTL" ]; then
  t "threatctl is built next to egressd" 'false'
  return 0
fi
printf 'zone01.net\n' >"$A/malware.txt"
printf 'zone02.com\n' >"$A/c2.txt"
printf 'zone08.com\n' >"$A/tracking.txt"
t "import the feeds" 'timeout 30 "$THREATCTL" -d "$A/db" import --feed malw --format domains --category malware "$A/malware.txt" &&
  timeout 30 "$THREATCTL" -d "$A/db" import --feed c2feed --format domains --category c2 "$A/c2.txt" &&
  timeout 30 "$THREATCTL" -d "$A/db" import --feed trk --format domains --category tracking "$A/tracking.txt"'

# --- 1. a file, every query, full addresses
audit_config "$A/full.yaml" "log:
  queries: $A/q.jsonl
  mode: metadata
  client-address: full"
t "-t accepts the log and metrics sections" '"$EGRESSD" -t -c "$A/full.yaml" | grep -q "configuration OK"'
start_egressd "$A/full.yaml" "$A/egressd-full.log" || return 0
# start_egressd asked ". SOA" until it got an answer: those are records too
wait_lines 1 "$A/q.jsonl" >/dev/null
sleep 0.2
BASE=$(AC count "$A/q.jsonl" qname=. qtype=SOA)

t "/readyz turns 200 once recursion answers" \
  'for i in $(seq 1 50); do [ "$(http "$M/readyz")" = 200 ] && break; sleep 0.2; done; [ "$(http "$M/readyz")" = 200 ] && grep -qx ready "$A/body"'
q www.alpha.com A >/dev/null
q www.alpha.com A >/dev/null
q www.secure.org A +dnssec >/dev/null
q www.bogus.org A >/dev/null
q zone01.net A >/dev/null
q zone02.com A >/dev/null
q zone08.com A >/dev/null
q nx.alpha.com AAAA +tcp >/dev/null
q -b 127.0.0.2 www.alpha.com A >/dev/null
q www.alpha.com TYPE65280 >/dev/null
q 'we\"i\.rd\\x\001y.alpha.com' A >/dev/null
SENT=$((11 + BASE))
t "one record per query" 'wl "$A/q.jsonl" $SENT && [ "$(AC lines "$A/q.jsonl")" = $SENT ]'
t "every record has exactly the contract fields, valid values" 'AC lines "$A/q.jsonl"'
t "file created 0640" '[ "$(stat -c %a "$A/q.jsonl")" = 640 ]'
t "pass: first asked upstream (cache miss), insecure" \
  '[ "$(AC count "$A/q.jsonl" qname=www.alpha.com qtype=A rcode=NOERROR action=pass reason=null category=null feed=null cache=miss dnssec=insecure tenant=hq client=127.0.0.1 transport=udp)" = 1 ]'
t "pass: then from the cache (hit)" '[ "$(AC count "$A/q.jsonl" qname=www.alpha.com qtype=A cache=hit)" = 1 ]'
t "secure answer: dnssec secure" '[ "$(AC count "$A/q.jsonl" qname=www.secure.org dnssec=secure action=pass)" = 1 ]'
t "bogus answer: SERVFAIL, dnssec bogus" '[ "$(AC count "$A/q.jsonl" qname=www.bogus.org dnssec=bogus rcode=SERVFAIL)" = 1 ]'
t "redirect: reason, category and feed" \
  '[ "$(AC count "$A/q.jsonl" qname=zone01.net action=redirect reason=qname category=malware feed=malw cache=null dnssec=null)" = 1 ]'
t "block: NXDOMAIN, category and feed" \
  '[ "$(AC count "$A/q.jsonl" qname=zone02.com action=block reason=qname category=c2 feed=c2feed rcode=NXDOMAIN)" = 1 ]'
t "log (monitor): the real answer, logged as a would-be block" \
  '[ "$(AC count "$A/q.jsonl" qname=zone08.com action=log reason=qname category=tracking feed=trk rcode=NOERROR)" = 1 ]'
t "TCP, AAAA, NXDOMAIN" '[ "$(AC count "$A/q.jsonl" qname=nx.alpha.com qtype=AAAA rcode=NXDOMAIN transport=tcp)" = 1 ]'
t "refuse: no tenant, REFUSED" \
  '[ "$(AC count "$A/q.jsonl" tenant=null client=127.0.0.2 action=refuse rcode=REFUSED cache=null)" = 1 ]'
t "unknown type as TYPE65280" '[ "$(AC count "$A/q.jsonl" qtype=TYPE65280)" = 1 ]'
t "odd bytes in a name stay valid JSON, labels tellable apart" \
  '[ "$(AC count "$A/q.jsonl" "qname=we\"i\\.rd\\\\x$(printf "\\001")y.alpha.com")" = 1 ]'
t "no answer payload in the log" '! grep -q "192.0.2.10" "$A/q.jsonl"'

# --- metrics
t "/metrics: every line valid exposition, counts the queries" \
  'scrape && [ "$(AC metrics "$A/metrics.txt")" = $SENT ]'
t "promtool check metrics" 'promtool check metrics <"$A/metrics.txt"'
t "queries_total by tenant, action, category" \
  '[ "$(AC value "$A/metrics.txt" "egressd_queries_total{transport=\"udp\",tenant=\"hq\",action=\"block\",category=\"c2\"}")" = 1 ] &&
   [ "$(AC value "$A/metrics.txt" "egressd_queries_total{transport=\"udp\",tenant=\"none\",action=\"refuse\",category=\"none\"}")" = 1 ]'
t "no query names in the labels" '! grep -q "alpha" "$A/metrics.txt"'
t "cache, dnssec, latency histogram, log records" \
  '[ "$(AC value "$A/metrics.txt" "egressd_cache_total{result=\"hit\"}")" -ge 1 ] &&
   [ "$(AC value "$A/metrics.txt" "egressd_dnssec_total{result=\"bogus\"}")" = 1 ] &&
   [ "$(AC value "$A/metrics.txt" "egressd_answer_latency_seconds_count")" = $SENT ] &&
   [ "$(AC value "$A/metrics.txt" "egressd_log_records_written_total")" = $SENT ] &&
   [ "$(AC value "$A/metrics.txt" "egressd_log_records_lost_total")" = 0 ]'
t "threat feeds: entries and age" \
  '[ "$(AC value "$A/metrics.txt" "egressd_threatdb_feed_entries{feed=\"c2feed\"}")" = 1 ] &&
   AC value "$A/metrics.txt" "egressd_threatdb_feed_age_seconds{feed=\"malw\"}"'
t "security-node health" \
  'v=$(AC value "$A/metrics.txt" "egressd_security_node_up{node=\"127.0.0.10\"}") && { [ "$v" = 0 ] || [ "$v" = 1 ]; }'
q www.beta.net A >/dev/null
t "counters go up after a query" \
  'scrape && [ "$(AC metrics "$A/metrics.txt")" = $((SENT + 1)) ]'
t "/healthz: 200 ok" '[ "$(http "$M/healthz")" = 200 ] && grep -qx ok "$A/body"'
t "unknown path: 404" '[ "$(http "$M/nothing")" = 404 ]'
t "POST: 405" '[ "$(http -X POST "$M/metrics")" = 405 ]'
t "DELETE: 405" '[ "$(http -X DELETE "$M/readyz")" = 405 ]'

# --- reopen (logrotate): move the file, SIGHUP, the next record in a new one
mv "$A/q.jsonl" "$A/q.jsonl.1"
kill -HUP "$EG_PID"
sleep 0.3
q www.beta.net AAAA >/dev/null
t "SIGHUP: a new file, created 0640, with the next record" \
  'wl "$A/q.jsonl" 1 && [ "$(AC count "$A/q.jsonl" qname=www.beta.net qtype=AAAA)" = 1 ] && [ "$(stat -c %a "$A/q.jsonl")" = 640 ]'
t "SIGHUP: the moved file keeps the old records, gets no new ones" \
  '[ "$(AC lines "$A/q.jsonl.1")" = $((SENT + 1)) ]'
t "still answering after the reopen" '[ "$(q www.alpha.com A +short)" = 192.0.2.10 ]'
stop_egressd
t "clean exit" '[ "$EG_RC" = 0 ]'

# --- 2. blocked-only, truncated addresses
audit_config "$A/trunc.yaml" "log:
  queries: $A/t.jsonl
  mode: blocked-only
  client-address: truncate"
start_egressd "$A/trunc.yaml" "$A/egressd-trunc.log" || return 0
q www.alpha.com A >/dev/null
q zone02.com A >/dev/null
q -b 127.0.0.3 zone01.net A >/dev/null
q zone08.com A >/dev/null
q -b 127.0.0.2 zone08.com A >/dev/null
stop_egressd
t "blocked-only: the four non-pass decisions, no pass" \
  '[ "$(AC lines "$A/t.jsonl")" = 4 ] && [ "$(AC count "$A/t.jsonl" action=pass)" = 0 ] &&
   for a in block redirect log refuse; do [ "$(AC count "$A/t.jsonl" action=$a)" = 1 ] || exit 1; done'
t "truncate: the /24, never the address" \
  '[ "$(AC count "$A/t.jsonl" client=127.0.0.0/24)" = 4 ] && ! grep -qE "127\.0\.0\.[123]\"" "$A/t.jsonl"'

# --- readiness follows the threat database
sed "s|threatdb: $A/db|threatdb: $A/later-db|" "$A/trunc.yaml" >"$A/nodb.yaml"
start_egressd "$A/nodb.yaml" "$A/egressd-nodb.log" || return 0
t "/readyz: 503 while the threat database is missing, saying so" \
  '[ "$(http "$M/readyz")" = 503 ] && grep -q "threat database $A/later-db is not open" "$A/body"'
timeout 30 "$THREATCTL" -d "$A/later-db" import --feed c2feed --format domains --category c2 "$A/c2.txt" >/dev/null 2>&1
t "/readyz: 200 once a feed is imported, without a query" \
  'for i in $(seq 1 50); do [ "$(http "$M/readyz")" = 200 ] && break; sleep 0.2; done; [ "$(http "$M/readyz")" = 200 ]'
stop_egressd

# --- 3. hashed addresses
head -c 32 /dev/urandom >"$A/key"
chmod 0640 "$A/key"
audit_config "$A/hash.yaml" "log:
  queries: $A/h.jsonl
  client-address: hash
  hash-key: $A/key"
start_egressd "$A/hash.yaml" "$A/egressd-hash.log" || return 0
q www.alpha.com A >/dev/null
q -b 127.0.0.3 www.alpha.com A >/dev/null
q www.beta.net A >/dev/null
q zone01.net A >/dev/null
q zone02.com A >/dev/null
q zone08.com A >/dev/null
q -b 127.0.0.2 www.beta.net A >/dev/null
stop_egressd
hmac_of() { python3 -c 'import hmac,hashlib,sys; print(hmac.new(open(sys.argv[1],"rb").read(), bytes(int(x) for x in sys.argv[2].split(".")), hashlib.sha256).hexdigest()[:32])' "$A/key" "$1"; }
HASH1=$(hmac_of 127.0.0.1)
HASH2=$(hmac_of 127.0.0.2)
t "hash: HMAC-SHA-256 of the address with the key, same client same token" \
  '[ "$(AC count "$A/h.jsonl" client=$HASH1 qname=www.alpha.com)" = 1 ] &&
   [ "$(AC count "$A/h.jsonl" client=$HASH1 qname=www.beta.net)" = 1 ] &&
   [ "$(AC count "$A/h.jsonl" qname=www.alpha.com)" = 2 ]'
t "hash: every decision carries the token" \
  'for a in pass redirect block log; do [ "$(AC count "$A/h.jsonl" action=$a client=$HASH1)" -ge 1 ] || exit 1; done &&
   [ "$(AC count "$A/h.jsonl" action=refuse client=$HASH2 tenant=null)" = 1 ]'
t "hash: no raw address in the file" '! grep -q "127\.0\.0" "$A/h.jsonl"'
chmod 0644 "$A/key"
t "hash: a world-readable key is refused, naming file, line and key" \
  '! "$EGRESSD" -t -c "$A/hash.yaml" 2>"$A/err" && grep -qE "hash.yaml:[0-9]+: log.hash-key: .* readable by everyone" "$A/err"'
printf 'short' >"$A/key"
chmod 0600 "$A/key"
t "hash: a short key is refused" '! "$EGRESSD" -t -c "$A/hash.yaml" 2>"$A/err" && grep -q "log.hash-key" "$A/err"'

# --- 4. syslog over TCP: octet counting, a collector that goes and comes back
audit_config "$A/syslog.yaml" "log:
  syslog: \"tcp://127.0.0.1:$SPORT\"
  syslog-buffer: 64k"
sysloglisten "$SPORT" "$A/s1.txt"
start_egressd "$A/syslog.yaml" "$A/egressd-syslog.log" || return 0
q www.alpha.com A >/dev/null
q zone02.com A >/dev/null
t "syslog: RFC 5424 messages, octet-counted frames, one per query" \
  'for i in $(seq 1 100); do grep -q zone02 "$A/s1.txt" && break; sleep 0.1; done
   AC syslog "$A/s1.txt" >"$A/s1.json" && ! grep -q BADFRAME "$A/s1.txt" &&
   [ "$(grep -c "\"qname\":\"www.alpha.com\"" "$A/s1.json")" = 1 ] &&
   [ "$(grep -c "\"qname\":\"zone02.com\",.*\"action\":\"block\"" "$A/s1.json")" = 1 ]'
stop_listener "$SL_PID"
sleep 0.3
for i in 1 2 3 4 5; do q www.zone0$i.com A >/dev/null; done
sysloglisten "$SPORT" "$A/s2.txt"
t "syslog: the collector went away and came back, the 5 records held meanwhile arrive" \
  'wl "$A/s2.txt" 5 && AC syslog "$A/s2.txt" >"$A/s2.json" && for i in 1 2 3 4 5; do grep -q "\"qname\":\"www.zone0$i.com\"" "$A/s2.json" || exit 1; done'
t "syslog: nothing lost, nothing twice" \
  'scrape && [ "$(AC value "$A/metrics.txt" egressd_log_records_lost_total)" = 0 ] &&
   [ "$(cat "$A/s1.json" "$A/s2.json" | sort | uniq -d | wc -l)" = 0 ] &&
   [ "$(grep -c "qname\":\"www.zone0" "$A/s2.json")" = 5 ]'
# a buffer too small for the outage: the loss is counted and stated
stop_listener "$SL_PID"
sleep 0.3
for i in $(seq 1 400); do echo "n$i.alpha.com A"; done >"$A/batch"
timeout 120 dig +time=2 +tries=1 -p "$EG_PORT" @"$EG_ADDR" -f "$A/batch" >/dev/null
scrape
LOST=$(AC value "$A/metrics.txt" egressd_log_records_lost_total)
t "syslog: an overflowing buffer counts the records it drops" '[ "$LOST" -gt 0 ]'
sysloglisten "$SPORT" "$A/s3.txt"
# (a loss line is shorter than a record, so it may find room, stating the
# loss in parts, before the collector is back). The outage lasted as long
# as the 400 queries; the reconnect backoff may by then have grown to its
# 30 s ceiling, so the wait is bounded by that, not by a guess.
lost_stated() { grep -o "\"event\":\"records-lost\",\"count\":[0-9]*" "$A/s3.txt" | awk -F: "{ n += \$NF } END { print n + 0 }"; }
for i in $(seq 1 350); do [ "$(lost_stated)" = "$LOST" ] && break; sleep 0.1; done
t "syslog: the loss is stated in the log, the counts add up" \
  'grep -q "records-lost - {" "$A/s3.txt" && [ "$(lost_stated)" = "$LOST" ]'
t "syslog: every record is delivered or counted lost" \
  'for i in $(seq 1 50); do [ $(( $(AC syslog "$A/s3.txt" | grep -vc records-lost) + LOST )) = 400 ] && exit 0; sleep 0.1; done; exit 1'
stop_egressd
stop_listener "$SL_PID"

# --- 5. syslog over TLS, the collector verified against syslog-ca
if timeout 20 openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=siem \
    -addext "subjectAltName=IP:127.0.0.1" -keyout "$A/siem.key" -out "$A/siem.pem" >/dev/null 2>&1; then
  audit_config "$A/tls.yaml" "log:
  syslog: \"tls://127.0.0.1:$TPORT\"
  syslog-ca: $A/siem.pem"
  sysloglisten "$TPORT" "$A/tls.txt" --tls "$A/siem.pem" "$A/siem.key"
  start_egressd "$A/tls.yaml" "$A/egressd-tls.log" || return 0
  q www.alpha.com A >/dev/null
  q zone02.com A >/dev/null
  t "syslog over TLS: records arrive" \
    'for i in $(seq 1 100); do grep -q zone02 "$A/tls.txt" && break; sleep 0.1; done
     AC syslog "$A/tls.txt" >"$A/tls.json" && grep -q "\"qname\":\"www.alpha.com\"" "$A/tls.json" &&
     grep -q "\"qname\":\"zone02.com\"" "$A/tls.json"'
  stop_egressd
  stop_listener "$SL_PID"
  # a collector whose certificate the CA did not sign: nothing is sent
  timeout 20 openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=other \
    -addext "subjectAltName=IP:127.0.0.1" -keyout "$A/other.key" -out "$A/other.pem" >/dev/null 2>&1
  sysloglisten "$TPORT" "$A/tls2.txt" --tls "$A/other.pem" "$A/other.key"
  start_egressd "$A/tls.yaml" "$A/egressd-tls2.log" || return 0
  q www.alpha.com A >/dev/null
  sleep 1.5
  t "syslog over TLS: an unverified collector gets no records" \
    '! grep -q "query - " "$A/tls2.txt" && [ "$(grep -c "TLS handshake failed" "$A/egressd-tls2.log")" = 1 ]'
  stop_egressd
  stop_listener "$SL_PID"
else
  t "openssl makes a test certificate" 'false'
fi

# --- 6. a sink that cannot keep up (stdout into a pipe nobody reads for 4 s,
# rings of 16 records): queries are still answered at once; the loss is
# counted and stated once the sink moves again
audit_config "$A/slow.yaml" "log:
  queries: \"-\"
  buffer: 16"
$EG_WRAP "$EGRESSD" -f -c "$A/slow.yaml" > >(sleep 4; exec timeout 60 cat >"$A/slow.out") 2>"$A/egressd-slow.log" &
EG_PID=$!
for i in $(seq 1 100); do
  timeout 2 dig +time=1 +tries=1 -p "$EG_PORT" @"$EG_ADDR" . SOA >/dev/null 2>&1 && break
  sleep 0.1
done
for i in $(seq 1 400); do echo "s$i.alpha.com A"; done >"$A/batch2"
timeout 120 dig +time=2 +tries=1 -p "$EG_PORT" @"$EG_ADDR" -f "$A/batch2" >"$A/batch2.out"
t "a blocked log never holds up the queries: all 400 answered" \
  '[ "$(grep -c "status: NXDOMAIN" "$A/batch2.out")" = 400 ]'
for i in $(seq 1 100); do grep -q "s400.alpha.com\|records-lost" "$A/slow.out" 2>/dev/null && break; sleep 0.1; done
sleep 1
scrape
SW=$(AC value "$A/metrics.txt" egressd_log_records_written_total)
SLOST=$(AC value "$A/metrics.txt" egressd_log_records_lost_total)
t "full rings: records dropped and counted" '[ "$SLOST" -gt 0 ]'
t "written + lost = every query answered" '[ $((SW + SLOST)) = "$(AC metrics "$A/metrics.txt")" ]'
t "the loss is stated in the log, the counts add up" \
  '[ "$(grep -o "\"event\":\"records-lost\",\"count\":[0-9]*" "$A/slow.out" | awk -F: "{ n += \$NF } END { print n }")" = "$SLOST" ] &&
   [ "$(AC lines "$A/slow.out")" = "$SW" ]'
stop_egressd
t "clean exit after the slow sink" '[ "$EG_RC" = 0 ]'
for p in "${SL_PIDS[@]}"; do stop_listener "$p"; done

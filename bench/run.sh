#!/usr/bin/env bash
# bench/run.sh -- egressd and Unbound side by side: the same fake internet, the same
# 1,000,000-entry block list, the same query mix, one after the other, loopback only.
#
#   bench/run.sh [--quick] [--build DIR] [--fakenet DIR] [--runs N] [--duration S]
#                [--lat-qps Q] [--lat-duration S] [--replace-duration S] [--replace-qps Q]
#                [--late-ms MS] [--threads N] [--entries N] [--transports "udp tcp dot doh"]
#                [--servers "egressd unbound"] [--no-probe]
#
# What it does, how long it takes and what it prints: bench/README.md.  Raw outputs go to
# bench/.work/runs/STAMP/ (BENCH_WORK moves bench/.work); the last lines printed are the
# Markdown table, also in report.md there.  Every process it starts is stopped on exit.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=$(cd "$HERE/.." && pwd)
CMDLINE="bench/run.sh $*"

RUNS=3 DUR=20 LAT_QPS=20000 LAT_DUR=10 REPL_DUR=30 REPL_QPS=20000 LATE_MS=20
PROBE=1 PROBE_DUR=5 PROBE_Q="64 256 1024" FIXED_Q=256 CLIENTS=16 WARM_PASSES=2
THREADS=1 ENTRIES=1000000 TRANSPORTS="udp tcp dot doh" SERVERS="egressd unbound"
FAKENET="" BUILD="" QUICK=0 CACHE=192m
EG_P53=5401 EG_PDOT=8541 EG_PDOH=4441 UB_P53=5411 UB_PDOT=8551 UB_PDOH=4451

say() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }
usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }

while [ $# -gt 0 ]; do
  case $1 in
    --quick) QUICK=1 ;;
    --build) BUILD=$2; shift ;;
    --fakenet) FAKENET=$(realpath -m "$2"); shift ;;
    --runs) RUNS=$2; shift ;;
    --duration) DUR=$2; shift ;;
    --lat-qps) LAT_QPS=$2; shift ;;
    --lat-duration) LAT_DUR=$2; shift ;;
    --replace-duration) REPL_DUR=$2; shift ;;
    --replace-qps) REPL_QPS=$2; shift ;;
    --late-ms) LATE_MS=$2; shift ;;
    --threads) THREADS=$2; shift ;;
    --entries) ENTRIES=$2; shift ;;
    --transports) TRANSPORTS=$2; shift ;;
    --servers) SERVERS=$2; shift ;;
    --no-probe) PROBE=0 ;;
    -h|--help) usage 0 ;;
    *) say "unknown option $1"; usage 2 ;;
  esac
  shift
done
if [ "$QUICK" = 1 ]; then  # explicit options given after --quick still win: apply only defaults
  case " $CMDLINE " in *" --runs "*) ;; *) RUNS=1 ;; esac
  case " $CMDLINE " in *" --duration "*) ;; *) DUR=3 ;; esac
  case " $CMDLINE " in *" --lat-duration "*) ;; *) LAT_DUR=3 ;; esac
  case " $CMDLINE " in *" --lat-qps "*) ;; *) LAT_QPS=10000 ;; esac
  case " $CMDLINE " in *" --replace-duration "*) ;; *) REPL_DUR=14 ;; esac
  PROBE=0 WARM_PASSES=1
fi
for v in RUNS DUR LAT_QPS LAT_DUR REPL_DUR REPL_QPS LATE_MS THREADS ENTRIES; do
  [[ ${!v} =~ ^[0-9]+$ ]] && [ "${!v}" -gt 0 ] || die "$v must be a positive whole number (got '${!v}')"
done
[ "$REPL_DUR" -ge 8 ] || die "--replace-duration must be at least 8 s"
for s in $SERVERS; do case $s in egressd|unbound) ;; *) die "--servers: unknown server $s" ;; esac; done
for t in $TRANSPORTS; do case $t in udp|tcp|dot|doh) ;; *) die "--transports: unknown transport $t" ;; esac; done

for c in dnsperf dig openssl python3 ss taskset timeout realpath awk; do
  command -v "$c" >/dev/null || die "$c not found (tools/install-deps.sh --bench)"
done
case " $SERVERS " in *" unbound "*)
  for c in unbound unbound-control unbound-checkconf; do
    command -v "$c" >/dev/null || die "$c not found (tools/install-deps.sh --bench)"
  done ;;
esac

# ---- the build: egressd and threatctl side by side
if [ -z "$BUILD" ]; then
  for d in "$PWD" "$SRC"; do [ -x "$d/egressd" ] && [ -x "$d/threatctl" ] && { BUILD=$d; break; }; done
  [ -n "$BUILD" ] || die "no egressd + threatctl in $PWD or $SRC: build first, or pass --build DIR"
fi
BUILD=$(cd "$BUILD" && pwd)
EGRESSD=$BUILD/egressd THREATCTL=$BUILD/threatctl
[ -x "$EGRESSD" ] && [ -x "$THREATCTL" ] || die "$BUILD has no egressd and threatctl"

WORK=${BENCH_WORK:-$HERE/.work}
RUN=$WORK/runs/$(date -u +%Y%m%d-%H%M%S)
mkdir -p "$RUN/raw"
RUN=$(cd "$RUN" && pwd)
say "run directory $RUN"

# ---- processes we start, stopped by pid on every exit
EG_PID="" UB_PID="" BG_PID="" FAKENET_STOP=""
stop_pid() {  # PID NAME: TERM, up to 10 s, then KILL
  local pid=$1 i
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  say "$2 ($pid) still running 10 s after TERM: KILL"
  kill -KILL "$pid" 2>/dev/null || true
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_pid "$BG_PID" dnsperf
  stop_pid "$EG_PID" egressd
  stop_pid "$UB_PID" unbound
  [ -z "$FAKENET_STOP" ] || "$SRC/tests/fakenet/stop" "$FAKENET_STOP" >/dev/null 2>&1 || true
  rm -rf "$RUN/threatdb" "$RUN/threatdb2" "$RUN/rpz1.zone" "$RUN/rpz2.zone" "$RUN/unbound/rpz.zone"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- 1. the fake internet: reuse the running one, or start ours (and stop it at the end)
running=$(ps -eo args= | sed -n 's#^nsd -c \(/.*\)/nsd-root\.conf$#\1#p' | head -1)
if [ -n "$running" ]; then
  [ -z "$FAKENET" ] || [ "$FAKENET" = "$running" ] \
    || die "a fake internet from $running is running; pass --fakenet $running (or stop it)"
  FAKENET=$running
  say "reusing the fake internet running from $FAKENET"
else
  [ "$(id -u)" = 0 ] || die "starting the fake internet needs root (port 53 on 127.53.x.x)"
  keep=1
  [ -n "$FAKENET" ] || { FAKENET=$WORK/fakenet; keep=0; }
  mkdir -p "$FAKENET"
  if [ ! -f "$FAKENET/MANIFEST" ]; then
    python3 "$SRC/tests/fakenet/gen.py" "$FAKENET" --fillers 500 || die "gen.py failed"
  fi
  [ "$keep" = 1 ] || FAKENET_STOP=$FAKENET
  timeout 180 "$SRC/tests/fakenet/start" "$FAKENET" >"$RUN/fakenet.log" 2>&1 \
    || { cat "$RUN/fakenet.log" >&2; die "tests/fakenet/start $FAKENET failed"; }
  say "fake internet started from $FAKENET$([ "$keep" = 1 ] && echo " (left running)")"
fi
for f in root.key root.hints names.txt MANIFEST; do [ -s "$FAKENET/$f" ] || die "$FAKENET/$f missing"; done
dig +time=2 +tries=1 +norec @127.53.0.1 . SOA | grep -q 'status: NOERROR' || die "the fake root 127.53.0.1 does not answer"

# ---- 2. feeds and query mix (cached by their inputs), threat DB and RPZ zones
key=$(cat "$FAKENET/names.txt" "$HERE/bench_data.py" "$HERE/gen_feed.py" | md5sum | cut -c1-10)
DATA=$WORK/data-$ENTRIES-$key
if [ ! -s "$DATA/info.txt" ]; then
  say "generating feeds of $ENTRIES entries and the query mix in $DATA"
  timeout 600 python3 "$HERE/bench_data.py" --fakenet "$FAKENET" --out "$DATA" -n "$ENTRIES" \
    || die "bench_data.py failed"
fi
QUERIES=$DATA/queries.txt CLASSES=$DATA/classes.tsv
{ read -r PROBE_NAME; read -r GONE_NAME; read -r NEW_NAME; } <"$DATA/probe.txt"
NQ=$(wc -l <"$QUERIES")
NQ_OK=$(awk 'NR == FNR { c[$1] = $2; next } c[$1] == "ok"' "$CLASSES" "$QUERIES" | wc -l)

import_feed() {  # DB FILE: import FILE as feed "bench"; prints the seconds it took
  local t0 t1
  t0=$(date +%s.%N)
  timeout 300 "$THREATCTL" -d "$1" import --feed bench --format domains --exact --category malware "$2" \
    >>"$RUN/threatctl.log" 2>&1 || die "threatctl import $2 failed (see $RUN/threatctl.log)"
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }'
}
say "importing feed1 into $RUN/threatdb"
IMPORT_S=$(import_feed "$RUN/threatdb" "$DATA/feed1.txt")
timeout 120 "$THREATCTL" -d "$RUN/threatdb" export --format rpz >"$RUN/rpz1.zone" || die "threatctl export failed"
import_feed "$RUN/threatdb2" "$DATA/feed2.txt" >/dev/null
timeout 120 "$THREATCTL" -d "$RUN/threatdb2" export --format rpz >"$RUN/rpz2.zone" || die "threatctl export failed"
rm -rf "$RUN/threatdb2"
for z in rpz1 rpz2; do
  n=$(grep -c ' CNAME ' "$RUN/$z.zone" || true)
  [ "$n" = "$ENTRIES" ] || die "$z.zone has $n triggers, not $ENTRIES"
done
RPZ_ORIGIN=$(sed -n 's/^\$ORIGIN //p' "$RUN/rpz1.zone" | head -1)
say "feed imported in ${IMPORT_S}s; RPZ zones of $ENTRIES triggers each (origin $RPZ_ORIGIN)"

# ---- TLS certificate for DoT and DoH, made now
mkdir -p "$RUN/tls"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
  -keyout "$RUN/tls/key.pem" -out "$RUN/tls/cert.pem" >/dev/null 2>&1 || die "openssl failed"

# ---- 3. configurations
port_free() { ! ss -Hlnut | awk '{print $5}' | grep -qE "^(127\.0\.0\.1|0\.0\.0\.0|\*|\[::\]):$1\$"; }

egressd_conf() {  # FILE LISTENERS-YAML WORKERS-LINE
  cat >"$1" <<EOF
# written by bench/run.sh
server:
  listen:
    - { transport: dns, address: "127.0.0.1:$EG_P53" }
$2
  tls: { certificate: "$RUN/tls/cert.pem", key: "$RUN/tls/key.pem" }
$3
resolution:
  dnssec: yes
  trust-anchor: "$FAKENET/root.key"
  root-hints: "$FAKENET/root.hints"
  cache-size: $CACHE
  unbound-options: { do-not-query-localhost: "no" }
threatdb: "$RUN/threatdb"
tenants:
  - { name: bench, networks: [ 127.0.0.0/8 ], policy: bench }
policies:
  bench: { categories: { malware: block } }
EOF
}
eg_ok() { timeout 60 "$EGRESSD" -t -c "$1" >"$1.check" 2>&1; }

EG_TRANSPORTS="" EG_LISTEN="" EG_WORKERS=""
if case " $SERVERS " in *" egressd "*) true ;; *) false ;; esac; then
  # always set: egressd's default (one worker per CPU) is not Unbound's
  egressd_conf "$RUN/probe.yaml" "" "  workers: $THREADS"
  if eg_ok "$RUN/probe.yaml"; then EG_WORKERS="  workers: $THREADS"
  elif [ "$THREADS" -gt 1 ]; then
    say "egressd does not take server.workers ($(tail -1 "$RUN/probe.yaml.check")): both servers get 1 thread"
    THREADS=1
  fi
  for t in $TRANSPORTS; do
    case $t in
      udp|tcp) EG_TRANSPORTS="$EG_TRANSPORTS $t" ;;
      dot) l="    - { transport: dot, address: \"127.0.0.1:$EG_PDOT\" }"
        egressd_conf "$RUN/probe.yaml" "$l" "$EG_WORKERS"
        if eg_ok "$RUN/probe.yaml"; then EG_TRANSPORTS="$EG_TRANSPORTS dot"; EG_LISTEN="$EG_LISTEN$l
"
        else say "egressd offers no DoT listener ($(tail -1 "$RUN/probe.yaml.check")): dot skipped for egressd"; fi ;;
      doh) ok=""
        for l in "    - { transport: doh, address: \"127.0.0.1:$EG_PDOH\", path: /dns-query }" \
                 "    - { transport: doh, address: \"127.0.0.1:$EG_PDOH\" }"; do
          egressd_conf "$RUN/probe.yaml" "$l" "$EG_WORKERS"
          if eg_ok "$RUN/probe.yaml"; then ok=1; EG_LISTEN="$EG_LISTEN$l
"; break; fi
        done
        if [ -n "$ok" ]; then EG_TRANSPORTS="$EG_TRANSPORTS doh"
        else say "egressd offers no DoH listener ($(tail -1 "$RUN/probe.yaml.check")): doh skipped for egressd"; fi ;;
    esac
  done
  egressd_conf "$RUN/egressd.yaml" "${EG_LISTEN%
}" "$EG_WORKERS"
  eg_ok "$RUN/egressd.yaml" || die "egressd -t refuses $RUN/egressd.yaml: $(cat "$RUN/egressd.yaml.check")"
  rm -f "$RUN/probe.yaml" "$RUN/probe.yaml.check"
fi

# Unbound with the settings egressd gives libunbound (resolver/recurse.c): the same caches
# (msg = cache-size/3, rrset = 2/3, key = 1/8), outgoing-range, queries per thread, EDNS
# buffer, aggressive NSEC, prefetch, the fake root's hints and trust anchor.
size_bytes() { numfmt --from=iec "${1^^}"; }
CB=$(size_bytes "$CACHE")
mkdir -p "$RUN/unbound"
cat >"$RUN/unbound/unbound.conf" <<EOF
# written by bench/run.sh
server:
  username: ""
  chroot: ""
  directory: "$RUN/unbound"
  pidfile: ""
  logfile: ""
  use-syslog: no
  verbosity: 1
  num-threads: $THREADS
  so-reuseport: yes
  interface: 127.0.0.1@$UB_P53
  interface: 127.0.0.1@$UB_PDOT
  interface: 127.0.0.1@$UB_PDOH
  tls-port: $UB_PDOT
  https-port: $UB_PDOH
  tls-service-key: "$RUN/tls/key.pem"
  tls-service-pem: "$RUN/tls/cert.pem"
  http-endpoint: "/dns-query"
  access-control: 127.0.0.0/8 allow
  do-not-query-localhost: no
  module-config: "respip validator iterator"
  trust-anchor-file: "$FAKENET/root.key"
  root-hints: "$FAKENET/root.hints"
  msg-cache-size: $((CB / 3))
  rrset-cache-size: $((CB / 3 * 2))
  key-cache-size: $((CB / 8))
  outgoing-range: 1024
  outgoing-num-tcp: 32
  num-queries-per-thread: 4096
  edns-buffer-size: 1232
  aggressive-nsec: yes
  prefetch: yes
  so-rcvbuf: 4m
  incoming-num-tcp: 1024
  tcp-idle-timeout: 10000
  statistics-interval: 0
remote-control:
  control-enable: yes
  control-interface: "$RUN/unbound/control.sock"
  control-use-cert: no
EOF
# checked without the RPZ (unbound-checkconf would spend seconds parsing it; a bad zone
# stops unbound at start, and its log says why)
case " $SERVERS " in *" unbound "*)
  timeout 60 unbound-checkconf "$RUN/unbound/unbound.conf" >"$RUN/unbound/checkconf.log" 2>&1 \
    || die "unbound-checkconf: $(cat "$RUN/unbound/checkconf.log")" ;;
esac
cat >>"$RUN/unbound/unbound.conf" <<EOF
rpz:
  name: "$RPZ_ORIGIN"
  zonefile: "$RUN/unbound/rpz.zone"
  rpz-log: no
EOF
cp "$RUN/rpz1.zone" "$RUN/unbound/rpz.zone"

# ---- pinning: one server thread on CPU 1 and dnsperf on CPU 0; otherwise nothing pinned
SERVER_PIN=() CLIENT_PIN=() PINNING="none"
if [ "$THREADS" = 1 ] && [ "$(nproc)" -ge 2 ]; then
  SERVER_PIN=(taskset -c 1) CLIENT_PIN=(taskset -c 0) PINNING="server CPU 1, dnsperf CPU 0"
fi

# ---- helpers for measuring
HZ=$(getconf CLK_TCK)
# cpu_use PID: "USER SYSTEM SWITCHES": CPU ticks in user and kernel mode, and context
# switches (voluntary and not) summed over the process's threads
cpu_use() {
  local t
  t=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | awk '{print $12, $13}') || t="0 0"
  echo "${t:-0 0} $(cat /proc/"$1"/task/*/status 2>/dev/null \
    | awk '/^(non)?voluntary_ctxt_switches:/ { n += $2 } END { print n + 0 }')"
}
mem_kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
mb() { awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; }
rcode() {  # PORT NAME TYPE -> rcode or "none"
  dig +time=1 +tries=1 @127.0.0.1 -p "$1" "$2" "$3" 2>/dev/null \
    | sed -n 's/.*status: \([A-Z]*\),.*/\1/p' | head -1 | grep . || echo none
}
kv() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2"; }  # KEY "k=v ..." -> v
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

target() {  # SERVER TRANSPORT: sets TGT to the dnsperf arguments that reach it
  local p53 pdot pdoh
  if [ "$1" = egressd ]; then p53=$EG_P53 pdot=$EG_PDOT pdoh=$EG_PDOH; else p53=$UB_P53 pdot=$UB_PDOT pdoh=$UB_PDOH; fi
  case $2 in
    udp|tcp) TGT=(-m "$2" -s 127.0.0.1 -p "$p53") ;;
    dot) TGT=(-m dot -s 127.0.0.1 -p "$pdot") ;;
    doh) TGT=(-m doh -s 127.0.0.1 -p "$pdoh" -O "doh-uri=https://127.0.0.1:$pdoh/dns-query" -O doh-method=GET) ;;
  esac
}

# dp PID OUT LIMIT_S ARGS...: one dnsperf run bounded by -l and timeout; prints dpstat's
# figures plus the server's CPU over the run (cpu_pct of one core, cpu_s)
dp() {
  local pid=$1 out=$2 lim=$3 c0 c1 t0 t1; shift 3
  c0=$(cpu_use "$pid"); t0=$(date +%s.%N)
  timeout $((lim + 30)) "${CLIENT_PIN[@]}" dnsperf "$@" -d "$QUERIES" -t 2 -l "$lim" >"$out" 2>&1 || true
  c1=$(cpu_use "$pid"); t1=$(date +%s.%N)
  echo "$(python3 "$HERE/dpstat.py" "$out" --classes "$CLASSES" --late-ms "$LATE_MS")" \
    "$(awk -v a="$c0" -v b="$c1" -v hz="$HZ" -v s="$t0" -v e="$t1" 'BEGIN {
        split(a, x, " "); split(b, y, " "); u = (y[1] - x[1]) / hz; k = (y[2] - x[2]) / hz
        printf "cpu_pct=%.0f cpu_s=%.3f user_s=%.3f sys_s=%.3f ctxsw=%d",
          (u + k) * 100 / (e - s), u + k, u, k, y[3] - x[3] }')"
}

# start_server NAME PORT CMD...: start, time until PROBE_NAME answers NXDOMAIN (the list is
# in force), record ready time and memory; sets SPID
start_server() {
  local name=$1 port=$2 t0 now r; shift 2
  port_free "$port" || die "127.0.0.1:$port is in use"
  t0=$(date +%s.%N)
  setsid "${SERVER_PIN[@]}" "$@" </dev/null >>"$RUN/$name.out" 2>&1 &
  SPID=$!
  while :; do
    kill -0 "$SPID" 2>/dev/null || die "$name exited during start-up: $(tail -5 "$RUN/$name.out")"
    [ "$(rcode "$port" "$PROBE_NAME" A)" = NXDOMAIN ] && break
    now=$(date +%s.%N)
    awk -v a="$t0" -v b="$now" 'BEGIN { exit !(b - a > 300) }' && die "$name not ready after 300 s"
    sleep 0.02
  done
  now=$(date +%s.%N)
  READY_S=$(awk -v a="$t0" -v b="$now" 'BEGIN { printf "%.2f", b - a }')
  sleep 1
  RSS_LOAD=$(mb "$(mem_kb "$SPID" VmRSS)") RSSF_LOAD=$(mb "$(mem_kb "$SPID" RssFile)")
  say "$name ready with the list after ${READY_S}s, VmRSS ${RSS_LOAD} MB (file-backed ${RSSF_LOAD} MB)"
}

# ---- 4/5. one server: start, warm, every transport, the replacement under load, stop
printf 'server\ttransport\tclients\toutstanding\trate\tqps_median\tqps_min\tqps_max\tlost_pct\tlat_qps\tlat_achieved\tlat_lost\tp50_ms\tp90_ms\tp99_ms\tp999_ms\tcpu_pct_at_rate\tcpu_us_per_query\tuser_us_per_query\tsys_us_per_query\tctxsw_per_query\n' >"$RUN/results.tsv"
printf 'server\tthreads\tpinning\tentries\timport_s\tready_s\trss_load_mb\trss_file_load_mb\trss_end_mb\thwm_end_mb\twarm_check\n' >"$RUN/servers.tsv"
printf 'server\tmethod\tstarted_s\ttook_s\tqps\tsent\tcompleted\tlost\tservfail\twrong\tlate\tp99_ms\tmax_ms\tcheck\n' >"$RUN/replace.tsv"

measure_server() {
  local srv=$1 port transports pid raw r TGT=() best_q best_qps rate top_qps top_q q f i tr
  raw=$RUN/raw/$srv; mkdir -p "$raw"
  if [ "$srv" = egressd ]; then
    port=$EG_P53 transports=$EG_TRANSPORTS
    start_server egressd "$port" "$EGRESSD" -f -c "$RUN/egressd.yaml"; EG_PID=$SPID
  else
    port=$UB_P53 transports=$TRANSPORTS
    start_server unbound "$port" unbound -d -c "$RUN/unbound/unbound.conf"; UB_PID=$SPID
  fi
  pid=$SPID
  local ready=$READY_S rss=$RSS_LOAD rssf=$RSSF_LOAD

  # warm the cache over UDP; the last pass is checked name by name against the classes
  for i in $(seq 1 "$WARM_PASSES"); do
    target "$srv" udp
    r=$(dp "$pid" "$raw/warm$i.txt" 120 "${TGT[@]}" -n 1 -c 8 -q 100 -v)
    say "$srv warm pass $i: $(kv completed "$r")/$(kv sent "$r") answered, NOERROR $(kv noerror "$r") NXDOMAIN $(kv nxdomain "$r") SERVFAIL $(kv servfail "$r"), wrong rcode $(kv wrong "$r")"
  done
  gzip -f "$raw"/warm*.txt
  local warm_check="ok"
  [ "$(kv wrong "$r")" = 0 ] && [ "$(kv completed "$r")" = "$NQ" ] && [ "$(kv noerror "$r")" = "$NQ_OK" ] \
    || warm_check="MISMATCH: $(kv completed "$r")/$NQ answered, $(kv wrong "$r") wrong rcodes, NOERROR $(kv noerror "$r") (expected $NQ_OK)"

  for tr in $TRANSPORTS; do
    case " $transports " in *" $tr "*) ;; *) continue ;; esac
    kill -0 "$pid" 2>/dev/null || die "$srv exited during the benchmark: $(tail -5 "$RUN/$srv.out")"
    best_q="" best_qps=0 rate="" top_qps=0 top_q=$FIXED_Q
    target "$srv" "$tr"
    if [ "$PROBE" = 1 ]; then
      for q in $PROBE_Q; do
        r=$(dp "$pid" "$raw/$tr-probe-q$q.txt" "$PROBE_DUR" "${TGT[@]}" -c "$CLIENTS" -q "$q")
        say "$srv $tr probe -c $CLIENTS -q $q: $(kv qps "$r") qps, lost $(kv lost_pct "$r")%"
        if awk -v l="$(kv lost_pct "$r")" 'BEGIN { exit !(l != "-" && l < 1) }' && [ "$(kv qps "$r")" -gt "$best_qps" ]; then
          best_q=$q best_qps=$(kv qps "$r")
        fi
        if [ "$(kv qps "$r")" != - ] && [ "$(kv qps "$r")" -gt "$top_qps" ]; then top_qps=$(kv qps "$r") top_q=$q; fi
      done
      if [ -z "$best_q" ]; then  # every setting lost >= 1 %: limit the offered rate
        for f in 0.9 0.75 0.5; do
          rate=$(awk -v q="$top_qps" -v f="$f" 'BEGIN { printf "%d", q * f }')
          r=$(dp "$pid" "$raw/$tr-probe-Q$rate.txt" "$PROBE_DUR" "${TGT[@]}" -c "$CLIENTS" -q "$top_q" -Q "$rate")
          say "$srv $tr probe -q $top_q -Q $rate: $(kv qps "$r") qps, lost $(kv lost_pct "$r")%"
          awk -v l="$(kv lost_pct "$r")" 'BEGIN { exit !(l != "-" && l < 1) }' && { best_q=$top_q; break; }
          rate=""
        done
        [ -n "$best_q" ] || { best_q=$top_q; say "$srv $tr: 1 % or more lost at every setting"; }
      fi
    else
      best_q=$FIXED_Q
    fi
    local extra=() qs=() ls=()
    [ -z "$rate" ] || extra=(-Q "$rate")
    for i in $(seq 1 "$RUNS"); do
      r=$(dp "$pid" "$raw/$tr-run$i.txt" "$DUR" "${TGT[@]}" -c "$CLIENTS" -q "$best_q" "${extra[@]}")
      say "$srv $tr run $i/$RUNS (-c $CLIENTS -q $best_q ${extra[*]}): $(kv qps "$r") qps, lost $(kv lost_pct "$r")%, server CPU $(kv cpu_pct "$r")%"
      qs+=("$(kv qps "$r")") ls+=("$(kv lost_pct "$r")")
    done
    # latency percentiles and server CPU per query at a fixed offered rate
    r=$(dp "$pid" "$raw/$tr-lat.txt" "$LAT_DUR" "${TGT[@]}" -c "$CLIENTS" -q 1000 -Q "$LAT_QPS" -v)
    gzip -f "$raw/$tr-lat.txt"
    local cpq split
    cpq=$(awk -v s="$(kv cpu_s "$r")" -v n="$(kv completed "$r")" 'BEGIN { if (n > 0) printf "%.1f", s / n * 1e6; else print "-" }')
    split=$(awk -v u="$(kv user_s "$r")" -v k="$(kv sys_s "$r")" -v c="$(kv ctxsw "$r")" -v n="$(kv completed "$r")" \
      'BEGIN { if (n > 0) printf "%.1f\t%.1f\t%.2f", u / n * 1e6, k / n * 1e6, c / n; else print "-\t-\t-" }')
    say "$srv $tr at $LAT_QPS qps: p50 $(kv p50_ms "$r") ms, p99 $(kv p99_ms "$r") ms, server CPU $(kv cpu_pct "$r")% ($cpq us/query)"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$srv" "$tr" "$CLIENTS" "$best_q" "${rate:--}" \
      "$(printf '%s\n' "${qs[@]}" | median)" "$(printf '%s\n' "${qs[@]}" | sort -g | head -1)" \
      "$(printf '%s\n' "${qs[@]}" | sort -g | tail -1)" "$(printf '%s\n' "${ls[@]}" | median)" \
      "$LAT_QPS" "$(kv qps "$r")" "$(kv lost_pct "$r")" "$(kv p50_ms "$r")" "$(kv p90_ms "$r")" \
      "$(kv p99_ms "$r")" "$(kv p999_ms "$r")" "$(kv cpu_pct "$r")" "$cpq" "$split" >>"$RUN/results.tsv"
  done

  # DoH once more with h2load (nghttp2-client), a second client with another pattern:
  # 64 streams in flight per connection.  (dnsperf 2.10 takes one answer per TLS record
  # it reads and times out the others, DNS-OARC/dnsperf#240, so a server that puts
  # several answers in one record looks broken to it; h2load has no such limit.)
  # Same mix as GET ?dns= URLs.
  if command -v h2load >/dev/null && case " $transports " in *" doh "*) true ;; *) false ;; esac; then
    local pdoh urls hq=() h
    if [ "$srv" = egressd ]; then pdoh=$EG_PDOH; else pdoh=$UB_PDOH; fi
    urls=$RUN/doh-urls-$srv.txt
    python3 - "$QUERIES" "$pdoh" >"$urls" <<'PY'
import base64, struct, sys
types = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "MX": 15, "TXT": 16, "AAAA": 28}
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) < 2:
        continue
    w = struct.pack(">HHHHHH", 0, 0x0100, 1, 0, 0, 0)
    for lab in f[0].rstrip(".").split("."):
        w += bytes([len(lab)]) + lab.encode()
    w += b"\0" + struct.pack(">HH", types.get(f[1], 1), 1)
    print("https://127.0.0.1:%s/dns-query?dns=%s" % (sys.argv[2],
          base64.urlsafe_b64encode(w).rstrip(b"=").decode()))
PY
    for i in $(seq 1 "$RUNS"); do
      h=$(timeout $((DUR + 30)) "${CLIENT_PIN[@]}" h2load -c "$CLIENTS" -m 64 -D "$DUR" -i "$urls" 2>&1 \
        | tee "$raw/doh-h2load-run$i.txt" | awk '/^finished in/ { printf "%d", $4 }')
      say "$srv doh (h2load) run $i/$RUNS (-c $CLIENTS -m 64): ${h:-0} req/s, $(grep -o '[0-9]* failed' "$raw/doh-h2load-run$i.txt" | head -1)"
      hq+=("${h:-0}")
    done
    h=$(timeout 60 "${CLIENT_PIN[@]}" h2load -c "$CLIENTS" -m 1 -r 1 --rps $((LAT_QPS / CLIENTS)) -n $((LAT_QPS * LAT_DUR)) -i "$urls" 2>&1 \
      | tee "$raw/doh-h2load-lat.txt" | awk '/^time for request:/ { print $6, $5 }')
    printf '%s\t%s\t%s\t%s\t%s\n' "$srv" "$(printf '%s\n' "${hq[@]}" | median)" \
      "$(printf '%s\n' "${hq[@]}" | sort -g | head -1)" "$(printf '%s\n' "${hq[@]}" | sort -g | tail -1)" \
      "${h:-- -}" >>"$RUN/h2load.tsv"
  fi

  # the feed replaced under load: dnsperf at a fixed rate over UDP; 3 s in, feed2 replaces
  # feed1 (egressd: threatctl import into the database it reads; unbound: the new RPZ file
  # renamed over the old one and unbound-control auth_zone_reload)
  local out=$raw/replace.txt t0 t1 method took check
  t0=$(date +%s.%N)
  target "$srv" udp
  timeout $((REPL_DUR + 30)) "${CLIENT_PIN[@]}" dnsperf "${TGT[@]}" -d "$QUERIES" -t 2 -l "$REPL_DUR" \
    -c "$CLIENTS" -q 1000 -Q "$REPL_QPS" -v >"$out" 2>&1 &
  BG_PID=$!
  sleep 3
  t1=$(date +%s.%N)
  if [ "$srv" = egressd ]; then
    method="threatctl import"
    took=$(import_feed "$RUN/threatdb" "$DATA/feed2.txt")
  else
    method="unbound-control auth_zone_reload"
    cp "$RUN/rpz2.zone" "$RUN/unbound/rpz.zone.new" && mv "$RUN/unbound/rpz.zone.new" "$RUN/unbound/rpz.zone"
    took=$( { s=$(date +%s.%N)
      timeout 300 unbound-control -c "$RUN/unbound/unbound.conf" auth_zone_reload "$RPZ_ORIGIN" >>"$RUN/unbound/control.log" 2>&1 \
        || echo "unbound-control failed: $(tail -1 "$RUN/unbound/control.log")" >&2
      e=$(date +%s.%N); awk -v a="$s" -v b="$e" 'BEGIN { printf "%.2f", b - a }'; } )
  fi
  kill -0 "$pid" 2>/dev/null || die "$srv exited during the replacement: $(tail -5 "$RUN/$srv.out")"
  local started
  started=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
  wait "$BG_PID" || true
  BG_PID=""
  r=$(python3 "$HERE/dpstat.py" "$out" --classes "$CLASSES" --late-ms "$LATE_MS")
  gzip -f "$out"
  # did the new list take effect? PROBE on both feeds, GONE only on feed1, NEW only on feed2
  check="$PROBE_NAME $(rcode "$port" "$PROBE_NAME" A), $GONE_NAME $(rcode "$port" "$GONE_NAME" A), $NEW_NAME $(rcode "$port" "$NEW_NAME" A)"
  case $check in
    *" NXDOMAIN, "*" NOERROR, "*" NXDOMAIN") check="new list in force ($check)" ;;
    *) check="NEW LIST NOT IN FORCE: $check (expected NXDOMAIN, NOERROR, NXDOMAIN)" ;;
  esac
  say "$srv replacement ($method, ${took}s, started ${started}s into the run): $(kv completed "$r")/$(kv sent "$r") answered, lost $(kv lost "$r"), SERVFAIL $(kv servfail "$r"), wrong $(kv wrong "$r"), late (> $LATE_MS ms) $(kv late "$r"), max $(kv max_ms "$r") ms; $check"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$srv" "$method" "$started" "$took" "$(kv qps "$r")" \
    "$(kv sent "$r")" "$(kv completed "$r")" "$(kv lost "$r")" "$(kv servfail "$r")" "$(kv wrong "$r")" \
    "$(kv late "$r")" "$(kv p99_ms "$r")" "$(kv max_ms "$r")" "$check" >>"$RUN/replace.tsv"

  local rss_end hwm_end
  rss_end=$(mb "$(mem_kb "$pid" VmRSS)") hwm_end=$(mb "$(mem_kb "$pid" VmHWM)")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$srv" "$THREADS" "$PINNING" "$ENTRIES" \
    "$([ "$srv" = egressd ] && echo "$IMPORT_S" || echo -)" "$ready" "$rss" "$rssf" "$rss_end" "$hwm_end" \
    "$warm_check" >>"$RUN/servers.tsv"
  stop_pid "$pid" "$srv"
  if [ "$srv" = egressd ]; then EG_PID=""; else UB_PID=""; fi
}

# ---- environment, then the servers one after the other
{
  echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "command: $CMDLINE"
  echo "host: $(nproc) cores ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), Linux $(uname -r), $(. /etc/os-release && echo "$PRETTY_NAME")"
  echo "egressd: $(cd "$SRC" && git describe --always --dirty 2>/dev/null || echo unknown) (source tree; binaries in $BUILD, egressd built $(date -u -r "$EGRESSD" "+%Y-%m-%d %H:%M UTC")); unbound $(unbound -V 2>/dev/null | sed -n 's/^Version //p' | head -1); $(dnsperf -h 2>&1 | sed -n 's/^Version /dnsperf /p' | head -1); $(nsd -v 2>&1 | head -1)"
  echo "fakenet: $FAKENET: $(head -1 "$FAKENET/MANIFEST")"
  echo "data: $(cat "$DATA/info.txt")"
  echo "list: $ENTRIES entries (threatctl import --format domains --exact; Unbound: threatctl export --format rpz, $ENTRIES triggers, zone $RPZ_ORIGIN)"
  echo "settings: threads $THREADS (pinning: $PINNING), cache $CACHE, DNSSEC validation on in both (trust anchor $FAKENET/root.key), runs $RUNS x ${DUR}s, probe $([ "$PROBE" = 1 ] && echo "-q {$PROBE_Q} ${PROBE_DUR}s" || echo "off, -q $FIXED_Q"), -c $CLIENTS, latency ${LAT_DUR}s at $LAT_QPS qps, replacement ${REPL_DUR}s at $REPL_QPS qps, late > ${LATE_MS} ms"
  echo "egressd transports: ${EG_TRANSPORTS# }"
} >"$RUN/env.txt"
cat "$RUN/env.txt" >&2

for s in $SERVERS; do measure_server "$s"; done

python3 "$HERE/report.py" "$RUN" >"$RUN/report.md" || die "report.py failed"
if [ -s "$RUN/h2load.tsv" ]; then
  {
    printf '\n### DoH with h2load (64 streams per connection; dnsperf needs one answer per TLS record, cf. DNS-OARC/dnsperf#240)\n\n'
    printf '| server | req/s median | min–max | mean / max latency at %s req/s |\n|---|---:|---|---|\n' "$LAT_QPS"
    awk -F'\t' '{ split($5, l, " "); printf "| %s | %s | %s–%s | %s / %s |\n", $1, $2, $3, $4, l[1], l[2] }' "$RUN/h2load.tsv"
  } >>"$RUN/report.md"
fi
say "done; raw outputs and report.md in $RUN"
cat "$RUN/report.md"

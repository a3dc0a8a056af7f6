# tests/integration/cache.sh -- the answer cache through real queries: TTLs
# counted down, verdicts replayed with their EDE, invalidation by a feed
# import, tenants with different policies kept apart, the audit's hit.
# shellcheck shell=bash

C=$WORK/cache
rm -rf "$C"
mkdir -p "$C"
AC() { timeout 30 python3 "$T_DIR/auditcheck.py" "$@"; }

STRICT=127.0.0.1   # policy strict: c2 blocked, rebinding protection
OPEN=127.0.0.2     # no policy: everything passes
STRICT2=127.0.0.3  # a second tenant with the same policy as STRICT

cache_config() {  # FILE
  cat >"$1" <<CFG
server:
  listen:
    - { transport: dns, address: "$EG_ADDR:$EG_PORT" }
  workers: 1   # the cache is per worker: one, so every query meets it
resolution:
  dnssec: yes
  trust-anchor: $FAKENET/root.key
  root-hints: $FAKENET/root.hints
  query-timeout: 8s
  answer-cache-size: 4m
  unbound-options: { do-not-query-localhost: "no" }
threatdb: $C/db
tenants:
  - { name: strict, networks: [ $STRICT/32 ], policy: strict }
  - { name: open, networks: [ $OPEN/32 ] }
  - { name: strict2, networks: [ $STRICT2/32 ], policy: strict }
policies:
  strict:
    categories: { c2: block }
    block-ttl: 30s
    rebinding-protection: yes
log:
  queries: $C/q.jsonl
  mode: metadata
CFG
}

if [ ! -x "$THREATCTL" ]; then
  t "threatctl is built next to egressd" 'false'
  return 0
fi
printf 'zone02.com\n' >"$C/c2.txt"
t "import the c2 feed" \
  'timeout 30 "$THREATCTL" -d "$C/db" import --feed c2 --format domains --category c2 "$C/c2.txt"'
cache_config "$C/egressd.yaml"
t "-t accepts resolution.answer-cache-size" \
  '"$EGRESSD" -t -c "$C/egressd.yaml" | grep -q "configuration OK"'
start_egressd "$C/egressd.yaml" "$C/egressd.log" || return 0

# ttl_of SRC NAME TYPE [dig args]: the TTL of the first answer record
ttl_of() {
  local src=$1 name=$2 type=$3
  shift 3
  q -b "$src" +noall +answer "$name" "$type" "$@" | awk '$4 != "RRSIG" { print $2; exit }'
}
# ede_of SRC NAME TYPE: "STATUS EDE-TEXT"
ede_of() {
  local out
  out=$(q -b "$1" "$2" "$3")
  echo "$(echo "$out" | status_of) $(echo "$out" | sed -n 's/^; EDE: \(.*\)$/\1/p')"
}

# --- 1. TTLs count down on the way out; the audit says hit
T1=$(ttl_of $STRICT ttl.alpha.com A)
sleep 2.2
T2=$(ttl_of $STRICT ttl.alpha.com A)
t "first answer: the zone's TTL (100)" '[ "$T1" = 100 ]'
t "second answer: the TTL lowered by the age ($T2)" '[ -n "$T2" ] && [ "$T2" -le 98 ] && [ "$T2" -ge 90 ]'
t "the same records from the cache" \
  '[ "$(q -b $STRICT +short ttl.alpha.com A)" = 192.0.2.12 ]'
t "the question echoed in the asker's case" \
  'q -b $STRICT TtL.AlPhA.cOm A | grep -q "^;TtL\.AlPhA\.cOm\..*IN.*A$"'

# --- 2. DO and CD are separate entries; AD per client
t "DO: signatures" '[ "$(q -b $STRICT +dnssec +noall +answer www.secure.org A | grep -c RRSIG)" -ge 1 ]'
t "no DO after a DO query: no signatures" \
  '[ "$(q -b $STRICT +nodnssec +noall +answer www.secure.org A | grep -c RRSIG)" = 0 ]'
t "DO again, from the cache: signatures" \
  '[ "$(q -b $STRICT +dnssec +noall +answer www.secure.org A | grep -c RRSIG)" -ge 1 ]'
t "AD for a client that asks (+adflag), from the cache" \
  'q -b $STRICT +adflag www.secure.org A | grep -q "flags:.* ad[ ;]"'
t "no AD for a client that does not ask" \
  '! q -b $STRICT +noadflag +nodnssec www.secure.org A | grep -q "flags:.* ad[ ;]"'

# --- 3. truncation per client: a cached large answer, then a small buffer
t "a large answer over TCP" '[ "$(q -b $STRICT +tcp +short big.alpha.com TXT | wc -l)" -ge 10 ]'
t "the same from the cache over UDP with 512 bytes: TC" \
  'q -b $STRICT +notcp +ignore +bufsize=512 big.alpha.com TXT | grep -q "flags:.* tc[ ;]"'
t "and whole again over TCP" '[ "$(q -b $STRICT +tcp +short big.alpha.com TXT | wc -l)" -ge 10 ]'

# --- 4. a block stays a block, with the same EDE; a response-policy
# block (rebinding) too
B1=$(ede_of $STRICT api.zone02.com A)
B2=$(ede_of $STRICT api.zone02.com A)
t "qname block: NXDOMAIN, EDE 15 with category and feed ($B1)" \
  '[ "$B1" = "15 (Blocked): (category=c2 feed=c2)" ] || [ "$B1" = "NXDOMAIN 15 (Blocked): (category=c2 feed=c2)" ]'
t "qname block again (cache): the same answer and EDE" '[ "$B2" = "$B1" ]'
R1=$(ede_of $STRICT rebind.alpha.com A)
R2=$(ede_of $STRICT rebind.alpha.com A)
t "rebinding block: NXDOMAIN, EDE 15 ($R1)" 'case "$R1" in "NXDOMAIN 15 (Blocked)"*rebinding*) true ;; *) false ;; esac'
t "rebinding block again (cache): the same answer and EDE" '[ "$R2" = "$R1" ]'

# --- 5. tenants with different policies never share, in either order
O1=$(q -b $OPEN +short www.zone02.com A)
S1=$(ede_of $STRICT www.zone02.com A)
t "open tenant first: the real answer ($O1)" '[ -n "$O1" ]'
t "then strict: still blocked ($S1)" 'case "$S1" in NXDOMAIN*) true ;; *) false ;; esac'
S2=$(ede_of $STRICT mail.zone02.com A)
O2=$(q -b $OPEN +short mail.zone02.com A)
t "strict first: blocked ($S2)" 'case "$S2" in NXDOMAIN*) true ;; *) false ;; esac'
t "then open: the real answer ($O2)" '[ -n "$O2" ]'
t "and again both, from the cache" \
  '[ "$(q -b $OPEN +short mail.zone02.com A)" = "$O2" ] &&
   case "$(ede_of $STRICT mail.zone02.com A)" in NXDOMAIN*) true ;; *) false ;; esac'
t "a tenant with the same policy: the same verdict" \
  'case "$(ede_of $STRICT2 mail.zone02.com A)" in NXDOMAIN*) true ;; *) false ;; esac'

# --- 6. a feed import takes effect on the next query (generation)
t "www.zone04.com passes, twice (cached)" \
  '[ -n "$(q -b $STRICT +short www.zone04.com A)" ] && [ -n "$(q -b $STRICT +short www.zone04.com A)" ]'
printf 'zone02.com\nzone04.com\n' >"$C/c2.txt"
t "import: the c2 feed now lists zone04.com" \
  'timeout 30 "$THREATCTL" -d "$C/db" import --feed c2 --format domains --category c2 "$C/c2.txt"'
G1=$(ede_of $STRICT www.zone04.com A)
t "the cached name is blocked on the next query ($G1)" \
  '[ "$G1" = "NXDOMAIN 15 (Blocked): (category=c2 feed=c2)" ]'
printf 'zone02.com\n' >"$C/c2.txt"
timeout 30 "$THREATCTL" -d "$C/db" import --feed c2 --format domains --category c2 "$C/c2.txt" >/dev/null
t "and passes again once the feed drops it" '[ -n "$(q -b $STRICT +short www.zone04.com A)" ]'

# --- 7. the audit log: a hit says hit, with the stored verdict
for i in $(seq 1 50); do
  [ "$(AC count "$C/q.jsonl" qname=www.zone04.com)" -ge 4 ] 2>/dev/null && break
  sleep 0.1
done
t "audit: ttl.alpha.com first a miss, then hits" \
  '[ "$(AC count "$C/q.jsonl" qname=ttl.alpha.com qtype=A cache=miss)" = 1 ] &&
   [ "$(AC count "$C/q.jsonl" qname=ttl.alpha.com qtype=A cache=hit action=pass)" -ge 2 ]'
t "audit: the cached rebinding block keeps reason, category, hit" \
  '[ "$(AC count "$C/q.jsonl" qname=rebind.alpha.com action=block reason=ip category=rebinding cache=hit)" = 1 ]'
t "audit: the cached qname block keeps category and feed" \
  '[ "$(AC count "$C/q.jsonl" qname=api.zone02.com action=block reason=qname category=c2 feed=c2)" = 2 ]'
t "audit: every record is well-formed" 'AC lines "$C/q.jsonl" >/dev/null'
stop_egressd
t "egressd stopped cleanly" '[ "$EG_RC" = 0 ]'

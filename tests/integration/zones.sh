# tests/integration/zones.sh -- internal zones: answers from zone files, split horizon per tenant.
# Two tenants: hq is 127.0.0.1 (q), other is ::1 (qo), with a policy that
# has rebinding protection.  corp.example lies under a TLD the fake
# internet does not have, so every answer for it comes from the zone file;
# alpha.com is internal for hq only.
# shellcheck shell=bash

qo() { timeout 30 dig +time=5 +tries=1 -p "$EG_PORT" @::1 "$@"; }

mkdir -p "$WORK/zones"
{
  printf '$ORIGIN corp.example.\n$TTL 300\n'
  printf '@        SOA ns1 hostmaster 1 3600 600 86400 60\n'
  printf '@        NS ns1\n'
  printf 'ns1      A 10.1.0.53\n'
  printf 'www      A 10.1.0.10\n'
  printf 'www      AAAA fd00:1::10\n'
  printf 'alias    CNAME www\n'
  printf 'chain    CNAME alias\n'
  printf 'away     CNAME www.alpha.com.\n'
  printf '*.apps   A 10.1.0.99\n'
  printf 'host.ent A 10.1.0.20\n'
  printf 'legacy   A 192.0.2.20\n'   # the public address of www.beta.net
  for i in $(seq -w 1 40); do
    printf 'big TXT "%s-0123456789012345678901234567890123456789"\n' "$i"
  done
} >"$WORK/zones/corp.example.zone"
printf '%s\n' '$ORIGIN alpha.com.' \
  '@   3600 SOA ns.alpha.com. hostmaster.alpha.com. 7 3600 600 86400 120' \
  'www 600 A 10.9.0.10' >"$WORK/zones/alpha.com.zone"

# zones.yaml: the common test config with two tenants and the zones
zones_config() {
  local out=$1 zones=$2
  write_config "$out.base"
  awk '/^tenants:/ { skip = 1; next } skip && /^  / { next } { skip = 0; print }' \
    "$out.base" >"$out"
  cat >>"$out" <<CFG
tenants:
  - { name: hq, networks: [ 127.0.0.1/32 ] }
  - { name: other, networks: [ "::1/128" ], policy: guarded }
policies:
  guarded: { rebinding-protection: yes }
$zones
CFG
}
zones_config "$WORK/zones.yaml" "zones:
  - { name: corp.example, file: zones/corp.example.zone }
  - { name: alpha.com, file: $WORK/zones/alpha.com.zone, tenants: [ hq ] }"

t "-t loads the zone files" '"$EGRESSD" -t -c "$WORK/zones.yaml" | grep -q "configuration OK"'

printf '%s\n' '$ORIGIN corp.example.' '@ SOA ns1 hostmaster 1 3600 600 86400 60' \
  'www A 10.1.0.10' 'bad A 10.1.0.300' 'more A 10.1.0.11' >"$WORK/zones/broken.zone"
zones_config "$WORK/zones-broken.yaml" "zones:
  - { name: corp.example, file: zones/broken.zone }"
t "-t fails on a broken zone file, naming the zone file and its line" \
  '! "$EGRESSD" -t -c "$WORK/zones-broken.yaml" 2>"$WORK/err" && grep -E "/zones/broken.zone:4: zones: " "$WORK/err"'

printf '%s\n' '$ORIGIN corp.example.' '@ SOA ns1 hostmaster 1 3600 600 86400 60' \
  'www A 10.1.0.10' 'www.corp.example.org. A 10.1.0.11' >"$WORK/zones/outside.zone"
zones_config "$WORK/zones-outside.yaml" "zones:
  - { name: corp.example, file: zones/outside.zone }"
t "-t refuses a record outside the zone, with its line" \
  '! "$EGRESSD" -t -c "$WORK/zones-outside.yaml" 2>"$WORK/err" && grep -E "outside.zone:4: zones: the owner is outside the zone corp.example" "$WORK/err"'

zones_config "$WORK/zones-tenant.yaml" "zones:
  - { name: corp.example, file: zones/corp.example.zone, tenants: [ hq, branch ] }"
t "-t refuses an unknown tenant, naming the config's line" \
  '! "$EGRESSD" -t -c "$WORK/zones-tenant.yaml" 2>"$WORK/err" && grep -E "zones-tenant.yaml:[0-9]+: zones.tenants: no tenant is named \"branch\"" "$WORK/err"'

start_egressd "$WORK/zones.yaml" "$WORK/egressd-zones.log" || return 0

# --- records (corp.example: no "example" TLD in the fake internet, so
# these answers cannot have come from upstream)
t "A from the zone file" '[ "$(q www.corp.example A +short)" = 10.1.0.10 ]'
t "AAAA from the zone file" '[ "$(q www.corp.example AAAA +short)" = fd00:1::10 ]'
t "AA set, RA set, TTL as in the file" \
  'out=$(q www.corp.example A); echo "$out" | grep -q "flags: qr aa rd ra;" && echo "$out" | grep -qE "^www\.corp\.example\.[[:space:]]+300[[:space:]]+IN[[:space:]]+A[[:space:]]+10\.1\.0\.10"'
t "the same for the other tenant (zone without tenants)" '[ "$(qo www.corp.example A +short)" = 10.1.0.10 ]'
t "case-insensitive, the question echoed as asked" \
  'out=$(q WwW.CoRp.ExAmPlE A); echo "$out" | grep -q "^;WwW.CoRp.ExAmPlE\." && echo "$out" | grep -qE "IN[[:space:]]+A[[:space:]]+10\.1\.0\.10"'
t "the apex SOA" 'q corp.example SOA +short | grep -q "^ns1.corp.example. hostmaster.corp.example. 1 3600 600 86400 60$"'
t "wildcard: synthesized with the name asked" \
  'out=$(q foo.apps.corp.example A); echo "$out" | grep -qE "^foo\.apps\.corp\.example\..*A[[:space:]]+10\.1\.0\.99" && echo "$out" | grep -q "flags: qr aa"'
t "wildcard: several labels deep" '[ "$(q a.b.apps.corp.example A +short)" = 10.1.0.99 ]'
t "CNAME chain inside the zone" \
  '[ "$(q chain.corp.example A +short | tr "\n" " ")" = "alias.corp.example. www.corp.example. 10.1.0.10 " ]'
t "CNAME leaving the zone: the CNAME alone, NOERROR" \
  'out=$(q away.corp.example A); echo "$out" | grep -q "status: NOERROR" && echo "$out" | grep -q "ANSWER: 1," && [ "$(q away.corp.example A +short)" = www.alpha.com. ]'
t "NXDOMAIN with the SOA in authority, TTL min(SOA TTL, minimum)" \
  'out=$(q nx.corp.example A); echo "$out" | grep -q "status: NXDOMAIN" && echo "$out" | grep -q "flags: qr aa" && echo "$out" | grep -qE "^corp\.example\.[[:space:]]+60[[:space:]]+IN[[:space:]]+SOA"'
t "NODATA with the SOA in authority" \
  'out=$(q www.corp.example TXT); echo "$out" | grep -q "status: NOERROR" && echo "$out" | grep -q "ANSWER: 0," && echo "$out" | grep -qE "^corp\.example\.[[:space:]]+60[[:space:]]+IN[[:space:]]+SOA"'
t "empty non-terminal: NODATA, not NXDOMAIN" \
  'out=$(q ent.corp.example A); echo "$out" | grep -q "status: NOERROR" && echo "$out" | grep -q "ANSWER: 0,"'
t "below an empty non-terminal without a wildcard: NXDOMAIN" \
  'q x.ent.corp.example A | grep -q "status: NXDOMAIN"'
t "EDNS: our OPT record on internal answers" 'q www.corp.example A | grep -q "udp: 1232"'
t "large internal answer over UDP: TC=1" 'q big.corp.example TXT +ignore | grep -qE "flags: qr aa tc rd ra;"'
t "the same over TCP: all 40 records" 'q big.corp.example TXT +tcp | grep -q "ANSWER: 40,"'
t "kdig over TCP" 'timeout 30 kdig +time=5 +retry=0 +tcp -p "$EG_PORT" @"$EG_ADDR" www.corp.example A +short | grep -qx 10.1.0.10'

# --- split horizon: alpha.com is internal for hq only
t "split horizon: hq gets the internal address" '[ "$(q www.alpha.com A +short)" = 10.9.0.10 ]'
t "split horizon: hq's answer is authoritative, TTL from the zone" \
  'q www.alpha.com A | grep -qE "^www\.alpha\.com\.[[:space:]]+600[[:space:]]+IN[[:space:]]+A[[:space:]]+10\.9\.0\.10"'
t "split horizon: the other tenant gets the public address" '[ "$(qo www.alpha.com A +short)" = 192.0.2.10 ]'
t "split horizon: the other tenant's answer is recursive (no aa)" 'qo www.alpha.com A | grep -q "flags: qr rd ra;"'
t "split horizon: a public name missing from hq's view is NXDOMAIN for hq" \
  'q mail.alpha.com A | grep -q "status: NXDOMAIN" && [ -n "$(qo mail.alpha.com A +short)" ]'
t "still serving recursion for both" \
  '[ "$(q www.beta.net A +short)" = 192.0.2.20 ] && [ "$(qo www.secure.org A +short)" = 192.0.2.50 ]'

# --- rebinding: other's policy blocks public answers holding an address
# of an internal zone (www.beta.net is 192.0.2.20, as is legacy.corp.example)
t "rebinding: a public name resolving to an internal-zone address is blocked" \
  'out=$(qo www.beta.net A); echo "$out" | grep -q "status: NXDOMAIN" && echo "$out" | grep -q "EDE: 15" && echo "$out" | grep -q "addr=192.0.2.20"'
t "rebinding: the internal name itself is answered" '[ "$(qo legacy.corp.example A +short)" = 192.0.2.20 ]'

stop_egressd
t "clean exit after the zones tests" '[ "$EG_RC" = 0 ]'

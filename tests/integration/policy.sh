# tests/integration/policy.sh -- the policy engine through real queries: every
# action, every trigger, allow lists, expiry, live imports, DNSSEC order.
# Rows are (tenant, qname, qtype) -> (rcode, answer, EDE code and text);
# the tenant is chosen by the source address (dig -b).  Feeds are imported
# with threatctl into a database of our own.
# shellcheck shell=bash

# run.sh --threatctl PATH, else the one built next to egressd
PDB=$WORK/policy-db
PFEEDS=$WORK/policy-feeds
rm -rf "$PDB" "$PFEEDS"
mkdir -p "$PFEEDS"

# Tenants by source address (all on loopback):
STRICT=127.0.0.1   # strict: redirect malware, block c2/phishing, log tracking
NODATA=127.0.0.2   # c2 blocked with NODATA
REFUSE=127.0.0.3   # c2 blocked with REFUSED
MONITOR=127.0.0.4  # monitor: default log (nothing is blocked)
NOPOL=127.0.0.5    # no policy: the built-in pass-everything

policy_config() {  # FILE THREATDB
  cat >"$1" <<CFG
server:
  listen:
    - { transport: dns, address: "$EG_ADDR:$EG_PORT" }
resolution:
  dnssec: yes
  trust-anchor: $FAKENET/root.key
  root-hints: $FAKENET/root.hints
  query-timeout: 8s
  unbound-options: { do-not-query-localhost: "no" }
threatdb: $2
security-nodes:
  health-check: { port: 5359, interval: 1s, timeout: 200ms }
  pools:
    default: [ 127.0.0.10, 127.0.0.11, "::1" ]
tenants:
  - { name: strict, networks: [ $STRICT/32, "::1/128" ], policy: strict }
  - { name: nodata, networks: [ $NODATA/32 ], policy: nodata }
  - { name: refuse, networks: [ $REFUSE/32 ], policy: refuse }
  - { name: monitor, networks: [ $MONITOR/32 ], policy: monitor }
  - { name: nopolicy, networks: [ $NOPOL/32 ] }
policies:
  strict:
    categories: { malware: redirect, c2: block, phishing: block, tracking: log, doh-bypass: block }
    redirect-ttl: 45s
    block-ttl: 30s
    rebinding-protection: yes
    bypass-canaries: yes
    allow: [ mail.zone02.com ]
  nodata: { categories: { c2: block }, block-answer: nodata, block-ttl: 20s }
  refuse: { categories: { c2: block }, block-answer: refused }
  monitor: { default: log, rebinding-protection: yes, bypass-canaries: no }
CFG
}

imp() {  # FEED FORMAT FILE [threatctl options...]
  local feed=$1 fmt=$2 file=$3
  shift 3
  timeout 30 "$THREATCTL" -d "$PDB" import --feed "$feed" --format "$fmt" "$@" "$file"
}

# pol_row SRC QNAME QTYPE RCODE ANSWERS EDE
#   ANSWERS: the answer section's data, sorted, space-separated ("" none)
#   EDE: "-" none, "N" code N (any text), "N TEXT" code and exact text
pol_row() {
  local src=$1 qn=$2 qt=$3 rc=$4 want_ans=$5 want_ede=$6 out st ans ede
  out=$(q -b "$src" "$qn" "$qt") || { echo "dig failed: $out"; return 1; }
  st=$(echo "$out" | status_of)
  ans=$(echo "$out" | awk '/^;; ANSWER SECTION:/ { f = 1; next } /^$/ { f = 0 }
    f && $4 != "RRSIG" { print $NF }' | sort | tr '\n' ' ' | sed 's/ $//')
  ede=$(echo "$out" | sed -n 's/^; EDE: \([0-9]*\) ([^)]*)\(: (\(.*\))\)\{0,1\}$/\1 \3/p' | sed 's/ $//')
  echo "got: $st [$ans] [${ede:--}]"
  [ "$st" = "$rc" ] || return 1
  [ "$ans" = "$want_ans" ] || return 1
  case $want_ede in
    -) [ -z "$ede" ] ;;
    *\ *) [ "$ede" = "$want_ede" ] ;;
    *) [ "${ede%% *}" = "$want_ede" ] ;;
  esac
}

# row TENANT-ADDR QNAME QTYPE RCODE ANSWERS EDE: one table row, one check
row() {
  t "$1 $2 $3 -> $4 [${5}] EDE ${6}" "pol_row $(printf '%q ' "$@")"
}

if [ ! -x "$THREATCTL" ]; then
  t "threatctl is built next to egressd" 'false'
  return 0
fi

# --- feeds
printf 'zone01.net\n# a comment\n' >"$PFEEDS/malware.txt"
printf 'zone02.com\nwww.beta.net\nwww.bogus.org\n' >"$PFEEDS/c2.txt"
printf '0.0.0.0 api.zone06.com\n0.0.0.0 alias.alpha.com\n' >"$PFEEDS/hosts.txt"
printf '@@||www.zone02.com^\n' >"$PFEEDS/allow.txt"
printf '198.18.7.0/24\n2001:db8:7::/48\n' >"$PFEEDS/ips.txt"
printf 'zone08.com\n' >"$PFEEDS/tracking.txt"
printf 'zone13.net\n' >"$PFEEDS/hinted.txt"
printf 'zone09.net\n' >"$PFEEDS/short.txt"
printf 'zone10.com\n' >"$PFEEDS/live.txt"
t "import: domains feed (malware)" 'imp malw domains "$PFEEDS/malware.txt" --category malware'
t "import: domains feed (c2)" 'imp c2 domains "$PFEEDS/c2.txt" --category c2'
t "import: hosts feed (exact names, category malware)" 'imp cloak hosts "$PFEEDS/hosts.txt" --category malware'
t "import: adblock allow feed" 'imp allowlist adblock "$PFEEDS/allow.txt"'
t "import: CIDR feed (c2)" 'imp badnets cidr "$PFEEDS/ips.txt" --category c2'
t "import: tracking feed" 'imp track domains "$PFEEDS/tracking.txt" --category tracking'
t "import: the shipped doh-bypass feed" \
  'imp doh-bypass domains "$SRC/examples/feeds/doh-bypass.txt" --category doh-bypass'
t "import: feed with an action hint and an unmapped category" \
  'imp hinted domains "$PFEEDS/hinted.txt" --category unmapped --action redirect'

policy_config "$WORK/policy.yaml" "$PDB"
t "-t accepts the policy config" '"$EGRESSD" -t -c "$WORK/policy.yaml" | grep -q "configuration OK"'
t "-t accepts examples/egressd-policy.yaml" \
  '"$EGRESSD" -t -c "$SRC/examples/egressd-policy.yaml" | grep -q "configuration OK"'
sed 's/policy: refuse }/policy: refuze }/' "$WORK/policy.yaml" >"$WORK/policy-bad.yaml"
t "-t: an unknown policy names file, line and key" \
  '! "$EGRESSD" -t -c "$WORK/policy-bad.yaml" 2>"$WORK/err" && grep -E "policy-bad.yaml:[0-9]+: tenants.policy: tenant \"refuse\": no policy called \"refuze\"" "$WORK/err"'
sed 's/c2: block, phishing/c2: blok, phishing/' "$WORK/policy.yaml" >"$WORK/policy-bad2.yaml"
t "-t: a bad action names file, line and key" \
  '! "$EGRESSD" -t -c "$WORK/policy-bad2.yaml" 2>"$WORK/err" && grep -E "policy-bad2.yaml:[0-9]+: policies.strict.categories.c2: \"blok\" is not an action" "$WORK/err"'

start_egressd "$WORK/policy.yaml" "$WORK/egressd-policy.log" || return 0

# --- pass: nothing listed
row $STRICT www.alpha.com A NOERROR "192.0.2.10" -
row $STRICT www.zone04.com AAAA NOERROR "2001:db8:4::1" -
# --- qname and subdomain triggers, every action
row $STRICT zone01.net A NOERROR "127.0.0.10 127.0.0.11" "4 category=malware"
row $STRICT www.zone01.net A NOERROR "127.0.0.10 127.0.0.11" "4 category=malware"
row $STRICT www.zone01.net AAAA NOERROR "::1" "4 category=malware"
row $STRICT www.zone01.net MX NOERROR "" "4 category=malware"
row $STRICT api.zone02.com A NXDOMAIN "" "15 category=c2 feed=c2"
row $NODATA api.zone02.com A NOERROR "" "15 category=c2 feed=c2"
row $REFUSE api.zone02.com A REFUSED "" "15 category=c2 feed=c2"
row $MONITOR api.zone02.com A NOERROR "198.18.2.3" -
row $NOPOL api.zone02.com A NOERROR "198.18.2.3" -
row $STRICT www.zone08.com A NOERROR "198.18.8.1" -
row $STRICT www.zone13.net A NOERROR "127.0.0.10 127.0.0.11" "4 category=unmapped"
# --- exact entries (hosts file) cover the name only
row $STRICT api.zone06.com A NOERROR "127.0.0.10 127.0.0.11" "4 category=malware"
row $STRICT www.zone06.com A NOERROR "198.18.6.1" -
# --- allow beats block: a feed's allow entry, the policy's allow list
row $STRICT www.zone02.com A NOERROR "198.18.2.1" -
row $STRICT mail.zone02.com A NOERROR "198.18.2.2" -
row $NODATA mail.zone02.com A NOERROR "" "15 category=c2 feed=c2"
# --- CNAME cloaking: a listed name anywhere in the chain
row $STRICT chain.alpha.com A NOERROR "127.0.0.10 127.0.0.11" "4 category=malware"
row $STRICT alias.alpha.com A NOERROR "127.0.0.10 127.0.0.11" "4 category=malware"
row $STRICT cross.alpha.com A NXDOMAIN "" "15 category=c2 feed=c2"
row $NOPOL cross.alpha.com A NOERROR "192.0.2.20 www.beta.net." -
# --- IP prefixes
row $STRICT www.zone07.net A NXDOMAIN "" "15 category=c2 feed=badnets"
row $STRICT www.zone07.net AAAA NXDOMAIN "" "15 category=c2 feed=badnets"
row $NODATA cdn.zone07.net A NOERROR "" "15 category=c2 feed=badnets"
row $STRICT www.zone05.net A NOERROR "198.18.5.1" -
# --- rebinding: public names with private answers
row $STRICT rebind.alpha.com A NXDOMAIN "" "15 category=rebinding addr=10.1.2.3"
row $STRICT rebind6.alpha.com AAAA NXDOMAIN "" "15 category=rebinding addr=fd12:3456::7"
row $STRICT meta.alpha.com A NXDOMAIN "" "15 category=rebinding addr=169.254.169.254"
row $STRICT cgnat.alpha.com A NXDOMAIN "" "15 category=rebinding addr=100.64.1.2"
row $STRICT mixed.alpha.com A NXDOMAIN "" "15 category=rebinding addr=192.168.1.13"
row $STRICT to-loop.alpha.com A NXDOMAIN "" "15 category=rebinding addr=127.0.0.1"
row $STRICT loop6.beta.net AAAA NXDOMAIN "" "15 category=rebinding addr=::1"
row $MONITOR rebind.alpha.com A NOERROR "10.1.2.3" -
row $NOPOL rebind.alpha.com A NOERROR "10.1.2.3" -
# --- bypass prevention: public DoH resolvers (the shipped feed) and canaries
row $STRICT dns.google A NXDOMAIN "" "15 category=doh-bypass feed=doh-bypass"
row $STRICT mozilla.cloudflare-dns.com HTTPS NXDOMAIN "" "15 category=doh-bypass feed=doh-bypass"
row $STRICT use-application-dns.net A NXDOMAIN "" "15 category=canary"
row $STRICT mask.icloud.com A NXDOMAIN "" "15 category=canary"
row $STRICT MASK-H2.icloud.com AAAA NXDOMAIN "" "15 category=canary"
row $MONITOR use-application-dns.net A NXDOMAIN "" -
# --- DNSSEC: bogus stays SERVFAIL unless the name is blocked before recursion
row $STRICT www.bogus.org A NXDOMAIN "" "15 category=c2 feed=c2"
row $MONITOR www.bogus.org A SERVFAIL "" 6
row $NOPOL www.bogus.org A SERVFAIL "" 6
row $STRICT www.secure.org A NOERROR "192.0.2.50" -

# --- the shape of synthesized answers
t "redirect: TTL is redirect-ttl (45)" \
  '[ "$(q www.zone01.net A +noall +answer | awk "{print \$2}" | sort -u)" = 45 ]'
t "redirect: flags qr rd ra, no aa, no ad" 'q www.zone01.net A +dnssec | grep -q "flags: qr rd ra;"'
t "redirect of MX: NODATA with a SOA" 'q www.zone01.net MX +noall +authority | grep -qE "^www\.zone01\.net\.[[:space:]]+45[[:space:]]+IN[[:space:]]+SOA[[:space:]]+egressd\.invalid\."'
t "block: SOA with block-ttl (30) in authority" \
  'q api.zone02.com A +noall +authority | grep -qE "^api\.zone02\.com\.[[:space:]]+30[[:space:]]+IN[[:space:]]+SOA[[:space:]]+egressd\.invalid\. hostmaster\.egressd\.invalid\. 1 3600 600 86400 30"'
t "block NODATA: SOA with that policy's block-ttl (20)" \
  'q -b $NODATA api.zone02.com A +noall +authority | grep -qE "^api\.zone02\.com\.[[:space:]]+20[[:space:]]+IN[[:space:]]+SOA"'
t "block REFUSED: no SOA" '[ -z "$(q -b $REFUSE api.zone02.com A +noall +authority)" ]'
t "block: question echoed with the client's case" 'q API.Zone02.COM A +noall +question | grep -q "^;API.Zone02.COM\."'
t "block without EDNS: plain NXDOMAIN" \
  'out=$(q api.zone02.com A +noedns); echo "$out" | grep -q "status: NXDOMAIN" && ! echo "$out" | grep -q "OPT PSEUDOSECTION"'
t "block over TCP" 'q api.zone02.com A +tcp | grep -q "EDE: 15 (Blocked): (category=c2 feed=c2)"'
t "redirect over TCP" '[ "$(q www.zone01.net A +tcp +short | sort | tr "\n" " ")" = "127.0.0.10 127.0.0.11 " ]'

# --- expiry: an entry imported to last 3 s blocks, then no longer
t "import: feed expiring in 3 s" 'imp short domains "$PFEEDS/short.txt" --category c2 --expires 3s'
row $STRICT www.zone09.net A NXDOMAIN "" "15 category=c2 feed=short"
sleep 4
row $STRICT www.zone09.net A NOERROR "198.18.9.1" -

# --- a feed imported while egressd runs: the next query sees it
row $STRICT www.zone10.com A NOERROR "198.18.10.1" -
t "import while running" 'imp live domains "$PFEEDS/live.txt" --category c2'
row $STRICT www.zone10.com A NXDOMAIN "" "15 category=c2 feed=live"
t "feed removed while running" 'timeout 30 "$THREATCTL" -d "$PDB" remove --feed live'
row $STRICT www.zone10.com A NOERROR "198.18.10.1" -
stop_egressd
t "clean exit after the policy tests" '[ "$EG_RC" = 0 ]'

# --- no database at start: egressd serves, says so, and picks it up
rm -rf "$WORK/policy-db2"
policy_config "$WORK/policy2.yaml" "$WORK/policy-db2"
start_egressd "$WORK/policy2.yaml" "$WORK/egressd-policy2.log" || return 0
t "missing threatdb: the log says so" 'grep -q "does not exist" "$WORK/egressd-policy2.log"'
row $STRICT www.zone12.com A NOERROR "198.18.12.1" -
printf 'zone12.com\n' >"$PFEEDS/first.txt"
t "first import into a new database" \
  'timeout 30 "$THREATCTL" -d "$WORK/policy-db2" import --feed first --format domains --category c2 "$PFEEDS/first.txt"'
sleep 1.2
row $STRICT www.zone12.com A NXDOMAIN "" "15 category=c2 feed=first"
t "the log says the threatdb was opened" 'grep -q "threatdb .* opened" "$WORK/egressd-policy2.log"'
stop_egressd
t "clean exit" '[ "$EG_RC" = 0 ]'

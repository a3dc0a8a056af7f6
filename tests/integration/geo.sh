# tests/integration/geo.sh -- GeoIP: the geoip section, and the geo rules of policies
# through real queries.  The MaxMind DB files are made here by mkmmdb.pl
# (its comment has the map: zone01.net KP, zone02.com RU, zone03.net CN in
# AS64666, alpha.com US; clients 127.0.0.3 DE, 127.0.0.1 none).
# shellcheck shell=bash

GEO=$WORK/geo
mkdir -p "$GEO"
if ! perl "$T_DIR/mkmmdb.pl" "$GEO" 2>"$GEO/mkmmdb.err"; then
  t "mkmmdb.pl writes the test databases (libmaxmind-db-writer-perl)" 'cat "$GEO/mkmmdb.err"; false'
  return 0
fi

# geo_config FILE [EXTRA...]: a config with the test databases; EXTRA
# lines are appended (security-nodes:, policies:, another geoip: ...).
geo_config() {
  local file=$1
  shift
  cat >"$file" <<CFG
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
threatdb: $GEO/no-threatdb
CFG
  printf '%s\n' "$@" >>"$file"
}

# check_cfg FILE: egressd -t's output (stderr too)
check_cfg() { timeout 30 "$EGRESSD" -t -c "$1" 2>&1; }

# --- the geoip section and egressd -t
geo_config "$GEO/ok.yaml" \
  "geoip: { country: $GEO/country.mmdb, asn: asn.mmdb }" \
  "tenants:" "  - { name: local, networks: [ 127.0.0.1/32 ] }"
t "-t: both databases, relative path from the config's directory" \
  'check_cfg "$GEO/ok.yaml" | grep -q "configuration OK"'

geo_config "$GEO/missing.yaml" \
  "geoip:" "  country: $GEO/nonexistent.mmdb" \
  "tenants:" "  - { name: local, networks: [ 127.0.0.1/32 ] }"
t "-t: a missing database names file, line and key" \
  'out=$(check_cfg "$GEO/missing.yaml"); echo "$out"; echo "$out" | grep -q "missing.yaml:13: geoip.country: cannot read $GEO/nonexistent.mmdb"'

echo "not a database" >"$GEO/junk.mmdb"
geo_config "$GEO/junk.yaml" \
  "geoip:" "  asn: junk.mmdb" \
  "tenants:" "  - { name: local, networks: [ 127.0.0.1/32 ] }"
t "-t: a file that is not a MaxMind DB" \
  'out=$(check_cfg "$GEO/junk.yaml"); echo "$out"; echo "$out" | grep -q "junk.yaml:13: geoip.asn: ASN database $GEO/junk.mmdb: not a MaxMind DB file"'

geo_config "$GEO/swapped.yaml" \
  "geoip: { country: asn.mmdb, asn: country.mmdb }" \
  "tenants:" "  - { name: local, networks: [ 127.0.0.1/32 ] }"
t "-t: the two databases swapped" \
  'out=$(check_cfg "$GEO/swapped.yaml"); echo "$out"; echo "$out" | grep -q "swapped.yaml:12: geoip.country: .*holds \"GeoLite2-ASN\": give it as geoip.asn"'

geo_config "$GEO/badcc.yaml" \
  "geoip: { country: country.mmdb }" \
  "security-nodes:" "  pools:" "    default: [ 127.0.0.21 ]" \
  "    eu: { countries: [ DE, EU ], addresses: [ 127.0.0.23 ] }" \
  "tenants:" "  - { name: local, networks: [ 127.0.0.1/32 ] }"
t "-t: a country code that is not ISO 3166-1 names file, line and key" \
  'out=$(check_cfg "$GEO/badcc.yaml"); echo "$out"; echo "$out" | grep -q "badcc.yaml:16: security-nodes.pools.eu.countries: \"EU\" is not an ISO 3166-1 alpha-2 country code"'

geo_config "$GEO/twice.yaml" \
  "security-nodes:" "  pools:" "    default: [ 127.0.0.21 ]" \
  "    eu: { countries: [ DE, FR ], addresses: [ 127.0.0.23 ] }" \
  "    de: { countries: [ de ], addresses: [ 127.0.0.24 ] }" \
  "tenants:" "  - { name: local, networks: [ 127.0.0.1/32 ] }"
t "-t: a country in two pools" \
  'out=$(check_cfg "$GEO/twice.yaml"); echo "$out"; echo "$out" | grep -q "twice.yaml:16: security-nodes.pools.de.countries: de is already served by pool \"eu\""'

geo_config "$GEO/nodefault.yaml" \
  "security-nodes:" "  pools:" "    eu: { countries: [ DE ], addresses: [ 127.0.0.23 ] }" \
  "tenants:" "  - { name: local, networks: [ 127.0.0.1/32 ] }"
t "-t: pools without a default pool" \
  'out=$(check_cfg "$GEO/nodefault.yaml"); echo "$out"; echo "$out" | grep -q "nodefault.yaml:14: security-nodes.pools: no \"default\" pool"'

geo_config "$GEO/polcc.yaml" \
  "geoip: { country: country.mmdb }" \
  "tenants:" "  - { name: local, networks: [ 127.0.0.1/32 ], policy: geo }" \
  "policies:" "  geo:" "    geo: { block-countries: [ KP, XY ] }"
t "-t: a policy's block-countries with a code that is not ISO 3166-1" \
  'out=$(check_cfg "$GEO/polcc.yaml"); echo "$out"; echo "$out" | grep -q "polcc.yaml:17: .*block-countries.*XY"'

# --- geo rules through real queries.  Tenant local's policy: block KP
# and AS64666, redirect RU to the security nodes (never probed healthy
# here: no listener, so they are all down and every node is handed out).
geo_config "$GEO/run.yaml" \
  "geoip: { country: country.mmdb, asn: asn.mmdb }" \
  "security-nodes:" \
  "  health-check: { port: 9, interval: 1s, timeout: 200ms }" \
  "  pools:" \
  "    default: [ 127.0.0.21, 127.0.0.22, \"::1\" ]" \
  "    eu: { countries: [ DE, FR ], addresses: [ 127.0.0.23 ] }" \
  "tenants:" \
  "  - { name: local, networks: [ 127.0.0.1/32, 127.0.0.3/32, \"::1/128\" ], policy: geo }" \
  "  - { name: open, networks: [ 127.0.0.5/32 ] }" \
  "policies:" \
  "  geo:" \
  "    redirect-ttl: 30s" \
  "    geo: { block-countries: [ KP ], redirect-countries: [ ru ], block-asns: [ AS64666 ] }"
if ! start_egressd "$GEO/run.yaml" "$WORK/egressd-geo.log"; then
  t "egressd starts with geoip and security-nodes" false
  return 0
fi
t "a US address passes" '[ "$(q www.alpha.com A +short)" = 192.0.2.10 ]'
t "a US IPv6 address passes" '[ "$(q www.alpha.com AAAA +short)" = 2001:db8::10 ]'
t "block-countries KP: NXDOMAIN with EDE 15" \
  'out=$(q www.zone01.net A); echo "$out"; echo "$out" | grep -q "status: NXDOMAIN" && echo "$out" | grep -q "EDE: 15"'
t "block-countries KP, IPv6 answer: NXDOMAIN" \
  'q www.zone01.net AAAA | grep -q "status: NXDOMAIN"'
t "block-asns AS64666: NXDOMAIN with EDE 15" \
  'out=$(q www.zone03.net A); echo "$out"; echo "$out" | grep -q "status: NXDOMAIN" && echo "$out" | grep -q "EDE: 15"'
t "block-asns AS64666, IPv6 answer: NXDOMAIN" \
  'q cdn.zone03.net AAAA | grep -q "status: NXDOMAIN"'
t "redirect-countries RU: the default pool's nodes, EDE 4" \
  'out=$(q www.zone02.com A); echo "$out"; [ "$(echo "$out" | awk "/ANSWER SECTION/{a=1;next} a&&/IN[[:space:]]+A[[:space:]]/{print \$5}" | sort | tr "\n" " ")" = "127.0.0.21 127.0.0.22 " ] && echo "$out" | grep -q "EDE: 4"'
t "redirect: the policy's TTL" \
  '[ "$(q www.zone02.com A +noall +answer | awk "{print \$2}" | sort -u)" = 30 ]'
t "redirect AAAA: the default pool's IPv6 node" '[ "$(q www.zone02.com AAAA +short)" = ::1 ]'
t "redirect for a client in DE: the eu pool" \
  '[ "$(q -b 127.0.0.3 www.zone02.com A +short)" = 127.0.0.23 ]'
t "redirect for a client in DE, AAAA: the eu pool has no IPv6 node: NODATA" \
  'out=$(q -b 127.0.0.3 www.zone02.com AAAA); echo "$out" | grep -q "status: NOERROR" && echo "$out" | grep -q "ANSWER: 0,"'
t "another tenant without the policy gets the real answer" \
  '[ "$(q -b 127.0.0.5 www.zone01.net A +short)" = 198.18.1.1 ]'
stop_egressd
t "clean exit after the GeoIP tests" '[ "$EG_RC" = 0 ]'

# tests/integration/doh.sh -- DNS-over-HTTPS (RFC 8484) on HTTP/2, tenant tokens, JSON, DDR.
# Real clients: curl (GET, POST, --doh-url fetching a page from a local web
# server), kdig +https, dig +https, nghttp and h2load (nghttp2-client); the
# rest with dohprobe.py (python3-h2): every error status, SETTINGS, the
# stream limit, rapid reset, a body that never ends, idle connections.
# No h2spec exists in Debian; dohprobe.py makes those conformance checks.
# DOH_PORT (default 4481) is the DoH listener, DOH_PORT+1 a DoT one (for
# DDR), EG_PORT+1200 a local web server that is also the security node.
# shellcheck shell=bash

DOH_PORT=${DOH_PORT:-4481}
DOH_DOT_PORT=$((DOH_PORT + 1))
WEB_PORT=$((EG_PORT + 1200))
MET_PORT=$((EG_PORT + 1201))
D=$WORK/doh
mkdir -p "$D/tls" "$D/www" "$D/feeds"
PY3=/usr/bin/python3   # Debian's, with python3-h2
DP="timeout 60 $PY3 $T_DIR/dohprobe.py --port $DOH_PORT --ca $D/tls/ca.pem"
URL=https://127.0.0.1:$DOH_PORT/dns-query
CURL="timeout 20 curl -sS --http2 --cacert $D/tls/ca.pem"
# www.alpha.com A, ID 0 and ID 0x1234, in base64url without padding
QA=AAABAAABAAAAAAAAA3d3dwVhbHBoYQNjb20AAAEAAQ
QA_ID=EjQBAAABAAAAAAAAA3d3dwVhbHBoYQNjb20AAAEAAQ
TOKEN=hq-7f3a9c2e

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
  -keyout "$D/tls/ca.key" -out "$D/tls/ca.pem" -subj "/CN=egressd DoH test CA" 2>/dev/null &&
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$D/tls/server.key" \
  -out "$D/tls/server.csr" -subj /CN=dns.test 2>/dev/null &&
printf 'subjectAltName=DNS:dns.test,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$D/tls/ext" &&
openssl x509 -req -in "$D/tls/server.csr" -CA "$D/tls/ca.pem" -CAkey "$D/tls/ca.key" \
  -set_serial "0x$(openssl rand -hex 8)" -days 30 -extfile "$D/tls/ext" \
  -out "$D/tls/server.pem" 2>/dev/null &&
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$D/tls/branch.key" \
  -out "$D/tls/branch.csr" -subj /CN=branch 2>/dev/null &&
printf 'subjectAltName=DNS:branch.corp.test\nextendedKeyUsage=clientAuth\n' >"$D/tls/cext" &&
openssl x509 -req -in "$D/tls/branch.csr" -CA "$D/tls/ca.pem" -CAkey "$D/tls/ca.key" \
  -set_serial "0x$(openssl rand -hex 8)" -days 30 -extfile "$D/tls/cext" \
  -out "$D/tls/branch.pem" 2>/dev/null
t "test certificates made" '[ -s "$D/tls/server.pem" ] && [ -s "$D/tls/branch.pem" ]'

# doh_config FILE [extra server keys] [extra tenants]
doh_config() {
  local file=$1 extra=${2:-} tenants=${3:-}
  cat >"$file" <<CFG
server:
  listen:
    - { transport: dns, address: "$EG_ADDR:$EG_PORT" }
    - { transport: doh, address: "$EG_ADDR:$DOH_PORT" }
    - { transport: dot, address: "$EG_ADDR:$DOH_DOT_PORT" }
  tls: { certificate: $D/tls/server.pem, key: $D/tls/server.key, client-ca: $D/tls/ca.pem }
  resolver-name: dns.test
  tcp-idle-timeout: 3s
  doh-stream-timeout: 2s
  max-connections-per-client: 8
$extra
resolution:
  dnssec: yes
  trust-anchor: $FAKENET/root.key
  root-hints: $FAKENET/root.hints
  query-timeout: 8s
  unbound-options: { do-not-query-localhost: "no" }
threatdb: $D/threatdb
security-nodes:
  health-check: { port: $WEB_PORT, interval: 1s, timeout: 300ms }
  pools: { default: [ 127.0.0.1 ] }
tenants:
  - { name: local, networks: [ 127.0.0.1/32, "::1/128" ] }
  - { name: hq, doh-token: $TOKEN, policy: strict }
  - { name: branch, certificate-identity: branch.corp.test }
$tenants
policies:
  strict: { categories: { malware: redirect }, redirect-ttl: 45s }
log:
  queries: $D/queries.jsonl
metrics: { listen: "127.0.0.1:$MET_PORT" }
CFG
}

# --- configuration checks (-t)
doh_config "$D/ok.yaml"
t "-t accepts the DoH config (token-only tenant, resolver-name)" \
  '"$EGRESSD" -t -c "$D/ok.yaml" | grep -q "configuration OK"'
doh_config "$D/notls.yaml"
sed -i '/^  tls: /d' "$D/notls.yaml"
sed -i '/transport: dot/d' "$D/notls.yaml"
sed -i '/certificate-identity/d' "$D/notls.yaml"
t "-t: a doh listener without server.tls is refused, with file and line" \
  '! "$EGRESSD" -t -c "$D/notls.yaml" 2>"$D/err" && grep -E "notls.yaml:[0-9]+: server.tls: a doh listener needs" "$D/err"'
doh_config "$D/path.yaml"
sed -i "s|transport: doh, address: \"$EG_ADDR:$DOH_PORT\"|&, path: dns-query|" "$D/path.yaml"
t "-t: a path without a leading / is refused" \
  '! "$EGRESSD" -t -c "$D/path.yaml" 2>"$D/err" && grep -E "path.yaml:[0-9]+: server.listen.path: \"dns-query\": must start with /" "$D/err"'
doh_config "$D/path2.yaml"
sed -i "s|transport: doh, address: \"$EG_ADDR:$DOH_PORT\"|&, path: \"/q?x\"|" "$D/path2.yaml"
t "-t: a path with a query character is refused" \
  '! "$EGRESSD" -t -c "$D/path2.yaml" 2>"$D/err" && grep -E "server.listen.path: \"/q\?x\": only letters" "$D/err"'
doh_config "$D/path3.yaml"
sed -i "s|transport: dns, address: \"$EG_ADDR:$EG_PORT\"|&, path: /x|" "$D/path3.yaml"
t "-t: path on a dns listener is refused" \
  '! "$EGRESSD" -t -c "$D/path3.yaml" 2>"$D/err" && grep -E "server.listen.path: only for transport doh" "$D/err"'
doh_config "$D/dup.yaml" "" "  - { name: other, doh-token: $TOKEN }"
t "-t: the same doh-token for two tenants is refused" \
  '! "$EGRESSD" -t -c "$D/dup.yaml" 2>"$D/err" && grep -E "dup.yaml:[0-9]+: tenants.doh-token: tenant other: the same token as tenant hq" "$D/err"'
doh_config "$D/tokchar.yaml" "" "  - { name: other, doh-token: \"a/b\" }"
t "-t: a token with / is refused" \
  '! "$EGRESSD" -t -c "$D/tokchar.yaml" 2>"$D/err" && grep -E "tenants.doh-token: only letters" "$D/err"'
doh_config "$D/rname.yaml"
sed -i 's/resolver-name: dns.test/resolver-name: "bad..name"/' "$D/rname.yaml"
t "-t: a resolver-name that is not a DNS name is refused" \
  '! "$EGRESSD" -t -c "$D/rname.yaml" 2>"$D/err" && grep -E "rname.yaml:[0-9]+: server.resolver-name: \"bad..name\" is not a DNS name" "$D/err"'
doh_config "$D/streams.yaml" "  doh-max-streams: 0"
t "-t: doh-max-streams 0 is refused" \
  '! "$EGRESSD" -t -c "$D/streams.yaml" 2>"$D/err" && grep -E "server.doh-max-streams: 0 is out of range" "$D/err"'

# --- the threat feed (the hq tenant's policy redirects it) and the web server
echo www.alpha.com >"$D/feeds/malware.txt"
t "import: a malware feed naming www.alpha.com" \
  'timeout 30 "$THREATCTL" -d "$D/threatdb" import --feed malw --format domains --category malware "$D/feeds/malware.txt"'
echo "hello through doh" >"$D/www/hello.txt"
(cd "$D/www" && exec timeout 300 "$PY3" -m http.server --bind 127.0.0.1 "$WEB_PORT") >"$D/web.log" 2>&1 &
WEB_PID=$!
for i in $(seq 1 50); do
  timeout 1 curl -sf "http://127.0.0.1:$WEB_PORT/hello.txt" >/dev/null 2>&1 && break
  sleep 0.1
done
t "local web server up" 'timeout 5 curl -sf "http://127.0.0.1:$WEB_PORT/hello.txt" | grep -q "hello through doh"'

if ! start_egressd "$D/ok.yaml" "$WORK/egressd-doh.log"; then
  t "egressd starts with a DoH listener" false
  kill "$WEB_PID" 2>/dev/null; wait "$WEB_PID" 2>/dev/null
  return 0
fi
LOG=$WORK/egressd-doh.log
t "the DoH listener is logged with its URL" \
  'grep -q "listening on $EG_ADDR:$DOH_PORT (doh, https://$EG_ADDR:$DOH_PORT/dns-query)" "$LOG"'
sleep 1.5   # a round of security-node health checks

# --- curl: GET, POST, --doh-url
t "curl GET ?dns= answers application/dns-message over HTTP/2" \
  '$CURL -D "$D/h1" -o "$D/a1" "$URL?dns=$QA" && grep -qi "^HTTP/2 200" "$D/h1" && grep -qi "^content-type: application/dns-message" "$D/h1" && xxd -p "$D/a1" | tr -d "\n" | grep -q "c000020a"'
t "Cache-Control max-age is the answer TTL (0 < age <= 3600)" \
  'a=$(sed -n "s/^cache-control: max-age=\([0-9]*\).*/\1/Ip" "$D/h1"); [ -n "$a" ] && [ "$a" -gt 0 ] && [ "$a" -le 3600 ]'
t "query ID 0 is echoed as 0" '[ "$(head -c 2 "$D/a1" | xxd -p)" = 0000 ]'
t "query ID 0x1234 is echoed" \
  '$CURL -o "$D/a2" "$URL?dns=$QA_ID" && [ "$(head -c 2 "$D/a2" | xxd -p)" = 1234 ]'
printf '\x00\x00\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03www\x04beta\x03net\x00\x00\x01\x00\x01' >"$D/q-beta.bin"
t "curl POST application/dns-message answers" \
  '$CURL -D "$D/h3" -o "$D/a3" -H "content-type: application/dns-message" --data-binary @"$D/q-beta.bin" "$URL" && grep -qi "^HTTP/2 200" "$D/h3" && xxd -p "$D/a3" | tr -d "\n" | grep -q "c0000214"'
t "curl --doh-url resolves a name and fetches the page at its address" \
  'timeout 20 curl -sS --doh-url "$URL" --cacert "$D/tls/ca.pem" "http://loop.beta.net:$WEB_PORT/hello.txt" | grep -q "hello through doh"'
t "curl --doh-url on the hq token: the redirected name leads to the security node" \
  'timeout 20 curl -sS --doh-url "$URL/$TOKEN" --cacert "$D/tls/ca.pem" "http://www.alpha.com:$WEB_PORT/hello.txt" | grep -q "hello through doh"'
t "... while on the plain path (tenant local) the name has its real address" \
  '$CURL "$URL?name=www.alpha.com&type=A&ct=application/dns-json" | grep -q "\"data\":\"192.0.2.10\""'

# --- kdig, dig, nghttp, h2load
KH="timeout 20 kdig +time=5 +retry=0 @$EG_ADDR -p $DOH_PORT +tls-ca=$D/tls/ca.pem +tls-hostname=dns.test"
t "kdig +https (POST) answers" '$KH +https www.alpha.com AAAA +short | grep -qx 2001:db8::10'
t "kdig +https-get answers" '$KH +https-get www.beta.net A +short | grep -qx 192.0.2.20'
t "kdig +https on the token path answers for tenant hq (redirect)" \
  '$KH +https=/dns-query/$TOKEN www.alpha.com A +short | grep -qx 127.0.0.1'
t "dig +https answers" \
  'timeout 20 dig +time=5 +tries=1 @$EG_ADDR -p $DOH_PORT +https +tls-ca=$D/tls/ca.pem +tls-hostname=dns.test www.alpha.com A +short | grep -qx 192.0.2.10'
t "nghttp GET: SETTINGS_MAX_CONCURRENT_STREAMS 100 and 200" \
  'timeout 20 nghttp -v "$URL?dns=$QA" >"$D/ng.txt" 2>&1; grep -q "SETTINGS_MAX_CONCURRENT_STREAMS(0x03):100" "$D/ng.txt" && grep -q ":status: 200" "$D/ng.txt"'
t "nghttp POST answers" \
  'timeout 20 nghttp -H "content-type: application/dns-message" -d "$D/q-beta.bin" "$URL" | xxd -p | tr -d "\n" | grep -q "c0000214"'
t "h2load: 400 requests, 4 connections x 50 streams, all succeed" \
  'timeout 60 h2load -n 400 -c 4 -m 50 "$URL?dns=$QA" >"$D/h2load.txt" 2>&1; grep -q "400 succeeded, 0 failed, 0 errored" "$D/h2load.txt"'

# --- every error status: an HTTP answer with a short text body
req() { $DP req "$@" >"$D/r.txt" 2>&1; cat "$D/r.txt"; }
has() { grep -q "$1" "$D/r.txt"; }
t "400: missing dns parameter" 'req GET /dns-query >/dev/null; has "^status 400" && has "^text 400 missing dns parameter"'
t "400: base64 with padding" 'req GET "/dns-query?dns=$QA==" >/dev/null; has "^status 400" && has "not base64url"'
t "400: base64 (not url) alphabet" 'req GET "/dns-query?dns=AA+A" >/dev/null; has "^status 400"'
t "400: dns given twice" 'req GET "/dns-query?dns=$QA&dns=$QA" >/dev/null; has "^status 400"'
t "400: a DNS message that does not parse (GET)" 'req GET "/dns-query?dns=AAAA" >/dev/null; has "^status 400" && has "malformed DNS query"'
t "400: a DNS message that does not parse (POST)" \
  'req POST /dns-query --ct application/dns-message --body-hex 000001000001000000000000ff >/dev/null; has "^status 400" && has "malformed DNS query"'
t "400: a DNS response is not a query" \
  'req POST /dns-query --ct application/dns-message --body-hex 000081000000000000000000 >/dev/null; has "^status 400"'
t "404: another path" 'req GET "/other?dns=$QA" >/dev/null; has "^status 404" && has "^text 404 not found"'
t "404: a path below the token" 'req GET "/dns-query/$TOKEN/x?dns=$QA" >/dev/null; has "^status 404"'
t "404: an unknown token" 'req GET "/dns-query/no-such-token-42?dns=$QA" >/dev/null; has "^status 404"'
t "405: PUT, with Allow: GET, POST" 'req PUT /dns-query >/dev/null; has "^status 405" && has "^header allow: GET, POST"'
t "405: HEAD" 'req HEAD "/dns-query?dns=$QA" >/dev/null; has "^status 405"'
t "413: content-length over 65535, answered at once, the rest refused (RST_STREAM NO_ERROR)" \
  'req POST /dns-query --ct application/dns-message --body-size 70000 >/dev/null; has "^status 413" && has "^reset 0"'
t "413: a body over 65535 without content-length" \
  'req POST /dns-query --ct application/dns-message --body-size 70000 --no-length >/dev/null; has "^status 413"'
t "415: POST with another content type" \
  'req POST /dns-query --ct text/plain --body-hex 00 >/dev/null; has "^status 415" && has "^text 415 unsupported media type"'
t "error answers say no-store" 'has "^header cache-control: no-store"'
t "a body of exactly 65535 bytes is read (answered 400: trailing garbage is not DNS)" \
  'req POST /dns-query --ct application/dns-message --body-size 65535 >/dev/null; has "^status [24]00" && ! has "^status 413"'

# --- tenants: token > address; unknown tokens counted, never logged
t "the unknown token is counted in egressd_doh_unknown_token_total" \
  'timeout 10 curl -sf "http://127.0.0.1:$MET_PORT/metrics" | grep -x "egressd_doh_unknown_token_total 1" >/dev/null'
t "doh queries are counted in egressd_queries_total{transport=\"doh\"}" \
  'timeout 10 curl -sf "http://127.0.0.1:$MET_PORT/metrics" | grep "^egressd_queries_total{transport=\"doh\"" >/dev/null'

# mutual TLS: the certificate beats the address, the token beats both
CC="$CURL --cert $D/tls/branch.pem --key $D/tls/branch.key"
t "a client certificate selects its tenant (queried: mtls-cert.alpha.com)" \
  '$CC -o /dev/null -w "%{http_code}" "$URL?name=mtls-cert.alpha.com&ct=application/dns-json" | grep -qx 200'
t "token and certificate: the token decides (queried: mtls-token.alpha.com)" \
  '$CC -o /dev/null -w "%{http_code}" "$URL/$TOKEN?name=mtls-token.alpha.com&ct=application/dns-json" | grep -qx 200'

# --- JSON
json() { $CURL -H "accept: application/dns-json" -D "$D/hj" "$URL?$1" >"$D/j.json" && $PY3 -c "import json,sys; d=json.load(open(sys.argv[1])); $2" "$D/j.json"; }
t "JSON (Accept): AAAA answer with name, type, TTL, data" \
  'json "name=www.alpha.com&type=AAAA" "a=d[\"Answer\"][0]; assert d[\"Status\"]==0 and d[\"RD\"] and d[\"RA\"] and a[\"type\"]==28 and a[\"data\"]==\"2001:db8::10\" and a[\"name\"]==\"www.alpha.com.\" and a[\"TTL\"]>0 and d[\"Question\"]==[{\"name\":\"www.alpha.com.\",\"type\":28}]"'
t "JSON answers are application/dns-json with Cache-Control" \
  'grep -qi "^content-type: application/dns-json" "$D/hj" && grep -qi "^cache-control: max-age=[1-9]" "$D/hj"'
t "JSON (ct=): NXDOMAIN has Status 3 and the SOA in Authority" \
  '$CURL "$URL?name=nope.alpha.com&ct=application/dns-json" >"$D/j.json" && $PY3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d[\"Status\"]==3 and d[\"Authority\"][0][\"type\"]==6 and \"Answer\" not in d" "$D/j.json"'
t "JSON: type by number, and a CNAME chain" \
  'json "name=to-loop.alpha.com&type=1" "t=[a[\"type\"] for a in d[\"Answer\"]]; assert t==[5,1], t"'
t "JSON: DNSSEC AD with do=1 on a signed zone" \
  'json "name=www.secure.org&type=A&do=1" "assert d[\"AD\"] is True and any(a[\"type\"]==46 for a in d[\"Answer\"])"'
t "JSON: missing name is 400" 'req GET "/dns-query?type=A" --accept application/dns-json >/dev/null; has "^status 400" && has "missing name"'
t "JSON: a bad type is 400" 'req GET "/dns-query?name=a.com&type=NOPE&ct=application/dns-json" >/dev/null; has "^status 400"'

# --- limits
t "SETTINGS: MAX_CONCURRENT_STREAMS 100, MAX_HEADER_LIST_SIZE 16384" \
  '$DP settings >"$D/s.txt"; grep -qx "MAX_CONCURRENT_STREAMS 100" "$D/s.txt" && grep -qx "MAX_HEADER_LIST_SIZE 16384" "$D/s.txt"'
t "150 streams on one connection: never more than 100 open, all answered" \
  '$DP streams 150 "/dns-query?dns=$QA" >"$D/s.txt"; grep -qx "answered 150" "$D/s.txt" && grep -qx "peak 100" "$D/s.txt"'
t "150 streams sent before our SETTINGS: 100 answered, 50 refused (REFUSED_STREAM)" \
  '$DP streams --early 150 "/dns-query?dns=$QA" >"$D/s.txt"; grep -qx "answered 100" "$D/s.txt" && grep -qx "refused 50" "$D/s.txt"'
t "rapid reset (HEADERS + RST_STREAM in a loop): GOAWAY ENHANCE_YOUR_CALM" \
  '$DP rapid-reset 2000 "/dns-query?dns=$QA" >"$D/s.txt"; grep -qx "goaway 11" "$D/s.txt" && [ "$(sed -n "s/^sent //p" "$D/s.txt")" -lt 2000 ]'
t "... and it is logged" 'grep -q "stream resets in 10 s: GOAWAY ENHANCE_YOUR_CALM" "$LOG"'
t "a body that never finishes is reset (CANCEL) after doh-stream-timeout (2 s)" \
  '$DP slow-body /dns-query >"$D/s.txt"; grep -Eq "^reset 8 after (2|3)\." "$D/s.txt"'
t "an idle connection gets GOAWAY NO_ERROR after tcp-idle-timeout (3 s)" \
  '$DP idle 10 >"$D/s.txt"; grep -Eq "^goaway 0 after (3|4)\." "$D/s.txt"'
big=$(head -c 20000 /dev/zero | tr "\0" a)
t "431: a header list over 16 KiB" \
  'timeout 20 curl -sS --http2 --cacert "$D/tls/ca.pem" -o /dev/null -w "%{http_code}" -H "x-big: $big" "$URL?dns=$QA" | grep -qx 431'
t "a TLS client offering only http/1.1 is refused in the handshake" \
  '! timeout 10 curl -sS --http1.1 --cacert "$D/tls/ca.pem" "$URL?dns=$QA" -o /dev/null 2>/dev/null'
# HTTP/2 conformance (what h2spec would check; nghttp2 enforces it, these
# make sure our use of it does): connection errors end in GOAWAY
raw() { $DP raw "$@" | sed -n "s/^goaway //p"; }
t "HTTP/1.1 spoken after ALPN h2: GOAWAY PROTOCOL_ERROR" \
  '[ "$(raw $(printf "GET / HTTP/1.1\r\nHost: x\r\n\r\n" | xxd -p | tr -d "\n"))" = 1 ]'
t "DATA on stream 0: GOAWAY PROTOCOL_ERROR" '[ "$(raw --preface 000000000000000000)" = 1 ]'
t "HEADERS on an even (server) stream: GOAWAY PROTOCOL_ERROR" \
  '[ "$(raw --preface 00000101050000000282)" = 1 ]'
t "SETTINGS_ENABLE_PUSH 2: GOAWAY PROTOCOL_ERROR" \
  '[ "$(raw --preface 000006040000000000000200000002)" = 1 ]'
t "WINDOW_UPDATE of 0 on the connection: GOAWAY PROTOCOL_ERROR" \
  '[ "$(raw --preface 00000408000000000000000000)" = 1 ]'
t "a SETTINGS frame of 7 bytes: GOAWAY FRAME_SIZE_ERROR" \
  '[ "$(raw --preface 00000704000000000000020000000000)" = 6 ]'
PINGS=$(for i in $(seq 1 1000); do printf 0000080600000000000000000000000000; done)
t "PING flood (1000 PINGs at once): GOAWAY ENHANCE_YOUR_CALM" '[ "$(raw --preface "$PINGS")" = 11 ]'
SETS=$(for i in $(seq 1 1000); do printf 000000040000000000; done)
t "SETTINGS flood (1000 SETTINGS at once): GOAWAY ENHANCE_YOUR_CALM" '[ "$(raw --preface "$SETS")" = 11 ]'
t "the server is still up and answering" '$CURL "$URL?dns=$QA" -o /dev/null -w "%{http_code}" | grep -qx 200'

# --- DDR (RFC 9462): on Do53, DoT and DoH
t "DDR over Do53: one SVCB per encrypted listener" \
  'q _dns.resolver.arpa SVCB +short >"$D/ddr.txt"; [ "$(wc -l <"$D/ddr.txt")" = 2 ]'
t "DDR: the DoH record has alpn h2, port, ipv4hint and dohpath" \
  'grep -q "^1 dns.test. alpn=\"h2\" port=$DOH_PORT ipv4hint=127.0.0.1 key7=\"/dns-query{?dns}\"" "$D/ddr.txt"'
t "DDR: the DoT record has alpn dot and port" \
  'grep -q "^2 dns.test. alpn=\"dot\" port=$DOH_DOT_PORT ipv4hint=127.0.0.1$" "$D/ddr.txt"'
t "DDR over DoH (kdig +https)" '$KH +https _dns.resolver.arpa SVCB +short | grep -q "alpn=h2"'
t "DDR: other types at _dns.resolver.arpa are NODATA" \
  '[ "$(q _dns.resolver.arpa A | status_of)" = NOERROR ] && [ -z "$(q _dns.resolver.arpa A +short)" ]'

stop_egressd
t "egressd stops cleanly with DoH connections served" '[ "$EG_RC" = 0 ]'
# the query log is complete once egressd has stopped
t "the token request was logged as tenant hq, transport doh, redirected" \
  'grep "\"qname\":\"www.alpha.com\"" "$D/queries.jsonl" | grep "\"transport\":\"doh\"" | grep "\"action\":\"redirect\"" | grep "\"tenant\":\"hq\"" >/dev/null'
t "the plain path was logged as tenant local (address)" \
  'grep "\"transport\":\"doh\"" "$D/queries.jsonl" | grep "\"tenant\":\"local\"" >/dev/null'
t "the unknown token appears in no log" '! grep -rq "no-such-token-42" "$LOG" "$D/queries.jsonl"'
t "the client certificate's query was logged as tenant branch" \
  'grep "\"qname\":\"mtls-cert.alpha.com\"" "$D/queries.jsonl" | grep "\"tenant\":\"branch\"" >/dev/null'
t "with a token and a certificate, the query was logged as the token's tenant" \
  'grep "\"qname\":\"mtls-token.alpha.com\"" "$D/queries.jsonl" | grep "\"tenant\":\"hq\"" >/dev/null'
t "no DoH connection failure was logged as an error" '! grep -E "egressd (error|fatal)" "$LOG"'

# --- one worker (the connection caps are per worker), without
# resolver-name: DDR is NODATA
doh_config "$D/noname.yaml" "  workers: 1"
sed -i '/resolver-name:/d' "$D/noname.yaml"
if start_egressd "$D/noname.yaml" "$WORK/egressd-doh2.log"; then
  t "DDR without server.resolver-name: NODATA" \
    '[ "$(q _dns.resolver.arpa SVCB | status_of)" = NOERROR ] && [ -z "$(q _dns.resolver.arpa SVCB +short)" ]'
  IDLE_PIDS=()
  for i in 1 2 3 4 5 6 7 8; do $DP idle 6 >"$D/idle$i.txt" 2>&1 & IDLE_PIDS+=($!); done
  sleep 1
  $DP idle 1 >"$D/idle9.txt" 2>&1
  wait "${IDLE_PIDS[@]}"
  t "a 9th connection from one address (cap 8): the oldest idle one makes room" \
    '[ "$(grep -l "^closed after [01]\." "$D"/idle[1-8].txt | wc -l)" = 1 ] && grep -q "^nothing after" "$D/idle9.txt"'
  stop_egressd
else
  t "egressd starts without resolver-name" false
fi
kill "$WEB_PID" 2>/dev/null
wait "$WEB_PID" 2>/dev/null

# tests/integration/dot.sh -- DNS-over-TLS (RFC 7858) and mTLS tenants.
# Certificates are made here, under $WORK; DOT_PORT (default 8531) is the
# listener with an optional client certificate, DOT_PORT+1 the one that
# requires it.
# shellcheck shell=bash

DOT_PORT=${DOT_PORT:-8531}
DOT_REQ_PORT=$((DOT_PORT + 1))
TLS=$WORK/tls
mkdir -p "$TLS"

# mkcert NAME CA DAYS SUBJECT [EXTENSIONS]: NAME.key and NAME.pem signed by
# CA (CA.pem / CA.key); DAYS -1 makes an expired certificate.
mkcert() {
  local name=$1 ca=$2 days=$3 subj=$4 ext=${5:-}
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$TLS/$name.key" -out "$TLS/$name.csr" -subj "$subj" 2>/dev/null || return 1
  printf '%s\n' "$ext" >"$TLS/$name.ext"
  openssl x509 -req -in "$TLS/$name.csr" -CA "$TLS/$ca.pem" -CAkey "$TLS/$ca.key" \
    -set_serial "0x$(openssl rand -hex 8)" -days "$days" -extfile "$TLS/$name.ext" \
    -out "$TLS/$name.pem" 2>/dev/null
}
mkca() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
    -keyout "$TLS/$1.key" -out "$TLS/$1.pem" -subj "/CN=$2" 2>/dev/null
}
SRV_EXT="subjectAltName=DNS:dns.test
extendedKeyUsage=serverAuth"
cli_ext() { printf 'subjectAltName=%s\nextendedKeyUsage=clientAuth' "$1"; }
mkca ca "egressd test CA" &&
mkca otherca "some other CA" &&
mkcert server ca 30 /CN=dns.test "$SRV_EXT" &&
mkcert server2 ca 30 /CN=dns.test "$SRV_EXT" &&
mkcert expired ca -1 /CN=dns.test "$SRV_EXT" &&
mkcert branch ca 30 /CN=ignored.test "$(cli_ext DNS:branch.corp.test)" &&
mkcert uri ca 30 /CN=ignored.test "$(cli_ext URI:spiffe://corp.test/lab)" &&
mkcert cnonly ca 30 /CN=cn-tenant.corp.test "extendedKeyUsage=clientAuth" &&
mkcert stranger ca 30 /CN=branch.corp.test "$(cli_ext DNS:stranger.test)" &&
mkcert forged otherca 30 /CN=branch.corp.test "$(cli_ext DNS:branch.corp.test)" &&
mkcert oldbranch ca -1 /CN=branch.corp.test "$(cli_ext DNS:branch.corp.test)"
t "test certificates made" '[ -s "$TLS/oldbranch.pem" ]'
cp "$TLS/server.pem" "$TLS/live.pem"
cp "$TLS/server.key" "$TLS/live.key"
serial() { openssl x509 -in "$1" -noout -serial | sed 's/serial=//' | tr A-F a-f | sed 's/^0*//'; }

# dot_config FILE [tls block] [extra server keys]
dot_config() {
  local file=$1 tls=${2-"  tls: { certificate: $TLS/live.pem, key: $TLS/live.key, client-ca: $TLS/ca.pem }"} extra=${3:-}
  cat >"$file" <<CFG
server:
  listen:
    - { transport: dns, address: "$EG_ADDR:$EG_PORT" }
    - { transport: dot, address: "$EG_ADDR:$DOT_PORT" }
    - { transport: dot, address: "[::1]:$DOT_PORT" }
    - { transport: dot, address: "$EG_ADDR:$DOT_REQ_PORT", require-client-certificate: true }
$tls
  tcp-idle-timeout: 2s
  tls-handshake-timeout: 1s
  max-connections-per-client: 4
  workers: 1   # the connection caps hold per worker: one worker keeps the counts exact
$extra
resolution:
  dnssec: yes
  trust-anchor: $FAKENET/root.key
  root-hints: $FAKENET/root.hints
  query-timeout: 8s
  unbound-options: { do-not-query-localhost: "no" }
tenants:
  - { name: local, networks: [ 127.0.0.1/32, "::1/128" ] }
  - { name: branch, certificate-identity: branch.corp.test }
  - { name: lab, certificate-identity: "spiffe://corp.test/lab" }
  - { name: cnt, certificate-identity: cn-tenant.corp.test }
log:
  queries: $WORK/dot-queries.jsonl
CFG
}

# --- configuration checks (-t)
dot_config "$WORK/dot.yaml"
t "-t accepts the DoT config" '"$EGRESSD" -t -c "$WORK/dot.yaml" | grep -q "configuration OK"'
dot_config "$WORK/dot-notls.yaml" ""
t "-t: a dot listener without server.tls is refused, with file and line" \
  '! "$EGRESSD" -t -c "$WORK/dot-notls.yaml" 2>"$WORK/err" && grep -E "dot-notls.yaml:[0-9]+: server.tls: a dot listener needs" "$WORK/err"'
dot_config "$WORK/dot-exp.yaml" "  tls: { certificate: $TLS/expired.pem, key: $TLS/expired.key, client-ca: $TLS/ca.pem }"
t "-t: an expired certificate is refused" \
  '! "$EGRESSD" -t -c "$WORK/dot-exp.yaml" 2>"$WORK/err" && grep -E "dot-exp.yaml:[0-9]+: server.tls.certificate: .*expired.pem: certificate expired on" "$WORK/err"'
dot_config "$WORK/dot-key.yaml" "  tls: { certificate: $TLS/server.pem, key: $TLS/server2.key, client-ca: $TLS/ca.pem }"
t "-t: a key that does not match the certificate is refused" \
  '! "$EGRESSD" -t -c "$WORK/dot-key.yaml" 2>"$WORK/err" && grep -E "dot-key.yaml:[0-9]+: server.tls.key: .*server2.key does not match" "$WORK/err"'
openssl pkey -in "$TLS/server.key" -aes256 -passout pass:secret -out "$TLS/encrypted.key" 2>/dev/null
dot_config "$WORK/dot-enc.yaml" "  tls: { certificate: $TLS/server.pem, key: $TLS/encrypted.key, client-ca: $TLS/ca.pem }"
t "-t: an encrypted key is refused (no passphrase prompt)" \
  '! timeout 10 "$EGRESSD" -t -c "$WORK/dot-enc.yaml" </dev/null 2>"$WORK/err" && grep -E "dot-enc.yaml:[0-9]+: server.tls.key: .*encrypted.key: the key is encrypted" "$WORK/err"'
dot_config "$WORK/dot-noca.yaml" "  tls: { certificate: $TLS/server.pem, key: $TLS/server.key }"
t "-t: require-client-certificate without client-ca is refused" \
  '! "$EGRESSD" -t -c "$WORK/dot-noca.yaml" 2>"$WORK/err" && grep -E "dot-noca.yaml:[0-9]+: server.listen.require-client-certificate: needs server.tls.client-ca" "$WORK/err"'
dot_config "$WORK/dot-tenant.yaml"
sed -i 's/^  - { name: cnt, .*/  - { name: empty }/' "$WORK/dot-tenant.yaml"
t "-t: a tenant with neither networks nor certificate-identity is refused" \
  '! "$EGRESSD" -t -c "$WORK/dot-tenant.yaml" 2>"$WORK/err" && grep -E "dot-tenant.yaml:[0-9]+: tenants.networks: tenant \"empty\" has neither" "$WORK/err"'

if ! start_egressd "$WORK/dot.yaml" "$WORK/egressd-dot.log"; then
  t "egressd starts with DoT listeners" false
  return 0
fi

KD="timeout 20 kdig +time=5 +retry=0 @$EG_ADDR"
KT="$KD -p $DOT_PORT +tls-ca=$TLS/ca.pem +tls-hostname=dns.test"
KR="$KD -p $DOT_REQ_PORT +tls-ca=$TLS/ca.pem +tls-hostname=dns.test"
SC="timeout 10 openssl s_client -connect $EG_ADDR:$DOT_PORT -CAfile $TLS/ca.pem -verify_hostname dns.test -verify_return_error"
cli() { echo "+tls-certfile=$TLS/$1.pem +tls-keyfile=$TLS/$1.key"; }

# --- DoT with kdig
t "kdig +tls with +tls-ca/+tls-hostname answers" '$KT www.alpha.com A +short | grep -qx 192.0.2.10'
t "kdig +tls over IPv6" 'timeout 20 kdig +time=5 +retry=0 @::1 -p $DOT_PORT +tls-ca=$TLS/ca.pem +tls-hostname=dns.test www.alpha.com AAAA +short | grep -qx 2001:db8::10'
t "kdig +tls-sni answers" '$KT +tls-sni=dns.test www.beta.net A +short | grep -qx 192.0.2.20'
t "kdig: a server name the certificate does not carry fails verification" \
  '! $KD -p $DOT_PORT +tls-ca=$TLS/ca.pem +tls-hostname=other.test www.alpha.com A +short | grep -q 192.0.2.10'
t "kdig: several queries on one connection (+keepopen)" \
  '[ "$($KT +keepopen +short www.alpha.com A www.beta.net A www.alpha.com AAAA | tr "\n" " ")" = "192.0.2.10 192.0.2.20 2001:db8::10 " ]'
t "pipelined: 20 queries at once on one TLS connection, all answered" \
  'python3 "$T_DIR/dotprobe.py" pipeline "$EG_ADDR" "$DOT_PORT" "$TLS/ca.pem" $(for i in $(seq 0 19); do echo www.zone$(printf %02d $i).$([ $((i % 2)) = 0 ] && echo com || echo net); done) | grep -q "^answered 20 "'
t "pipelined: answers out of order, a slow query does not hold the others" \
  'python3 "$T_DIR/dotprobe.py" pipeline "$EG_ADDR" "$DOT_PORT" "$TLS/ca.pem" www.dead.com www.alpha.com mail.alpha.com www.beta.net | grep -qE "^answered 4 order [234],"'

# --- TLS parameters
t "ALPN dot negotiated" 'out=$(echo | $SC -alpn dot 2>&1); grep -q "ALPN protocol: dot" <<<"$out"'
t "a client without ALPN is served" 'echo | $SC 2>&1 | grep -q "Verify return code: 0 (ok)"'
t "a client offering only other protocols is refused (no_application_protocol)" \
  'out=$(echo | $SC -alpn h2,http/1.1 2>&1); grep -qi "no application protocol" <<<"$out"'
t "TLS 1.3 accepted" 'out=$(echo | $SC -tls1_3 2>&1); grep -q "New, TLSv1.3" <<<"$out"'
t "TLS 1.2 accepted, with an AEAD cipher" 'out=$(echo | $SC -tls1_2 2>&1); grep -qE "New, TLSv1.2, Cipher is ECDHE-ECDSA-(AES(128|256)-GCM|CHACHA20-POLY1305)" <<<"$out"'
t "TLS 1.1 refused by the server" \
  'out=$(echo | $SC -tls1_1 -cipher "DEFAULT:@SECLEVEL=0" 2>&1); grep -qi "alert protocol version" <<<"$out"'
t "TLS 1.2 without an AEAD cipher refused" \
  'out=$(echo | $SC -tls1_2 -cipher "ECDHE-ECDSA-AES128-SHA" 2>&1); grep -qi "handshake failure" <<<"$out"'
t "session resumption with a ticket (TLS 1.2)" \
  'echo | $SC -tls1_2 -sess_out "$WORK/sess12.pem" >/dev/null 2>&1; out=$(echo | $SC -tls1_2 -sess_in "$WORK/sess12.pem" 2>&1); grep -q "^Reused, TLSv1.2" <<<"$out"'
t "session resumption with a ticket (TLS 1.3)" \
  'sleep 1 | $SC -tls1_3 -sess_out "$WORK/sess13.pem" >/dev/null 2>&1; out=$(sleep 1 | $SC -tls1_3 -sess_in "$WORK/sess13.pem" 2>&1); grep -q "^Reused, TLSv1.3" <<<"$out"'

# --- connections
t "a plain-text DNS client on the TLS port gets the connection closed" \
  '[ "$(python3 "$T_DIR/dotprobe.py" plaintext "$EG_ADDR" "$DOT_PORT")" = closed ]'
t "a client that connects and stays silent is dropped after the handshake timeout (1 s)" \
  'python3 "$T_DIR/dotprobe.py" silent "$EG_ADDR" "$DOT_PORT" 4 | grep -qE "^closed (0\.9|1\.|2\.)"'
t "EDNS keepalive (RFC 7828) and padding to 468 (RFC 8467) over DoT" \
  'out=$(python3 "$T_DIR/dotprobe.py" edns "$EG_ADDR" "$DOT_PORT" "$TLS/ca.pem" both); echo "$out"; echo "$out" | grep -qE "^len 468 keepalive 20 padding [0-9]+ rcode NOERROR"'
t "no padding and no keepalive when the query had neither" \
  'python3 "$T_DIR/dotprobe.py" edns "$EG_ADDR" "$DOT_PORT" "$TLS/ca.pem" none | grep -qE "keepalive - padding - rcode NOERROR"'
t "kdig +padding over DoT: the answer is padded" '$KT +padding www.alpha.com A | grep -q "PADDING:"'
t "keepalive over plain TCP: our timeout; padding only on encrypted transports" \
  'python3 "$T_DIR/dotprobe.py" edns "$EG_ADDR" "$EG_PORT" - both | grep -qE "keepalive 20 padding - rcode NOERROR"'
t "no keepalive over UDP (RFC 7828 3.2.1)" \
  'out=$($KD -p "$EG_PORT" +notcp +padding www.alpha.com A); grep -q "status: NOERROR" <<<"$out" && ! grep -qi "KEEPALIVE\|PADDING" <<<"$out"'
t "per-client cap (4): the oldest idle connections make room, the newest is served" \
  'out=$(python3 "$T_DIR/dotprobe.py" cap "$EG_ADDR" "$DOT_PORT" "$TLS/ca.pem" 6); echo "$out"; [ "$out" = "closed 3 answered 1" ]'

# --- mTLS tenants; 127.0.0.2 belongs to no tenant's networks
B="-b 127.0.0.2"
t "no certificate, address in no tenant: REFUSED with EDE 18" \
  'out=$($KT $B www.alpha.com A); echo "$out" | grep -q "status: REFUSED" && echo "$out" | grep -q "EDE: 18"'
t "certificate with SAN DNS naming tenant branch: answered" '$KT $B $(cli branch) www.alpha.com A +short | grep -qx 192.0.2.10'
t "certificate with SAN URI naming tenant lab: answered" '$KT $B $(cli uri) www.alpha.com A +short | grep -qx 192.0.2.10'
t "certificate without SAN, CN naming tenant cnt: answered" '$KT $B $(cli cnonly) www.alpha.com A +short | grep -qx 192.0.2.10'
t "unknown identity (its CN names a tenant, but SANs come first): REFUSED" \
  '$KT $B $(cli stranger) www.alpha.com A | grep -q "status: REFUSED"'
t "certificate from another CA: REFUSED" '$KT $B $(cli forged) www.alpha.com A | grep -q "status: REFUSED"'
t "expired client certificate: REFUSED" '$KT $B $(cli oldbranch) www.alpha.com A | grep -q "status: REFUSED"'
t "a resumed session keeps the tenant its certificate named" \
  '[ "$(python3 "$T_DIR/dotprobe.py" resume "$EG_ADDR" "$DOT_PORT" "$TLS/ca.pem" 127.0.0.2 "$TLS/branch.pem" "$TLS/branch.key")" = "first NOERROR reused yes second NOERROR" ]'
t "a resumed session without a certificate stays without a tenant" \
  '[ "$(python3 "$T_DIR/dotprobe.py" resume "$EG_ADDR" "$DOT_PORT" "$TLS/ca.pem" 127.0.0.2)" = "first REFUSED reused yes second REFUSED" ]'
t "require-client-certificate: a resumed session is served" \
  '[ "$(python3 "$T_DIR/dotprobe.py" resume "$EG_ADDR" "$DOT_REQ_PORT" "$TLS/ca.pem" 127.0.0.2 "$TLS/branch.pem" "$TLS/branch.key")" = "first NOERROR reused yes second NOERROR" ]'
t "require-client-certificate: a known identity is answered" \
  '$KR $B $(cli branch) www.alpha.com A +short | grep -qx 192.0.2.10'
# The server's alert ends the handshake: with TLS 1.2 kdig says "handshake
# failed"; with TLS 1.3 the client's side of the handshake is already done
# and the alert comes instead of the answer (or, when the query is still
# being sent, the connection is gone).
hs_fails() { out=$($KR "$@" www.alpha.com A 2>&1); ! grep -q "status:" <<<"$out" && grep -qE "handshake failed|TLS fatal alert|non-properly terminated" <<<"$out"; }
t "require-client-certificate: no certificate, the handshake fails" 'hs_fails'
t "require-client-certificate: certificate from another CA, the handshake fails" 'hs_fails $B $(cli forged)'
t "require-client-certificate: expired certificate, the handshake fails" 'hs_fails $B $(cli oldbranch)'
t "require-client-certificate: unknown identity, the handshake fails" 'hs_fails $B $(cli stranger)'

# --- reload (SIGHUP): new certificate for new connections, open ones kept
rm -f "$WORK/hold.go"
python3 "$T_DIR/dotprobe.py" hold "$EG_ADDR" "$DOT_PORT" "$TLS/ca.pem" www.alpha.com "$WORK/hold.go" >"$WORK/hold.out" 2>&1 &
hold_pid=$!
sleep 1
t "before reload: the first certificate is served" \
  '[ "$(python3 "$T_DIR/dotprobe.py" cert "$EG_ADDR" "$DOT_PORT" "$TLS/ca.pem")" = "$(serial "$TLS/server.pem")" ]'
cp "$TLS/server2.pem" "$TLS/live.pem"
cp "$TLS/server2.key" "$TLS/live.key"
kill -HUP "$EG_PID"
sleep 0.5
t "SIGHUP with a new valid certificate: new connections get it" \
  '[ "$(python3 "$T_DIR/dotprobe.py" cert "$EG_ADDR" "$DOT_PORT" "$TLS/ca.pem")" = "$(serial "$TLS/server2.pem")" ]'
touch "$WORK/hold.go"
wait "$hold_pid"
t "SIGHUP: a connection opened before it keeps working" 'grep -qE "^first NOERROR meanwhile [1-9][0-9]* failed 0 second NOERROR" "$WORK/hold.out"'
cp "$TLS/expired.pem" "$TLS/live.pem"
cp "$TLS/expired.key" "$TLS/live.key"
kill -HUP "$EG_PID"
sleep 0.5
t "SIGHUP with an expired certificate: refused and logged" \
  'grep -q "reload refused.*certificate expired" "$WORK/egressd-dot.log"'
t "SIGHUP with an expired certificate: the previous one is still served" \
  '[ "$(python3 "$T_DIR/dotprobe.py" cert "$EG_ADDR" "$DOT_PORT" "$TLS/ca.pem")" = "$(serial "$TLS/server2.pem")" ]'
t "still serving DoT after the reloads" '$KT www.alpha.com A +short | grep -qx 192.0.2.10'

stop_egressd
t "clean exit after the DoT tests" '[ "$EG_RC" = 0 ]'
# Out of file descriptors: the listeners pause (libevent would retry the
# failing accept() at once, forever) and come back when descriptors free.
cp "$TLS/server2.pem" "$TLS/live.pem"
cp "$TLS/server2.key" "$TLS/live.key"
sed 's/max-connections-per-client: 4/max-connections-per-client: 1000/' "$WORK/dot.yaml" >"$WORK/dot-fds.yaml"
save_wrap=$EG_WRAP
EG_WRAP="prlimit --nofile=64:64 $EG_WRAP"
if start_egressd "$WORK/dot-fds.yaml" "$WORK/egressd-fds.log"; then
  t "out of descriptors: no busy loop while the backlog waits" \
    'out=$(python3 "$T_DIR/dotprobe.py" flood "$EG_ADDR" "$EG_PORT" 120 1.5 "$EG_PID"); echo "$out"; [ "$(echo "$out" | awk "{print \$4}")" -lt 500 ]'
  t "out of descriptors: logged" 'grep -q "accept: Too many open files" "$WORK/egressd-fds.log"'
  t "out of descriptors: serving again once they are free" \
    'sleep 2.5; q www.alpha.com A +tcp +short | grep -qx 192.0.2.10 && $KT www.alpha.com A +short | grep -qx 192.0.2.10'
  stop_egressd
else
  t "egressd starts with 64 descriptors" false
fi
EG_WRAP=$save_wrap

t "query log: DoT queries are recorded with transport dot" \
  'grep -q "\"transport\":\"dot\"" "$WORK/dot-queries.jsonl"'
t "query log: the tenant a certificate names is the query's tenant (SAN DNS, SAN URI, CN)" \
  'for tn in branch lab cnt; do grep "\"tenant\":\"$tn\",\"client\":\"127.0.0.2\",\"transport\":\"dot\"" "$WORK/dot-queries.jsonl" | grep -q "\"action\":\"pass\"" || exit 1; done'
t "query log: the client without a certificate has no tenant and is refused" \
  'grep -q "\"tenant\":null,\"client\":\"127.0.0.2\",\"transport\":\"dot\".*\"action\":\"refuse\"" "$WORK/dot-queries.jsonl"'

# tests/integration/do53.sh -- Do53 over UDP and TCP against the fake internet.
# shellcheck shell=bash

write_config "$WORK/do53.yaml"
start_egressd "$WORK/do53.yaml" "$WORK/egressd-do53.log" || return 0

# --- records, chains, negative answers
t "A" '[ "$(q www.alpha.com A +short)" = 192.0.2.10 ]'
t "AAAA" '[ "$(q www.alpha.com AAAA +short)" = 2001:db8::10 ]'
t "MX" '[ "$(q alpha.com MX +short)" = "10 mail.alpha.com." ]'
t "TXT" '[ "$(q alpha.com TXT +short)" = "\"v=spf1 -all\"" ]'
t "answer flags: qr rd ra, not aa" 'q www.alpha.com A | grep -q "flags: qr rd ra;"'
t "CNAME chain inside a zone" \
  '[ "$(q chain.alpha.com A +short | tr "\n" " ")" = "alias.alpha.com. www.alpha.com. 192.0.2.10 " ]'
t "CNAME across zones, out-of-bailiwick NS" \
  '[ "$(q cross.alpha.com A +short | tr "\n" " ")" = "www.beta.net. 192.0.2.20 " ]'
t "NXDOMAIN with the SOA in authority" \
  'out=$(q nx.alpha.com A); echo "$out" | grep -q "status: NXDOMAIN" && echo "$out" | grep -qE "^alpha\.com\..*SOA"'
t "NODATA with the SOA in authority" \
  'out=$(q v6only.alpha.com A); echo "$out" | grep -q "status: NOERROR" && echo "$out" | grep -q "ANSWER: 0" && echo "$out" | grep -qE "^alpha\.com\..*SOA"'
t "question echoed with the client's case" \
  'q WwW.AlPhA.CoM A +noall +question | grep -q "^;WwW.AlPhA.CoM\."'
t "TTL decremented from the cache" \
  'q ttl.alpha.com A >/dev/null; sleep 2.2; ttl=$(q ttl.alpha.com A +noall +answer | awk "{print \$2}"); [ -n "$ttl" ] && [ "$ttl" -le 98 ]'
t "kdig over UDP" 'timeout 30 kdig +time=5 +retry=0 -p "$EG_PORT" @"$EG_ADDR" www.alpha.com A +short | grep -qx 192.0.2.10'
t "kdig over TCP" 'timeout 30 kdig +time=5 +retry=0 +tcp -p "$EG_PORT" @"$EG_ADDR" www.alpha.com AAAA +short | grep -qx 2001:db8::10'
t "IPv6 listener" 'timeout 30 dig +time=5 +tries=1 -p "$EG_PORT" @::1 www.beta.net A +short | grep -qx 192.0.2.20'

# --- EDNS and truncation
t "EDNS: our OPT advertises 1232" 'q www.alpha.com A | grep -q "udp: 1232"'
t "large answer over UDP: TC=1" 'q big.alpha.com TXT +ignore | grep -qE "flags: qr tc"'
t "large answer without EDNS: TC=1" 'q big.alpha.com TXT +ignore +noedns | grep -qE "flags: qr tc"'
t "client retries over TCP and gets all 40 records" 'q big.alpha.com TXT | grep -q "ANSWER: 40,"'
t "BADVERS for EDNS version 1" 'q www.alpha.com A +edns=1 +noednsnegotiation | grep -q "status: BADVERS"'

# --- DNSSEC
t "AD for a validated answer (DO set)" 'q www.secure.org A +dnssec | grep -qE "flags: qr rd ra ad;"'
t "RRSIG kept for a DO client" 'q www.secure.org A +dnssec | grep -qE "IN[[:space:]]+RRSIG[[:space:]]+A "'
t "AD for a validated answer (AD set, no DO)" 'q www.secure.org A +adflag +nodnssec | grep -qE "flags: qr rd ra ad;"'
t "no RRSIG for a client without DO" '! q www.secure.org A +nodnssec | grep -q RRSIG'
t "no AD when the client asked for neither" 'q www.secure.org A +noadflag +nodnssec | grep -qE "flags: qr rd ra;"'
t "no AD for an insecure zone" 'q www.alpha.com A +dnssec | grep -qE "flags: qr rd ra;"'
t "bogus: SERVFAIL with EDE 6" \
  'out=$(q www.bogus.org A); echo "$out" | grep -q "status: SERVFAIL" && echo "$out" | grep -q "EDE: 6 (DNSSEC Bogus)"'
t "bogus with CD: the data, no AD" \
  'out=$(q www.bogus.org A +cd); echo "$out" | grep -q "status: NOERROR" && echo "$out" | grep -qE "flags: qr rd ra cd;"'
t "unreachable authority: SERVFAIL with EDE 22" \
  'out=$(q www.dead.com A +time=15); echo "$out" | grep -q "status: SERVFAIL" && echo "$out" | grep -q "EDE: 22"'

# --- access list, bad input
t "client outside every tenant: REFUSED with EDE 18" \
  'out=$(q -b 127.0.0.2 www.alpha.com A); echo "$out" | grep -q "status: REFUSED" && echo "$out" | grep -q "EDE: 18"'
t "truncated question: FORMERR" '[ "$(probe udp "$EG_ADDR" "$EG_PORT" abcd010000010000000000000377777703616c70)" = FORMERR ]'
t "truncated question over TCP: FORMERR" '[ "$(probe tcp "$EG_ADDR" "$EG_PORT" abcd010000010000000000000377777703616c70)" = FORMERR ]'
t "two questions: FORMERR" '[ "$(probe udp "$EG_ADDR" "$EG_PORT" abcd0100000200000000000000000100010000010001)" = FORMERR ]'
t "less than a header: no answer" '[ "$(probe udp "$EG_ADDR" "$EG_PORT" abcd0100)" = noanswer ]'
t "a response (QR=1): no answer" '[ "$(probe udp "$EG_ADDR" "$EG_PORT" abcd81000001000000000000000001000100)" = noanswer ]'
t "opcode STATUS: NOTIMP" '[ "$(probe udp "$EG_ADDR" "$EG_PORT" abcd10000001000000000000000001000100)" = NOTIMP ]'
t "AXFR: REFUSED" '[ "$(probe tcp "$EG_ADDR" "$EG_PORT" abcd0000000100000000000005616c70686103636f6d0000fc0001)" = REFUSED ]'
t "class CH: REFUSED" '[ "$(probe udp "$EG_ADDR" "$EG_PORT" abcd010000010000000000000776657273696f6e0462696e640000100003)" = REFUSED ]'
t "still serving after the bad input" '[ "$(q www.alpha.com A +short)" = 192.0.2.10 ]'

# --- TCP (RFC 7766)
t "20 queries pipelined on one connection, all answered" \
  'probe pipeline "$EG_ADDR" "$EG_PORT" $(for i in $(seq 0 19); do echo www.zone$(printf %02d $i).$([ $((i % 2)) = 0 ] && echo com || echo net); done) | grep -q "^answered 20 "'
t "answers out of order: a slow query does not hold the others" \
  'probe pipeline "$EG_ADDR" "$EG_PORT" www.dead.com www.alpha.com mail.alpha.com www.beta.net | grep -qE "^answered 4 order [234],"'
t "idle connection closed after tcp-idle-timeout (2 s)" \
  'probe idle "$EG_ADDR" "$EG_PORT" 6 | grep -qE "^closed [23]\."'
t "connection cap (16): oldest idle connections make room, the newest is served" \
  'out=$(probe conncap "$EG_ADDR" "$EG_PORT" 20); echo "$out"; echo "$out" | grep -qE "^closed ([4-9]|1[0-9]) answered 1"'
t "still serving after the connection tests" '[ "$(q www.alpha.com A +short +tcp)" = 192.0.2.10 ]'

stop_egressd
t "clean exit after the Do53 tests" '[ "$EG_RC" = 0 ]'

# --- a wildcard listener: each reply leaves from the address its query went to
# (only a wildcard socket needs IP_PKTINFO; dig ignores a reply from elsewhere)
WPORT=$((EG_PORT + 11))
cat >"$WORK/do53-any.yaml" <<CFG
server:
  listen:
    - { transport: dns, address: "0.0.0.0:$WPORT" }
    - { transport: dns, address: "[::]:$WPORT" }
  workers: 1
resolution:
  dnssec: yes
  trust-anchor: $FAKENET/root.key
  root-hints: $FAKENET/root.hints
  unbound-options: { do-not-query-localhost: "no" }
tenants:
  - { name: local, networks: [ 127.0.0.0/8, "::1/128" ] }
CFG
SAVED_PORT=$EG_PORT; EG_PORT=$WPORT
start_egressd "$WORK/do53-any.yaml" "$WORK/egressd-do53-any.log" || { EG_PORT=$SAVED_PORT; return 0; }
for a in 127.0.0.1 127.0.0.9 ::1; do
  t "wildcard listener: a query to $a is answered from $a (UDP)" \
    "[ \"\$(timeout 30 dig +time=5 +tries=1 -p $WPORT @$a www.alpha.com A +short)\" = 192.0.2.10 ]"
done
t "wildcard listener: TCP too" \
  "[ \"\$(timeout 30 dig +time=5 +tries=1 +tcp -p $WPORT @127.0.0.9 www.beta.net A +short)\" = 192.0.2.20 ]"
stop_egressd
EG_PORT=$SAVED_PORT

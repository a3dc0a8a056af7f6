# tests/integration/threatdb.sh -- threatctl against real LMDB databases:
# every feed format, bad lines, --strict, --allow-broad, the lookup rules,
# expiry, remove, gc, exports (RPZ round trip, nft), atomic replacement
# under a reader, and kill -9 in the middle of an import.  Needs no egressd.
# shellcheck shell=bash

TD=$WORK/threatdb
rm -rf "$TD"
mkdir -p "$TD"
DB=$TD/db
# tc ARGS: threatctl on the test database, bounded in time
tc() { timeout 120 "$THREATCTL" -d "$DB" "$@"; }
# tcx DB ARGS: the same on another database
tcx() { local db=$1; shift; timeout 120 "$THREATCTL" -d "$db" "$@"; }
# rc CMD...: the exit status of a command, printed
rc() { "$@" >/dev/null 2>&1; echo $?; }
# sha12 FILE: the first 12 hex digits of a file's SHA-256
sha12() { sha256sum "$1" | cut -c1-12; }

# run.sh --threatctl PATH, else the one built next to egressd
[ -x "${THREATCTL:-}" ] || THREATCTL=$(dirname "$EGRESSD")/threatctl
if [ ! -x "$THREATCTL" ]; then
  t "threatctl binary at $THREATCTL" 'false'
  return 0
fi

# --- one small file per format, each with one bad line
cat >"$TD/domains.txt" <<'EOF'
# a plain list: each name covers itself and its subdomains
evil.example
*.wild.example
bad..name
Evil2.Example.
EOF
cat >"$TD/hosts.txt" <<'EOF'
127.0.0.1 localhost
0.0.0.0 ads.example tracker.example   # two names, each exactly
not-an-ip x.example
EOF
cat >"$TD/adblock.txt" <<'EOF'
! AdBlock rules
||adblock.example^
@@||good.adblock.example^
||x.example^$third-party
EOF
cat >"$TD/rpz.txt" <<'EOF'
$ORIGIN rpz.test.
$TTL 300
@ SOA localhost. hostmaster.localhost. 1 3600 600 86400 60
@ NS localhost.
exact.rpz.example CNAME .
*.sub.rpz.example CNAME *.
pass.rpz.example CNAME rpz-passthru.
24.0.2.0.192.rpz-ip CNAME .
32.5.2.0.192.rpz-ip CNAME rpz-passthru.
tcp.rpz.example CNAME rpz-tcp-only.
EOF
cat >"$TD/cidr.txt" <<'EOF'
192.0.2.0/24
2001:db8::/32
203.0.113.7
198.51.100.1/24
EOF
cat >"$TD/csv.txt" <<'EOF'
c2.example,c2,9,2099-01-01
phish.example,phishing
198.51.100.0/25,c2,5
bad,line,x
EOF

# --- importing each format
t "import domains: 3 entries, summary names the feed and the counts" \
  'out=$(tc import --feed dom --format domains --category malware "$TD/domains.txt" 2>"$TD/err"); echo "$out"; echo "$out" | grep -q "^feed dom: 3 entries (3 names, 0 prefixes) from $TD/domains.txt; 5 lines, 1 bad; sha256 "'
t "domains: bad line reported as FILE:LINE: reason" 'grep -qx "$TD/domains.txt:4: empty label" "$TD/err"'
t "import hosts: the classic localhost line is skipped silently" \
  'tc import --feed hosts --format hosts "$TD/hosts.txt" 2>"$TD/err" | grep -q "^feed hosts: 2 entries" && [ "$(wc -l <"$TD/err")" = 1 ]'
t "hosts: bad line FILE:LINE" 'grep -q "^$TD/hosts.txt:3: not an address" "$TD/err"'
t "import adblock (block and @@ allow)" \
  'tc import --feed adb --format adblock --category ads "$TD/adblock.txt" 2>"$TD/err" | grep -q "^feed adb: 2 entries"'
t "adblock: options are refused with FILE:LINE" 'grep -q "^$TD/adblock.txt:4: unsupported AdBlock option" "$TD/err"'
t "import rpz (names and rpz-ip triggers)" \
  'tc import --feed rpz --format rpz --category phishing "$TD/rpz.txt" 2>"$TD/err" | grep -q "^feed rpz: 5 entries (3 names, 2 prefixes)"'
t "rpz: unsupported action reported on its line" 'grep -q "^$TD/rpz.txt:10: unsupported RPZ action rpz-tcp-only" "$TD/err"'
t "import cidr (v4, v6, a single address)" \
  'tc import --feed cidr --format cidr --category c2 "$TD/cidr.txt" 2>"$TD/err" | grep -q "^feed cidr: 3 entries (0 names, 3 prefixes)"'
t "cidr: host bits reported with FILE:LINE" 'grep -q "^$TD/cidr.txt:4: host bits set beyond /24" "$TD/err"'
t "import csv (categories from the file)" \
  'tc import --feed csv --format csv "$TD/csv.txt" 2>"$TD/err" | grep -q "^feed csv: 3 entries (2 names, 1 prefixes)"'
t "csv: bad line FILE:LINE" 'grep -q "^$TD/csv.txt:4: " "$TD/err"'
t "import from standard input" \
  'printf "stdin.example\n" | tc import --feed stdin --format domains - | grep -q "^feed stdin: 1 entries (1 names, 0 prefixes) from stdin;"'
t "feeds lists every feed with entries and the file's sha256" \
  'out=$(tc feeds); echo "$out"; [ "$(echo "$out" | wc -l)" = 8 ] && echo "$out" | grep -E "^dom +3 +3 +0 .* $(sha12 "$TD/domains.txt") +$TD/domains.txt$"'
t "EGRESSD_THREATDB names the database, -d overrides it" \
  'EGRESSD_THREATDB=$DB timeout 30 "$THREATCTL" feeds | grep -q "^dom " && ! EGRESSD_THREATDB=$DB timeout 30 "$THREATCTL" -d "$TD/none" feeds 2>/dev/null'
t "check writes nothing (not even a database)" \
  'tcx "$TD/none" check --format domains "$TD/domains.txt" 2>/dev/null | grep -q "3 entries" && [ ! -e "$TD/none" ]'
t "check --strict fails on a bad line" '[ "$(rc tc check --strict --format domains "$TD/domains.txt")" = 1 ]'
t "a missing file: exit 1 naming it" \
  'out=$(tc import --feed x --format domains "$TD/missing.txt" 2>&1); [ $? = 1 ] && echo "$out" | grep -q "$TD/missing.txt: No such file"'
t "usage errors exit 2" \
  '[ "$(rc tc import --format domains "$TD/domains.txt")" = 2 ] && [ "$(rc tc import --feed a --format nope "$TD/domains.txt")" = 2 ] && [ "$(rc tc frobnicate)" = 2 ] && [ "$(rc tc import --feed a --format domains --exact --subdomains "$TD/domains.txt")" = 2 ] && [ "$(rc tc import --feed a --format domains --expires 30 "$TD/domains.txt")" = 2 ]'

t "the example feeds pass check --strict" \
  'for f in domains.txt:domains hosts.txt:hosts adblock.txt:adblock rpz.zone:rpz cidr.txt:cidr indicators.csv:csv doh-bypass.txt:domains; do tc check --strict --format "${f#*:}" "$SRC/examples/feeds/${f%:*}" || exit 1; done'
t "doh-bypass.txt lists at least 25 resolvers" \
  '[ "$(grep -vc "^#" "$SRC/examples/feeds/doh-bypass.txt")" -ge 25 ]'

# --- what each format's line covers
t "domains: a name covers its subdomains" 'tc lookup www.evil.example | grep -q "^www.evil.example: BLOCK by evil.example (and subdomains)"'
t "domains: case and the trailing dot folded" 'tc lookup evil2.example >/dev/null'
t "domains: *.name covers only below" '[ "$(rc tc lookup wild.example)" = 1 ] && tc lookup a.b.wild.example >/dev/null'
t "hosts: the name exactly" 'tc lookup ads.example >/dev/null && [ "$(rc tc lookup www.ads.example)" = 1 ]'
t "rpz: an owner covers what it says" \
  'tc lookup exact.rpz.example >/dev/null && [ "$(rc tc lookup www.exact.rpz.example)" = 1 ] && tc lookup a.sub.rpz.example | grep -q "action nodata" && [ "$(rc tc lookup sub.rpz.example)" = 1 ]'
t "addresses: v4 prefix, v6 prefix, single address" \
  'tc lookup 192.0.2.77 | grep -q "BLOCK by 192.0.2.0/24" && tc lookup 2001:db8:1::5 | grep -q "BLOCK by 2001:db8::/32" && tc lookup 203.0.113.7 >/dev/null && [ "$(rc tc lookup 203.0.113.8)" = 1 ]'
t "csv: category and severity from the line" 'tc lookup c2.example | grep -q "category c2, action none, severity 9, expires 2099-01-01T00:00:00Z"'
t "--category gives the default category" 'tc lookup www.evil.example | grep -q "feed dom, category malware"'
t "lookup of nonsense: exit 1 with a message" \
  'out=$(tc lookup "a..b" 2>&1); [ $? = 1 ] && echo "$out" | grep -q "neither a domain name nor"'

# --- the lookup rules
t "allow beats block (adblock @@)" \
  'out=$(tc lookup www.good.adblock.example); echo "$out"; echo "$out" | grep -q "^www.good.adblock.example: ALLOW by good.adblock.example" && echo "$out" | grep -q "rule: allow beats block" && echo "$out" | grep -q "block adblock.example (and subdomains).*overridden: allow beats block"'
t "allow beats block for addresses (rpz-passthru on rpz-ip)" \
  'tc lookup 192.0.2.5 | grep -q "ALLOW by 192.0.2.5/32"'
cat >"$TD/rules-sub.txt" <<'EOF'
*.r.example
deep.l.example
l.example
EOF
printf '0.0.0.0 x.r.example\n' >"$TD/rules-exact.txt"
tc import --feed rules-sub --format domains --category cat-sub "$TD/rules-sub.txt" >/dev/null
tc import --feed rules-exact --format hosts --category cat-exact "$TD/rules-exact.txt" >/dev/null
t "an exact entry beats a subdomains entry" \
  'out=$(tc lookup x.r.example); echo "$out"; echo "$out" | grep -q "BLOCK by x.r.example (exact)" && echo "$out" | grep -q "category cat-exact" && echo "$out" | grep -q "the entry at the name itself beats its parents"'
t "the subdomains entry still covers the other names" 'tc lookup y.r.example | grep -q "category cat-sub"'
t "the longest match wins" \
  'out=$(tc lookup a.deep.l.example); echo "$out"; echo "$out" | grep -q "BLOCK by deep.l.example" && echo "$out" | grep -q "longest matching parent wins" && echo "$out" | grep -q "l.example (and subdomains).*overridden: a longer match wins"'
# expiry has a resolution of one second: start just after a second ticks
next_second() { python3 -c 'import time; time.sleep(1.02 - time.time() % 1)'; }
t "expiry: --expires 1s matches, then not after 2 s" \
  'next_second && tc import --feed exp --format domains --expires 1s - <<<"soon.example" >/dev/null && tc lookup soon.example >/dev/null && sleep 2 && [ "$(rc tc lookup soon.example)" = 1 ]'
t "lookup lists the expired entry as such" \
  '{ tc lookup soon.example || true; } | grep -q "block soon.example (and subdomains);.*\[expired\]$"'
t "gc drops the expired entry and says how many" \
  'tc gc | grep -qx "gc: removed 1 expired entry" && tc feeds | grep -qE "^exp +0 " && tc gc | grep -qx "gc: removed 0 expired entries"'

# --- --strict and --allow-broad
t "--strict rejects the whole feed and writes nothing" \
  'out=$(tc import --feed strict --strict --format domains "$TD/domains.txt" 2>&1); [ $? = 1 ] && echo "$out" | grep -q "nothing imported (--strict)" && ! tc feeds | grep -q "^strict "'
t "--strict on an existing feed keeps the old entries" \
  'before=$(tc feeds | grep "^dom "); printf "new.example\nbad..x\n" >"$TD/strict2.txt"; [ "$(rc tc import --feed dom --strict --format domains "$TD/strict2.txt")" = 1 ] && [ "$(tc feeds | grep "^dom ")" = "$before" ] && [ "$(rc tc lookup new.example)" = 1 ]'
t "a top-level domain needs --allow-broad" \
  'out=$(tc import --feed broad --format domains - <<<"com" 2>&1); [ $? = 1 ] && echo "$out" | grep -q "needs --allow-broad" && [ "$(rc tc lookup example.com)" = 1 ]'
t "the root needs --allow-broad" \
  '[ "$(rc tc import --feed broad --format domains - <<<".")" = 1 ] && [ "$(rc tc import --feed broad --format cidr - <<<"0.0.0.0/0")" = 1 ]'
t "with --allow-broad the TLD and the root are accepted" \
  'printf "com\n.\n" | tc import --feed broad --allow-broad --format domains - | grep -q "^feed broad: 2 entries" && tc lookup www.example.com | grep -q "BLOCK by com" && tc lookup example.net | grep -q "BLOCK by . (and subdomains)"'
t "remove drops the feed and its entries" \
  'tc remove --feed broad | grep -qx "removed feed broad (2 entries)" && [ "$(rc tc lookup example.net)" = 1 ] && ! tc feeds | grep -q "^broad "'
t "remove of an unknown feed: exit 1" \
  'out=$(tc remove --feed broad 2>&1); [ $? = 1 ] && echo "$out" | grep -q "no feed named .broad."'

# --- exports
t "export rpz: a zone with SOA and NS that ldns reads" \
  'tc export --format rpz --origin rpz.example.net >"$TD/x.rpz" && grep -q "^\$ORIGIN rpz.example.net.$" "$TD/x.rpz" && grep -qE "^@ SOA " "$TD/x.rpz" && grep -qE "^@ NS " "$TD/x.rpz" && grep -qx "32.5.2.0.192.rpz-ip CNAME rpz-passthru." "$TD/x.rpz" && grep -qx "\*.sub.rpz.example CNAME \*." "$TD/x.rpz" && { ! command -v ldns-read-zone >/dev/null || ldns-read-zone "$TD/x.rpz" >/dev/null; }'
t "export rpz round trip: the same domains after re-import" \
  'tcx "$TD/db2" import --feed back --format rpz "$TD/x.rpz" >/dev/null && tc export --format domains | grep -v "^#" >"$TD/d1" && tcx "$TD/db2" export --format domains | grep -v "^#" >"$TD/d2" && [ -s "$TD/d1" ] && diff "$TD/d1" "$TD/d2"'
t "export rpz round trip: the same triggers after re-import" \
  'tc export --format rpz | grep -v "^[;@\$]" >"$TD/r1" && tcx "$TD/db2" export --format rpz | grep -v "^[;@\$]" >"$TD/r2" && [ "$(wc -l <"$TD/r1")" -gt 15 ] && diff "$TD/r1" "$TD/r2"'
t "export domains: subtree, *.below, exact as listed" \
  'grep -qx "evil.example" "$TD/d1" && grep -qx "\*.wild.example" "$TD/d1" && grep -qx "ads.example" "$TD/d1" && ! grep -q "good.adblock.example" "$TD/d1"'
t "export --feed: only that feed" \
  '[ "$(tc export --format domains --feed hosts | grep -v "^#" | sort | tr "\n" " ")" = "ads.example tracker.example " ]'
t "export of an unknown feed: exit 1, nothing written" \
  '[ -z "$(tc export --format domains --feed nope 2>/dev/null)" ] && [ "$(rc tc export --format domains --feed nope)" = 1 ]'
t "export nft: block prefixes minus allow prefixes, merged" \
  'tc export --format nft >"$TD/x.nft" && grep -qx "	192.0.2.4," "$TD/x.nft" && grep -qx "	192.0.2.6/31," "$TD/x.nft" && grep -qx "	192.0.2.0/30," "$TD/x.nft" && ! grep -q "192.0.2.0/24" "$TD/x.nft" && grep -qx "	198.51.100.0/25," "$TD/x.nft" && grep -qx "	2001:db8::/32," "$TD/x.nft" && grep -qx "	203.0.113.7," "$TD/x.nft"'
if command -v nft >/dev/null 2>&1; then
  t "export nft: nft -c parses it" 'nft -c -f "$TD/x.nft"'
else
  t "export nft: the file declares both interval sets" \
    'grep -q "type ipv4_addr" "$TD/x.nft" && grep -q "type ipv6_addr" "$TD/x.nft" && [ "$(grep -c "flags interval" "$TD/x.nft")" = 2 ]'
fi
t "export with bad options: exit 2" \
  '[ "$(rc tc export --format nft --origin x.example)" = 2 ] && [ "$(rc tc export --format zone)" = 2 ] && [ "$(rc tc export --format rpz --origin "a..b")" = 2 ]'
t "stats counts names and prefixes" \
  'out=$(tc stats); echo "$out"; echo "$out" | grep -qE "^prefixes: +5 IPv4, 1 IPv6 \(1 allow\)" && echo "$out" | grep -qE "^format version: +1$"'

# --- atomic replacement under a reader: 200,000 old names or 150,000 new,
# never a mix and never an empty feed
seq 1 200000 | sed 's/^/old/; s/$/.atomic.example/' >"$TD/atomic-old.txt"
seq 1 150000 | sed 's/^/new/; s/$/.atomic.example/' >"$TD/atomic-new.txt"
atomic_reader() {
  local i
  for i in $(seq 1 3000); do
    [ -e "$TD/atomic.stop" ] && break
    tc export --format domains --feed atomic |
      awk '/^old/ { o++ } /^new/ { n++ } END { print o + 0, n + 0 }'
  done >"$TD/atomic.seen"
}
t "atomic replacement: a reader sees the old feed or the new, never half" \
  'tc import --feed atomic --format domains "$TD/atomic-old.txt" >/dev/null &&
   rm -f "$TD/atomic.stop" && { atomic_reader & rpid=$!; } &&
   for f in new old new old new; do
     tc import --feed atomic --format domains "$TD/atomic-$f.txt" >/dev/null || { touch "$TD/atomic.stop"; wait $rpid; exit 1; }
   done;
   touch "$TD/atomic.stop"; wait $rpid;
   sort "$TD/atomic.seen" | uniq -c;
   [ "$(wc -l <"$TD/atomic.seen")" -ge 5 ] && ! grep -vxE "200000 0|0 150000" "$TD/atomic.seen" && grep -qx "0 150000" "$TD/atomic.seen"'

# --- kill -9 in the middle of a 1,000,000-line import
cat >"$TD/killer.py" <<'EOF'
# Start an import, SIGKILL it once data.mdb has grown by 8 MiB (the
# commit is writing its pages), print what happened.
import os, subprocess, sys, time
data = os.path.join(sys.argv[1], "data.mdb")
base = os.stat(data).st_size
p = subprocess.Popen(sys.argv[2:], stdout=subprocess.DEVNULL,
                     stderr=subprocess.DEVNULL)
deadline, state = time.monotonic() + 120, "finished"
while p.poll() is None:
    if os.stat(data).st_size - base > 8 << 20:
        p.kill()
        state = "killed-writing"
        break
    if time.monotonic() > deadline:
        p.kill()
        state = "timeout"
        break
    time.sleep(0.0002)
p.wait()
print(state, p.returncode)
EOF
timeout 120 python3 "$SRC/bench/gen_feed.py" "$TD/gen" -n 1000000 --prefixes 10 >/dev/null 2>&1
K=$TD/kdb
t "kill -9 while a 1,000,000-line import writes: the old state stays" \
  '[ "$(wc -l <"$TD/gen/names.txt")" = 1000000 ] &&
   for try in 1 2 3; do
     # a fresh database each time, so that the import must grow the file
     rm -rf "$K" && tcx "$K" import --feed big --format domains - <<<"before.example" >/dev/null || exit 1
     before=$(tcx "$K" feeds | grep "^big ")
     res=$(timeout 150 python3 "$TD/killer.py" "$K" "$THREATCTL" -d "$K" import --feed big --format domains --allow-broad "$TD/gen/names.txt")
     echo "try $try: $res"
     [ "$res" = "finished 0" ] || break   # else too quick to catch: again
   done &&
   [ "$res" = "killed-writing -9" ] &&
   [ "$(tcx "$K" feeds | grep "^big ")" = "$before" ] &&
   [ "$(tcx "$K" export --format domains | grep -v "^#")" = before.example ]'
t "after the kill the database is usable: the import then succeeds" \
  'tcx "$K" import --feed big --format domains --allow-broad "$TD/gen/names.txt" | grep -q "^feed big: 1000000 entries" && tcx "$K" lookup "$(sed -n 12345p "$TD/gen/names.txt" | sed "s/^\*\./x./")" >/dev/null && [ "$(rc tcx "$K" lookup before.example)" = 1 ]'

# the big files are not worth keeping (about 150 MB)
rm -rf "$TD/gen" "$K" "$TD/atomic-old.txt" "$TD/atomic-new.txt"

#!/usr/bin/env python3
"""Deterministic feeds and query mix for bench/run.sh (standard library only).

Usage: bench_data.py --fakenet DIR --out DIR [-n 1000000] [--seed 7] [--queries 100000]

Reads DIR/names.txt of the fake internet (tests/fakenet: "name TYPE" lines that
resolve) and writes into --out:

  feed1.txt    n entries, one per line, from gen_feed.py's names(n, seed): "name"
               (imported with --exact: the name only) or "*.name" (the names
               below only).  Two entries are names that exist in the fake
               internet: PROBE (api.zone00.com, on both feeds: it answers NOERROR
               without the list and NXDOMAIN with it) and GONE (cdn.zone00.com,
               on feed1 only).
  feed2.txt    n entries: nine tenths of feed1 (every line whose index is not
               9 mod 10, PROBE kept, GONE dropped), NEW (mail.zone00.com) and
               fresh names from names(n, seed + 1) up to n.  Importing it over
               feed1 is the "replace the feed under load" step.
  queries.txt  dnsperf input ("name TYPE"), shuffled: 55 % names that resolve
               (every filler name of the fake internet but the three above),
               30 % blocked names (entries kept in feed2, so blocked before,
               during and after the replacement; a "*.name" entry is asked as
               www.name; 3/4 A, 1/4 AAAA), 15 % NXDOMAIN names (nxN.<filler
               zone> and nxN-bench.com/net/org, on neither feed).
  classes.tsv  name TAB ok|blocked|nx for every name of queries.txt.
  probe.txt    PROBE, GONE, NEW (one per line).
  info.txt     one line of counts.
"""
import argparse
import os
import random
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_feed import names as feed_names  # noqa: E402

PROBE, GONE, NEW = "api.zone00.com", "cdn.zone00.com", "mail.zone00.com"


def covered(name, entries):
    """True when an --exact import of entries blocks name."""
    if name in entries:
        return True
    labels = name.split(".")
    return any("*." + ".".join(labels[i:]) in entries for i in range(1, len(labels)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fakenet", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("-n", type=int, default=1000000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--queries", type=int, default=100000)
    a = ap.parse_args()
    if a.n < 1000:
        sys.exit("bench_data.py: -n must be at least 1000")
    with open(os.path.join(a.fakenet, "names.txt")) as f:
        ok = [l.split() for l in f if l.strip()]
    ok_names = {n for n, _ in ok}
    for must in (PROBE, GONE, NEW):
        if must not in ok_names:
            sys.exit(f"bench_data.py: {must} is not in {a.fakenet}/names.txt")
    ok = [(n, t) for n, t in ok if n not in (PROBE, GONE, NEW)]

    base = feed_names(a.n - 2, a.seed)
    feed1 = base + [PROBE, GONE]
    set1 = set(feed1)
    kept = [e for i, e in enumerate(base) if i % 10 != 9]
    feed2 = kept + [PROBE, NEW]
    set2 = set(feed2)
    for e in feed_names(a.n, a.seed + 1):
        if len(feed2) >= a.n:
            break
        if e not in set1 and e not in set2:
            feed2.append(e)
            set2.add(e)
    if len(feed2) != a.n:
        sys.exit("bench_data.py: could not fill feed2")

    rnd = random.Random(a.seed)
    nq_ok = a.queries * 55 // 100
    nq_bl = a.queries * 30 // 100
    nq_nx = a.queries - nq_ok - nq_bl
    for n, _ in ok:
        if covered(n, set1) or covered(n, set2):
            sys.exit(f"bench_data.py: {n} resolves but a feed lists it")
    # blocked: distinct kept entries, two thirds as many as blocked queries
    pool = rnd.sample(kept, min(len(kept), max(1, nq_bl * 2 // 3)))
    blocked = []
    for e in pool:
        q = "www." + e[2:] if e.startswith("*.") else e
        if len(q) <= 253:
            blocked.append(q)
    # NXDOMAIN: below filler zones, and nonexistent second-level domains
    zones = sorted({n.split(".", 1)[1] for n, _ in ok
                    if n.split(".", 1)[0] in ("www", "mail", "api", "cdn", "alias")})
    nx = []
    for i in range(max(1, nq_nx // 3)):
        q = (f"nx{i}.{zones[i % len(zones)]}" if i % 2 == 0
             else f"nx{i}-bench.{('com', 'net', 'org')[i % 3]}")
        if covered(q, set1) or covered(q, set2):
            continue
        nx.append(q)

    lines, classes = [], {}
    rnd.shuffle(ok)
    for i in range(nq_ok):
        n, t = ok[i % len(ok)]
        lines.append(f"{n} {t}")
        classes[n] = "ok"
    for i in range(nq_bl):
        n = blocked[i % len(blocked)]
        lines.append(f"{n} {'AAAA' if i % 4 == 3 else 'A'}")
        classes[n] = "blocked"
    for i in range(nq_nx):
        n = nx[i % len(nx)]
        lines.append(f"{n} A")
        classes[n] = "nx"
    rnd.shuffle(lines)

    os.makedirs(a.out, exist_ok=True)

    def write(name, rows):
        tmp = os.path.join(a.out, name + ".tmp")
        with open(tmp, "w") as f:
            f.write("\n".join(rows) + "\n")
        os.replace(tmp, os.path.join(a.out, name))

    write("feed1.txt", feed1)
    write("feed2.txt", feed2)
    write("classes.tsv", [f"{n}\t{c}" for n, c in sorted(classes.items())])
    write("probe.txt", [PROBE, GONE, NEW])
    write("queries.txt", lines)
    write("info.txt", [
        f"feed: n={a.n} seed={a.seed} (feed2: {len(kept) + 1} kept, {a.n - len(kept) - 1} new); "
        f"queries: {len(lines)} lines, {nq_ok} resolve ({len(ok)} distinct), {nq_bl} blocked "
        f"({len(blocked)} distinct), {nq_nx} NXDOMAIN ({len(nx)} distinct)"])


if __name__ == "__main__":
    main()

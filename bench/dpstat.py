#!/usr/bin/env python3
"""Figures from one dnsperf 2.10 output file, for bench/run.sh (standard library only).

Usage: dpstat.py FILE [--classes classes.tsv] [--late-ms 20]

Prints one line of key=value pairs:
  qps sent completed lost lost_pct avg_ms servfail noerror nxdomain
and, when FILE holds the per-query lines of dnsperf -v ("> RCODE name TYPE seconds"):
  n p50_ms p90_ms p99_ms p999_ms max_ms late (answers slower than --late-ms)
and, with --classes (name TAB ok|blocked|nx), wrong: answers whose rcode is not
the expected one (ok: NOERROR; blocked, nx: NXDOMAIN).  A key whose figure is
missing from the file is printed as "-".
"""
import argparse
import re


def pct(vals, p):
    if not vals:
        return "-"
    i = max(0, min(len(vals) - 1, int(len(vals) * p + 0.5) - 1))
    return "%.3f" % vals[i]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--classes")
    ap.add_argument("--late-ms", type=float, default=20.0)
    a = ap.parse_args()
    want = {}
    if a.classes:
        with open(a.classes) as f:
            for line in f:
                n, c = line.rstrip("\n").split("\t")
                want[n.lower()] = "NOERROR" if c == "ok" else "NXDOMAIN"
    out = {k: "-" for k in ("qps", "sent", "completed", "lost", "lost_pct", "avg_ms",
                            "servfail", "noerror", "nxdomain")}
    lat, wrong = [], 0
    with open(a.file, errors="replace") as f:
        for line in f:
            if line.startswith("> "):
                p = line.split()
                if len(p) >= 5:
                    try:
                        lat.append(float(p[-1]) * 1000)
                    except ValueError:
                        continue
                    if want and want.get(p[2].lower().rstrip(".")) not in (None, p[1]):
                        wrong += 1
                continue
            m = re.search(r"Queries per second:\s*([0-9.]+)", line)
            if m:
                out["qps"] = "%.0f" % float(m.group(1))
            m = re.search(r"Queries sent:\s*([0-9]+)", line)
            if m:
                out["sent"] = m.group(1)
            m = re.search(r"Queries completed:\s*([0-9]+)", line)
            if m:
                out["completed"] = m.group(1)
            m = re.search(r"Queries lost:\s*([0-9]+) \(([0-9.]+)%\)", line)
            if m:
                out["lost"], out["lost_pct"] = m.group(1), m.group(2)
            m = re.search(r"Average Latency \(s\):\s*([0-9.]+)", line)
            if m:
                out["avg_ms"] = "%.3f" % (float(m.group(1)) * 1000)
            if "Response codes:" in line:
                for rc in ("servfail", "noerror", "nxdomain"):
                    m = re.search(rc.upper() + r" ([0-9]+)", line)
                    out[rc] = m.group(1) if m else "0"
    if lat:
        s = sorted(lat)
        out.update(n=str(len(s)), p50_ms=pct(s, 0.50), p90_ms=pct(s, 0.90), p99_ms=pct(s, 0.99),
                   p999_ms=pct(s, 0.999), max_ms="%.3f" % s[-1],
                   late=str(sum(1 for v in s if v > a.late_ms)))
        if want:
            out["wrong"] = str(wrong)
    print(" ".join(f"{k}={v}" for k, v in out.items()))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""report.py RUNDIR: the Markdown tables of one bench/run.sh run, from RUNDIR/env.txt,
results.tsv, servers.tsv and replace.tsv (standard library only)."""
import csv
import os
import sys


def rows(d, name):
    p = os.path.join(d, name)
    if not os.path.exists(p):
        return []
    with open(p) as f:
        return list(csv.DictReader(f, delimiter="\t"))


def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def ratio(a, b, fmt="%.2f"):
    a, b = num(a), num(b)
    return fmt % (a / b) if a is not None and b else "–"


def n0(v):
    x = num(v)
    return "{:,}".format(int(round(x))) if x is not None else "–"


def main():
    d = sys.argv[1]
    env = open(os.path.join(d, "env.txt")).read().rstrip() if os.path.exists(os.path.join(d, "env.txt")) else ""
    res, srv, rep = rows(d, "results.tsv"), rows(d, "servers.tsv"), rows(d, "replace.tsv")
    by = {(r["server"], r["transport"]): r for r in res}
    out = ["```", env, "```", ""]
    lat_qps = res[0]["lat_qps"] if res else "?"
    out += ["### Throughput, latency, CPU per query", "",
            "QPS: median of the runs at the dnsperf setting with the highest QPS and < 1 % lost "
            "(cache hits, list hits and cached NXDOMAIN after the warm-up). Latency and server CPU: "
            f"a separate run at a fixed {lat_qps} QPS. Ratios are egressd / Unbound "
            "(QPS: higher is better for egressd; p99 and CPU per query: lower is better). "
            "The CPU per query splits into user and kernel (system) time; context switches are "
            "the server's, all threads, per query.", "",
            "| transport | server | QPS | min–max | lost % | -c/-q | QPS ratio | p50 ms | p99 ms | p99 ratio "
            "| server CPU % at fixed rate | CPU µs/query | CPU ratio | user µs | system µs | switches/query |",
            "|---|---|---:|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for tr in ("udp", "tcp", "dot", "doh"):
        for s in ("egressd", "unbound"):
            r = by.get((s, tr))
            if r is None:
                if s == "egressd" and ("unbound", tr) in by and any(x["server"] == "egressd" for x in srv):
                    out.append(f"| {tr} | egressd | not offered by this egressd build | | | | | | | | | | | | | |")
                continue
            u = by.get(("unbound", tr)) if s == "egressd" else None
            q = r["outstanding"] + ("" if r["rate"] == "-" else " -Q " + r["rate"])
            out.append(
                f"| {tr} | {s} | {n0(r['qps_median'])} | {n0(r['qps_min'])}–{n0(r['qps_max'])} | {r['lost_pct']} "
                f"| {r['clients']}/{q} | {ratio(r['qps_median'], u['qps_median']) if u else ''} "
                f"| {r['p50_ms']} | {r['p99_ms']} | {ratio(r['p99_ms'], u['p99_ms']) if u else ''} "
                f"| {r['cpu_pct_at_rate']} | {r['cpu_us_per_query']} "
                f"| {ratio(r['cpu_us_per_query'], u['cpu_us_per_query']) if u else ''} "
                f"| {r.get('user_us_per_query', '–')} | {r.get('sys_us_per_query', '–')} "
                f"| {r.get('ctxsw_per_query', '–')} |")
    out += ["", "### Start-up with the list, and memory", "",
            "ready: from exec until a name that resolves in the fake internet but is on the list "
            "is answered NXDOMAIN (polled every 20 ms); VmRSS 1 s later (egressd: file-backed = "
            "pages of the LMDB map touched so far). egressd's list is imported beforehand by threatctl "
            "(import column); Unbound parses the RPZ zone at start.", "",
            "| server | threads | pinning | entries | threatctl import s | ready with list s | ready ratio "
            "| VmRSS after load MB | of it file-backed MB | RSS ratio | VmRSS after bench MB | peak MB | answers (last warm pass) |",
            "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    sb = {r["server"]: r for r in srv}
    for r in srv:
        u = sb.get("unbound") if r["server"] == "egressd" else None
        out.append(
            f"| {r['server']} | {r['threads']} | {r['pinning']} | {n0(r['entries'])} | {r['import_s']} "
            f"| {r['ready_s']} | {ratio(r['ready_s'], u['ready_s'], '%.3f') if u else ''} | {r['rss_load_mb']} "
            f"| {r['rss_file_load_mb']} | {ratio(r['rss_load_mb'], u['rss_load_mb']) if u else ''} "
            f"| {r['rss_end_mb']} | {r['hwm_end_mb']} | {r['warm_check']} |")
    out += ["", "### The list replaced under load", "",
            "dnsperf over UDP at a fixed rate with every answer's rcode checked against the mix "
            "(blocked names are on both lists); the replacement starts a few seconds in. "
            "lost: no answer within 2 s; late: answered after more than the threshold in the "
            "settings line.", "",
            "| server | how | took s | QPS | sent | answered | lost | SERVFAIL | wrong rcode | late | p99 ms | max ms | check |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in rep:
        out.append(
            f"| {r['server']} | {r['method']} | {r['took_s']} | {n0(r['qps'])} | {n0(r['sent'])} "
            f"| {n0(r['completed'])} | {r['lost']} | {r['servfail']} | {r['wrong']} | {r['late']} "
            f"| {r['p99_ms']} | {r['max_ms']} | {r['check']} |")
    print("\n".join(out))


if __name__ == "__main__":
    main()

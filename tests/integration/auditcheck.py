#!/usr/bin/env python3
"""tests/integration/auditcheck.py -- check query log records and metrics text.

  auditcheck.py lines FILE          every line a valid record or loss line;
                                    prints the number of records
  auditcheck.py count FILE K=V...   records matching all K=V (V "null": null,
                                    a number compares as a number)
  auditcheck.py syslog FILE         FILE holds RFC 5424 messages (one per
                                    line): checks their header, writes the
                                    JSON of each to stdout
  auditcheck.py metrics FILE        every line a valid exposition line; prints
                                    the sum of egressd_queries_total
  auditcheck.py value FILE SERIES   the value of one series, e.g.
                                    'egressd_dnssec_total{result="secure"}'
Exit status 1 (with the reason on stdout) when a check fails.
"""
import json
import re
import sys

FIELDS = ["ts", "tenant", "client", "transport", "qname", "qtype", "rcode",
          "action", "reason", "category", "feed", "latency_us", "cache",
          "dnssec"]
TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
ENUMS = {
    "transport": {"udp", "tcp", "dot", "doh"},
    "action": {"pass", "redirect", "block", "log", "refuse"},
    "reason": {None, "qname", "cname", "ip", "geo", "internal", "canary",
               "bypass"},
    "cache": {None, "hit", "miss"},
    "dnssec": {None, "secure", "insecure", "bogus"},
}


def fail(msg):
    print(msg)
    sys.exit(1)


def check_record(line, where):
    try:
        r = json.loads(line)
    except ValueError as e:
        fail("%s: not JSON (%s): %r" % (where, e, line))
    if not isinstance(r, dict):
        fail("%s: not an object" % where)
    if r.get("event") == "records-lost":
        if list(r) != ["ts", "event", "count"] or not isinstance(r["count"], int) \
                or r["count"] <= 0 or not TS.match(r["ts"]):
            fail("%s: bad loss line %r" % (where, line))
        return None
    if list(r) != FIELDS:
        fail("%s: fields %s" % (where, list(r)))
    if not TS.match(r["ts"]):
        fail("%s: ts %r" % (where, r["ts"]))
    for k, allowed in ENUMS.items():
        if r[k] not in allowed:
            fail("%s: %s %r" % (where, k, r[k]))
    if not isinstance(r["latency_us"], int) or r["latency_us"] < 0:
        fail("%s: latency_us %r" % (where, r["latency_us"]))
    if r["qname"] is not None and r["qname"] != "." and r["qname"].endswith("."):
        fail("%s: trailing dot in %r" % (where, r["qname"]))
    if r["action"] == "pass" and r["reason"] is not None:
        fail("%s: pass with a reason" % where)
    return r


def records(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            if not line.endswith("\n"):
                fail("%s:%d: no newline at the end" % (path, i))
            r = check_record(line, "%s:%d" % (path, i))
            if r is not None:
                out.append(r)
    return out


def want(v):
    if v == "null":
        return None
    if re.fullmatch(r"-?\d+", v):
        return int(v)
    return v


SYSLOG = re.compile(r"^<134>1 (\S+) (\S+) egressd (\d+) (query|records-lost) - (\{.*\})$")

SERIES = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*"'
                    r'(,[a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*")*)?\})? '
                    r'(-?[0-9.e+]+|\+Inf|NaN)$')
META = re.compile(r"^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+$")


def metrics(path):
    vals = {}
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if META.match(line):
                continue
            m = SERIES.match(line)
            if not m:
                fail("%s:%d: not an exposition line: %r" % (path, i, line))
            key = line.rsplit(" ", 1)[0]
            if key in vals:
                fail("%s:%d: series given twice: %s" % (path, i, key))
            vals[key] = float(m.group(7))
    return vals


def main():
    cmd, path = sys.argv[1], sys.argv[2]
    if cmd == "lines":
        print(len(records(path)))
    elif cmd == "count":
        conds = [a.split("=", 1) for a in sys.argv[3:]]
        print(sum(1 for r in records(path)
                  if all(r.get(k) == want(v) for k, v in conds)))
    elif cmd == "syslog":
        with open(path, encoding="utf-8") as f:
            for i, line in enumerate(f, 1):
                m = SYSLOG.match(line.rstrip("\n"))
                if not m:
                    fail("%s:%d: not our RFC 5424 message: %r" % (path, i, line))
                if not TS.match(m.group(1)):
                    fail("%s:%d: timestamp %r" % (path, i, m.group(1)))
                check_record(m.group(5), "%s:%d" % (path, i))
                print(m.group(5))
    elif cmd == "metrics":
        v = metrics(path)
        print(int(sum(x for k, x in v.items()
                      if k.startswith("egressd_queries_total"))))
    elif cmd == "value":
        v = metrics(path)
        if sys.argv[3] not in v:
            fail("no series %s" % sys.argv[3])
        print(int(v[sys.argv[3]]))
    else:
        fail("unknown command " + cmd)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Deterministic synthetic threat feed for bench/tdb_bench.

Usage: gen_feed.py OUTDIR [-n 1000000] [--seed 7] [--prefixes 100000]

Writes into OUTDIR:
  names.txt  N distinct names, one per line: phishing word combinations,
             pronounceable and random DGA labels, hex labels and listed
             hosts under registered-looking domains, across ~75 TLDs
             (weighted like real block lists).  A quarter of the lines are
             "*.name" (the subdomains of name, not name itself); the rest
             are the name alone.
  cidr.txt   P prefixes, 5/6 IPv4 (/16../32), 1/6 IPv6 (/32../128).
Same seed, same files (Python's random is stable across versions for
these calls).  Standard library only.
"""
import argparse
import os
import random

WORDS = """account activate admin alert apple amazon appleid auth bank billing
bonus business cash center check claim client cloud confirm connect crypto
customer dashboard delivery dhl docs document drive dropbox email error express
fedex file finance free gift global help id info invoice item login mail manage
member microsoft mobile my net netflix news notice office online order outlook
package pay paypal payment portal prize promo protect recover refund register
renew reset review safe secure security service session shop sign signin site
smart support sync team ticket track update upgrade user validate verify wallet
web webmail win office365 icloud steam wells chase coinbase binance metamask
ledger trust unlock unusual suspend limited access token""".split()
TLDS = [("com", 250), ("net", 60), ("org", 40), ("xyz", 60), ("top", 60),
        ("info", 40), ("ru", 40), ("cn", 30), ("tk", 30), ("ml", 20),
        ("ga", 20), ("cf", 20), ("gq", 20), ("io", 20), ("co", 20),
        ("biz", 20), ("online", 30), ("site", 30), ("club", 20), ("live", 20),
        ("shop", 20), ("icu", 20), ("buzz", 10), ("click", 10), ("link", 10),
        ("work", 10), ("pw", 10), ("cc", 10), ("su", 10), ("ws", 10),
        ("me", 10), ("us", 10), ("in", 10), ("de", 10), ("co.uk", 10),
        ("com.br", 10), ("fun", 10), ("space", 10), ("store", 10),
        ("website", 10), ("app", 10), ("dev", 5), ("cloud", 10), ("rest", 5),
        ("monster", 5), ("cyou", 10), ("sbs", 10), ("cfd", 10), ("bond", 5),
        ("quest", 5), ("lol", 5), ("vip", 10), ("win", 5), ("bid", 5),
        ("loan", 5), ("date", 5), ("party", 5), ("review", 5), ("stream", 5),
        ("download", 5), ("racing", 5), ("men", 5), ("kim", 5),
        ("science", 5), ("gdn", 5), ("tokyo", 5), ("pl", 10), ("ir", 5),
        ("ua", 5), ("kz", 5), ("by", 5), ("com.cn", 5), ("net.ru", 5),
        ("org.uk", 5), ("cam", 5)]
CONS, VOW = "bcdfghjklmnprstvwxz", "aeiouy"
HOSTS = ("login", "secure", "update", "cdn", "mail", "api", "www", "account",
         "verify")


def label(rnd):
    r = rnd.random()
    if r < 0.35:
        k = rnd.choice((2, 2, 3, 3, 4))
        s = rnd.choice(("-", "", "-")).join(rnd.choice(WORDS) for _ in range(k))
        return s + (str(rnd.randint(1, 9999)) if rnd.random() < 0.3 else "")
    if r < 0.6:
        return "".join(rnd.choice(CONS) + rnd.choice(VOW)
                       for _ in range(rnd.randint(3, 8)))
    if r < 0.75:
        return "".join(rnd.choice("abcdefghijklmnopqrstuvwxyz0123456789")
                       for _ in range(rnd.randint(8, 20)))
    if r < 0.85:
        return "%x" % rnd.getrandbits(rnd.choice((32, 40, 48, 64)))
    return (rnd.choice(HOSTS) + "." + rnd.choice(WORDS) + rnd.choice(("-", ""))
            + rnd.choice(WORDS) + str(rnd.randint(1, 999)))


def names(n, seed):
    rnd = random.Random(seed)
    pop = [t for t, w in TLDS for _ in range(w)]
    seen, out = set(), []
    while len(out) < n:
        d = label(rnd)[:63] + "." + rnd.choice(pop)
        if d in seen or len(d) > 240:
            continue
        seen.add(d)
        out.append(("*." if len(out) % 4 == 3 else "") + d)
    rnd.shuffle(out)
    return out


def prefixes(n, seed):
    rnd = random.Random(seed + 1)
    out = []
    for i in range(n):
        if i % 6 == 5:
            plen = rnd.choice((32, 48, 56, 64, 64, 128))
            a = (0x2001 << 112) | rnd.getrandbits(112)
            a &= ((1 << 128) - 1) ^ ((1 << (128 - plen)) - 1)
            h = "%032x" % a
            out.append(":".join(h[j:j + 4] for j in range(0, 32, 4))
                       + "/%d" % plen)
        else:
            plen = rnd.choice((16, 20, 24, 24, 24, 28, 32, 32, 32, 32))
            a = rnd.getrandbits(32)
            a &= 0xffffffff ^ ((1 << (32 - plen)) - 1)
            out.append("%d.%d.%d.%d/%d" % (a >> 24, a >> 16 & 255, a >> 8 & 255,
                                           a & 255, plen))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("-n", type=int, default=1000000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--prefixes", type=int, default=100000)
    a = ap.parse_args()
    os.makedirs(a.outdir, exist_ok=True)
    with open(os.path.join(a.outdir, "names.txt"), "w") as f:
        f.write("\n".join(names(a.n, a.seed)) + "\n")
    with open(os.path.join(a.outdir, "cidr.txt"), "w") as f:
        f.write("\n".join(prefixes(a.prefixes, a.seed)) + "\n")


if __name__ == "__main__":
    main()

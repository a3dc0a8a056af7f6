#!/usr/bin/env python3
"""dotprobe.py -- DNS-over-TLS clients that kdig cannot be: pipelining with
EDNS options, silent and plain-text clients, connection caps, a connection
held open across a reload.  Standard library only; every socket has a
timeout, so each probe ends by itself.  CA is the PEM file that signed the
server certificate; the server name checked is dns.test.

  dotprobe.py pipeline HOST PORT CA NAME...   all queries at once on one TLS
                                              connection: "answered N order ID,..."
  dotprobe.py edns HOST PORT CA [pad|keepalive|both|none]
                                              one query with those EDNS options
                                              (CA "-": plain TCP):
                                              "len L keepalive V|- padding P|-"
  dotprobe.py silent HOST PORT SECONDS        TCP connect, no handshake:
                                              "closed AFTER" or "open"
  dotprobe.py plaintext HOST PORT             a plain DNS query on the TLS port:
                                              "closed" or "answered"
  dotprobe.py cap HOST PORT CA N              N idle TLS connections, then a query
                                              on a new one: "closed K answered 0|1"
  dotprobe.py hold HOST PORT CA NAME FILE     query, then every 0.5 s until FILE
                                              exists (max 30 s), then once more, all
                                              on one connection: "first RCODE
                                              meanwhile OK failed N second RCODE"
  dotprobe.py cert HOST PORT CA               the serial of the server certificate
  dotprobe.py flood HOST PORT N SECONDS PID   open up to N TCP connections, hold them
                                              SECONDS, close them: "opened K cpu MS"
                                              (CPU time PID used meanwhile)
  dotprobe.py resume HOST PORT CA SRC [CERT KEY]
                                              from address SRC (with that client
                                              certificate): query, reconnect with the
                                              session, query: "first RCODE reused
                                              yes|no second RCODE"
"""
import os
import socket
import ssl
import struct
import sys
import time

RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}


def query(name, qid, qtype=1, options=b""):
    wire = b"".join(bytes([len(l)]) + l.encode() for l in name.rstrip(".").split(".")) + b"\0"
    ar = 1 if options is not None else 0
    msg = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, ar) + wire + struct.pack(">HH", qtype, 1)
    if options is not None:
        msg += b"\0" + struct.pack(">HHIH", 41, 1232, 0, len(options)) + options
    return msg


def rcode(msg):
    return RCODES.get(msg[3] & 0x0F, str(msg[3] & 0x0F)) if len(msg) >= 12 else "short"


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError
        buf += chunk
    return buf


def recv_msg(s):
    (n,) = struct.unpack(">H", recv_exact(s, 2))
    return recv_exact(s, n)


def send_msg(s, msg):
    s.sendall(struct.pack(">H", len(msg)) + msg)


def tcp(host, port, timeout=10.0):
    return socket.create_connection((host, int(port)), timeout=timeout)


def tls(host, port, ca, timeout=10.0, src=None, cert=None, key=None, ctx=None,
        session=None):
    if ctx is None:
        ctx = ssl.create_default_context(cafile=ca)
        ctx.set_alpn_protocols(["dot"])
        if cert:
            ctx.load_cert_chain(cert, key)
    raw = socket.create_connection((host, int(port)), timeout=timeout,
                                   source_address=(src, 0) if src else None)
    return ctx.wrap_socket(raw, server_hostname="dns.test", session=session)


def skip_name(m, pos):
    while True:
        n = m[pos]
        if n & 0xC0 == 0xC0:
            return pos + 2
        pos += 1 + n
        if n == 0:
            return pos


def edns_options(m):
    """{code: value} of the OPT record of a response."""
    qd, an, ns, ar = struct.unpack(">HHHH", m[4:12])
    pos = 12
    for _ in range(qd):
        pos = skip_name(m, pos) + 4
    opts = {}
    for i in range(an + ns + ar):
        pos = skip_name(m, pos)
        rtype, _, _, rdlen = struct.unpack(">HHIH", m[pos:pos + 10])
        pos += 10
        if rtype == 41:
            p, end = pos, pos + rdlen
            while p + 4 <= end:
                code, olen = struct.unpack(">HH", m[p:p + 4])
                opts[code] = m[p + 4:p + 4 + olen]
                p += 4 + olen
        pos += rdlen
    return opts


def main(argv):
    cmd, host, port = argv[1], argv[2], int(argv[3])
    if cmd == "pipeline":
        names = argv[5:]
        s = tls(host, port, argv[4], timeout=30.0)
        s.sendall(b"".join(struct.pack(">H", len(q)) + q
                           for q in (query(n, i + 1, options=None) for i, n in enumerate(names))))
        order = []
        try:
            for _ in names:
                order.append(struct.unpack(">H", recv_msg(s)[:2])[0])
        except (socket.timeout, EOFError):
            pass
        print("answered %d order %s" % (len(order), ",".join(map(str, order))))
    elif cmd == "edns":
        want = argv[5] if len(argv) > 5 else "both"
        opts = b""
        if want in ("keepalive", "both"):
            opts += struct.pack(">HH", 11, 0)
        if want in ("pad", "both"):
            opts += struct.pack(">HH", 12, 20) + bytes(20)
        s = tcp(host, port) if argv[4] == "-" else tls(host, port, argv[4])
        send_msg(s, query("www.alpha.com", 7, options=opts))
        m = recv_msg(s)
        o = edns_options(m)
        ka = str(struct.unpack(">H", o[11])[0]) if 11 in o and len(o[11]) == 2 else "-"
        pad = str(len(o[12])) if 12 in o else "-"
        print("len %d keepalive %s padding %s rcode %s" % (len(m), ka, pad, rcode(m)))
    elif cmd == "silent":
        s = socket.create_connection((host, port), timeout=float(argv[4]))
        t0 = time.monotonic()
        try:
            data = s.recv(1)
            print("closed %.1f" % (time.monotonic() - t0) if not data else "data")
        except socket.timeout:
            print("open")
        except ConnectionResetError:
            print("closed %.1f" % (time.monotonic() - t0))
    elif cmd == "plaintext":
        s = socket.create_connection((host, port), timeout=5.0)
        send_msg(s, query("www.alpha.com", 9, options=None))
        try:
            # A TLS alert reads as a huge length (0x1503) and then EOF.
            print("answered %s" % rcode(recv_msg(s)))
        except (EOFError, ConnectionResetError, socket.timeout, struct.error):
            print("closed")
    elif cmd == "cap":
        n = int(argv[5])
        conns = []
        for _ in range(n):
            conns.append(tls(host, port, argv[4]))
            time.sleep(0.05)
        time.sleep(0.3)
        answered = 0
        try:
            s = tls(host, port, argv[4])
            send_msg(s, query("www.alpha.com", 1, options=None))
            answered = 1 if rcode(recv_msg(s)) == "NOERROR" else 0
        except (OSError, EOFError):
            pass
        closed = 0
        for c in conns:
            c.settimeout(0.5)
            try:
                if c.recv(1) == b"":
                    closed += 1
            except socket.timeout:
                pass
            except (OSError, ssl.SSLError):
                closed += 1
        print("closed %d answered %d" % (closed, answered))
    elif cmd == "hold":
        s = tls(host, port, argv[4])
        send_msg(s, query(argv[5], 1, options=None))
        first = rcode(recv_msg(s))
        print("first %s" % first, end=" ", flush=True)
        # a query every 0.5 s (within any idle timeout) until FILE exists
        deadline = time.monotonic() + 30
        ok = failed = 0
        qid = 2
        while not os.path.exists(argv[6]) and time.monotonic() < deadline:
            try:
                send_msg(s, query(argv[5], qid, options=None))
                qid += 1
                if rcode(recv_msg(s)) == "NOERROR":
                    ok += 1
                else:
                    failed += 1
            except (OSError, EOFError):
                failed += 1
                break
            time.sleep(0.5)
        print("meanwhile %d failed %d" % (ok, failed), end=" ", flush=True)
        try:
            send_msg(s, query(argv[5], qid, options=None))
            print("second %s" % rcode(recv_msg(s)))
        except (OSError, EOFError) as e:
            print("second failed (%s)" % e)
    elif cmd == "resume":
        ctx = ssl.create_default_context(cafile=argv[4])
        ctx.set_alpn_protocols(["dot"])
        if len(argv) > 7:
            ctx.load_cert_chain(argv[6], argv[7])
        s = tls(host, port, None, src=argv[5], ctx=ctx)
        send_msg(s, query("www.alpha.com", 1, options=None))
        first = rcode(recv_msg(s))
        sess = s.session
        s.close()
        s = tls(host, port, None, src=argv[5], ctx=ctx, session=sess)
        send_msg(s, query("www.alpha.com", 2, options=None))
        print("first %s reused %s second %s" % (first, "yes" if s.session_reused else "no",
                                                rcode(recv_msg(s))))
    elif cmd == "flood":
        def cpu_ms(pid):
            f = open("/proc/%s/stat" % pid).read().rsplit(")", 1)[1].split()
            return (int(f[11]) + int(f[12])) * 1000 // os.sysconf("SC_CLK_TCK")
        conns = []
        for _ in range(int(argv[4])):
            try:
                conns.append(socket.create_connection((host, port), timeout=2))
            except OSError:
                break
        t0 = cpu_ms(argv[6])
        time.sleep(float(argv[5]))
        used = cpu_ms(argv[6]) - t0
        for c in conns:
            c.close()
        print("opened %d cpu %d" % (len(conns), used))
    elif cmd == "cert":
        s = tls(host, port, argv[4])
        print("%x" % int(s.getpeercert()["serialNumber"], 16))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except (OSError, EOFError, ssl.SSLError) as e:
        print("error %s" % e)
        sys.exit(1)

#!/usr/bin/env python3
"""dnsprobe.py -- DNS clients that dig cannot be: malformed packets, pipelining,
idle and surplus TCP connections.  Standard library only; every socket has a
timeout, so each probe ends by itself.

  dnsprobe.py udp HOST PORT HEX          send raw bytes, print the rcode or "noanswer"
  dnsprobe.py tcp HOST PORT HEX          same over TCP (length prefix added)
  dnsprobe.py pipeline HOST PORT NAME... send every query at once on one TCP
                                         connection; print "answered N order ID,ID,..."
  dnsprobe.py idle HOST PORT SECONDS     connect, say nothing: print "closed AFTER" or "open"
  dnsprobe.py conncap HOST PORT N        open N idle connections, then query on the
                                         newest; print "closed K answered 0|1"
"""
import socket
import struct
import sys
import time

RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}


def query(name, qid, qtype=1):
    wire = b"".join(bytes([len(l)]) + l.encode() for l in name.rstrip(".").split(".")) + b"\0"
    return struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + wire + struct.pack(">HH", qtype, 1)


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


def tcp(host, port, timeout=5.0):
    s = socket.create_connection((host, int(port)), timeout=timeout)
    return s


def main(argv):
    cmd, host, port = argv[1], argv[2], int(argv[3])
    if cmd == "udp":
        s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(2.0)
        s.sendto(bytes.fromhex(argv[4]), (host, port))
        try:
            print(rcode(s.recvfrom(65535)[0]))
        except socket.timeout:
            print("noanswer")
    elif cmd == "tcp":
        s = tcp(host, port)
        data = bytes.fromhex(argv[4])
        s.sendall(struct.pack(">H", len(data)) + data)
        try:
            print(rcode(recv_msg(s)))
        except (socket.timeout, EOFError, ConnectionResetError):
            print("noanswer")
    elif cmd == "pipeline":
        names = argv[4:]
        s = tcp(host, port, timeout=30.0)
        s.sendall(b"".join(struct.pack(">H", len(q)) + q
                           for q in (query(n, i + 1) for i, n in enumerate(names))))
        order = []
        try:
            for _ in names:
                order.append(struct.unpack(">H", recv_msg(s)[:2])[0])
        except (socket.timeout, EOFError):
            pass
        print("answered %d order %s" % (len(order), ",".join(map(str, order))))
    elif cmd == "idle":
        s = tcp(host, port, timeout=float(argv[4]))
        t0 = time.monotonic()
        try:
            r = s.recv(1)
            print("closed %.1f" % (time.monotonic() - t0) if r == b"" else "data")
        except socket.timeout:
            print("open")
        except ConnectionResetError:
            print("closed %.1f" % (time.monotonic() - t0))
    elif cmd == "conncap":
        n = int(argv[4])
        conns = [tcp(host, port) for _ in range(n)]
        time.sleep(0.5)
        q = query("www.alpha.com", 77)
        last = conns[-1]
        answered = 0
        try:
            last.sendall(struct.pack(">H", len(q)) + q)
            answered = int(struct.unpack(">H", recv_msg(last)[:2])[0] == 77)
        except (socket.timeout, EOFError, ConnectionResetError):
            pass
        closed = 0
        for c in conns[:-1]:
            c.settimeout(0.2)
            try:
                closed += c.recv(1) == b""
            except socket.timeout:
                pass
            except ConnectionResetError:
                closed += 1
        print("closed %d answered %d" % (closed, answered))
    else:
        sys.exit("unknown probe " + cmd)


if __name__ == "__main__":
    main(sys.argv)

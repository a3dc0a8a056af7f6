#!/usr/bin/env python3
"""tests/integration/sysloglisten.py -- a SIEM stand-in: a syslog collector
over TCP (optionally TLS) that reads RFC 6587 octet-counted frames.

  sysloglisten.py PORT OUTFILE SECONDS [--tls CERT KEY]

Appends every message (one per line) to OUTFILE; a frame that breaks the
framing is written as "BADFRAME ..." and its connection closed. Listens on
127.0.0.1 for at most SECONDS, then exits.
"""
import selectors
import socket
import ssl
import sys
import time


def main():
    port, out, seconds = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
    ctx = None
    if len(sys.argv) > 4 and sys.argv[4] == "--tls":
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(sys.argv[5], sys.argv[6])
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(8)
    ls.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(ls, selectors.EVENT_READ, None)
    bufs = {}
    deadline = time.monotonic() + seconds
    with open(out, "a", buffering=1) as f:
        while time.monotonic() < deadline:
            for key, _ in sel.select(timeout=0.2):
                if key.data is None:
                    try:
                        c, _ = ls.accept()
                    except OSError:
                        continue
                    if ctx:
                        try:
                            c.settimeout(5)
                            c = ctx.wrap_socket(c, server_side=True)
                        except (ssl.SSLError, OSError) as e:
                            f.write("TLSFAIL %s\n" % e)
                            c.close()
                            continue
                    c.setblocking(False)
                    bufs[c] = b""
                    sel.register(c, selectors.EVENT_READ, "conn")
                    continue
                c = key.fileobj
                try:
                    data = c.recv(65536)
                except (ssl.SSLWantReadError, BlockingIOError):
                    continue
                except OSError:
                    data = b""
                if not data:
                    sel.unregister(c)
                    c.close()
                    bufs.pop(c, None)
                    continue
                buf = bufs[c] + data
                while True:
                    sp = buf.find(b" ")
                    if sp < 0:
                        break
                    if not buf[:sp].isdigit() or sp > 9:
                        f.write("BADFRAME %r\n" % buf[:40])
                        buf = None
                        break
                    n = int(buf[:sp])
                    if len(buf) < sp + 1 + n:
                        break
                    msg = buf[sp + 1:sp + 1 + n]
                    f.write(msg.decode("utf-8", "backslashreplace") + "\n")
                    buf = buf[sp + 1 + n:]
                if buf is None:
                    sel.unregister(c)
                    c.close()
                    bufs.pop(c, None)
                else:
                    bufs[c] = buf


if __name__ == "__main__":
    main()

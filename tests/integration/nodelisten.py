#!/usr/bin/env python3
"""nodelisten.py -- a stand-in security node for the health-check tests: accept TCP and close.

Usage: nodelisten.py ADDRESS PORT SECONDS
Listens on ADDRESS:PORT (loopback only: 127.0.0.0/8 or ::1), accepts every
connection and closes it at once, and exits after SECONDS (so a forgotten
one never outlives the test run) or on SIGTERM.  Prints "listening" once
the socket is bound, so the caller can wait for it.
"""
import ipaddress
import signal
import socket
import sys
import time


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: nodelisten.py ADDRESS PORT SECONDS")
    addr, port, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    if not ipaddress.ip_address(addr).is_loopback:
        sys.exit(f"nodelisten.py: {addr} is not a loopback address")
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(64)
    s.settimeout(0.2)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print("listening", flush=True)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            c, _ = s.accept()
            c.close()
        except socket.timeout:
            pass
        except ConnectionError:
            pass


if __name__ == "__main__":
    main()

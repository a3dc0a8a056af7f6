#!/usr/bin/env python3
# tests/integration/dohprobe.py -- an HTTP/2 client (python3-h2) for the DoH checks
# that curl and nghttp cannot make: every error status, the SETTINGS the
# server sends, many streams at once, rapid reset, a body that never ends.
# No h2spec exists in Debian; these are the conformance-ish checks.
#
#   dohprobe.py [--host H] [--port P] [--ca CA] [--sni NAME] COMMAND ...
#     req METHOD PATH [--ct TYPE] [--accept TYPE] [--body-hex HEX]
#         [--body-size N] [--no-length]
#         prints "status N", "header NAME: VALUE" lines, then "body HEX"
#         or "text BODY"
#     settings           prints the server's SETTINGS as "NAME VALUE"
#     streams [--early] N PATH
#                        opens N GET streams at once; prints "answered A",
#                        "refused R", "max_concurrent M", "peak P" (most
#                        streams open at once); --early sends them all
#                        before reading the server's SETTINGS
#     rapid-reset N PATH HEADERS+RST_STREAM N times; prints "goaway CODE"
#                        (or "goaway none") and "sent K"
#     slow-body PATH     POST announcing 100 bytes, sends 10 and waits;
#                        prints "reset CODE after S" or "status N"
#     raw [--preface] HEX  sends HEX (after the client preface and an
#                        empty SETTINGS with --preface); prints "goaway CODE"
#     idle SECS          says nothing; prints "goaway CODE after S",
#                        "closed after S" or "nothing after S"
# Every wait is bounded; exit 2 on connection errors.
import argparse
import socket
import ssl
import sys
import time

import h2.config
import h2.connection
import h2.events
import h2.settings

Q_ALPHA = bytes.fromhex('0000010000010000000000000377777705616c70686103636f6d0000010001')


def connect(a):
    ctx = ssl.create_default_context(cafile=a.ca)
    ctx.set_alpn_protocols(['h2'])
    raw = socket.create_connection((a.host, a.port), timeout=10)
    s = ctx.wrap_socket(raw, server_hostname=a.sni)
    if s.selected_alpn_protocol() != 'h2':
        print('alpn', s.selected_alpn_protocol())
        sys.exit(2)
    c = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True,
                                                             header_encoding='utf-8'))
    c.initiate_connection()
    s.sendall(c.data_to_send())
    return s, c


def pump(s, c, timeout):
    """Read once (up to timeout s); return the events, [] on timeout,
    None when the server closed."""
    s.settimeout(timeout)
    try:
        data = s.recv(65536)
    except socket.timeout:
        return []
    except (ConnectionResetError, ssl.SSLError, OSError):
        return None
    if not data:
        return None
    try:
        ev = c.receive_data(data)
    except Exception as e:  # a protocol error on the server's side
        print('h2error', type(e).__name__)
        return None
    out = c.data_to_send()
    if out:
        try:
            s.sendall(out)
        except OSError:
            pass
    return ev


def headers(a, method, path, extra=()):
    return [(':method', method), (':scheme', 'https'),
            (':authority', a.sni), (':path', path)] + list(extra)


def cmd_req(a, s, c):
    extra = []
    if a.ct:
        extra.append(('content-type', a.ct))
    if a.accept:
        extra.append(('accept', a.accept))
    body = b''
    if a.body_hex is not None:
        body = bytes.fromhex(a.body_hex)
    elif a.body_size is not None:
        body = Q_ALPHA + b'\0' * (a.body_size - len(Q_ALPHA))
    if body and not a.no_length:
        extra.append(('content-length', str(len(body))))
    sid = c.get_next_available_stream_id()
    c.send_headers(sid, headers(a, a.method, a.path, extra), end_stream=not body)
    s.sendall(c.data_to_send())
    sent = 0
    status, hdrs, resp, done, reset = None, [], b'', False, None
    deadline = time.time() + 15
    while not done and time.time() < deadline:
        # send what flow control allows; stop once answered
        while sent < len(body) and status is None:
            room = min(c.local_flow_control_window(sid), c.max_outbound_frame_size,
                       len(body) - sent)
            if room <= 0:
                break
            c.send_data(sid, body[sent:sent + room], end_stream=sent + room == len(body))
            sent += room
            s.sendall(c.data_to_send())
        ev = pump(s, c, 1)
        if ev is None:
            break
        for e in ev:
            if isinstance(e, h2.events.ResponseReceived) and e.stream_id == sid:
                for k, v in e.headers:
                    if k == ':status':
                        status = int(v)
                    else:
                        hdrs.append((k, v))
            elif isinstance(e, h2.events.DataReceived) and e.stream_id == sid:
                resp += e.data
                c.acknowledge_received_data(e.flow_controlled_length, sid)
            elif isinstance(e, h2.events.StreamEnded) and e.stream_id == sid:
                done = True
            elif isinstance(e, h2.events.StreamReset) and e.stream_id == sid:
                reset = e.error_code
                done = True
        out = c.data_to_send()
        if out:
            s.sendall(out)
    # a reset that follows an early answer (RFC 9113 8.1)
    if status is not None and sent < len(body):
        ev = pump(s, c, 1) or []
        for e in ev:
            if isinstance(e, h2.events.StreamReset) and e.stream_id == sid:
                reset = e.error_code
    print('status', status)
    for k, v in hdrs:
        print('header %s: %s' % (k, v))
    if reset is not None:
        print('reset', int(reset))
    print('sent', sent)
    ctype = dict(hdrs).get('content-type', '')
    if ctype.startswith('text/') or 'json' in ctype:
        print('text', resp.decode('utf-8', 'replace').strip())
    else:
        print('body', resp.hex())


def cmd_settings(a, s, c):
    deadline = time.time() + 5
    while time.time() < deadline:
        ev = pump(s, c, 1)
        if ev is None:
            break
        for e in ev:
            if isinstance(e, h2.events.RemoteSettingsChanged):
                for k, v in e.changed_settings.items():
                    print(h2.settings.SettingCodes(k).name, v.new_value)
                return


def cmd_streams(a, s, c):
    # learn the server's limit first; --early: send every HEADERS before
    # the server's SETTINGS arrive, as a client that ignores them would
    if not a.early:
        pump(s, c, 2)
    maxc = c.remote_settings.max_concurrent_streams
    want = a.n
    sids = []
    refused = 0
    answered = 0
    peak = 0
    ended = set()
    # open as many as h2 lets us (it enforces the server's limit), the
    # rest as streams end
    deadline = time.time() + 30
    while (answered + refused < want) and time.time() < deadline:
        while len(sids) < want and c.open_outbound_streams < maxc:
            sid = c.get_next_available_stream_id()
            c.send_headers(sid, headers(a, 'GET', a.path), end_stream=True)
            sids.append(sid)
        peak = max(peak, c.open_outbound_streams)
        s.sendall(c.data_to_send())
        ev = pump(s, c, 2)
        if ev is None:
            break
        for e in ev:
            if isinstance(e, h2.events.StreamEnded) and e.stream_id not in ended:
                ended.add(e.stream_id)
                answered += 1
            elif isinstance(e, h2.events.StreamReset):
                if e.error_code == 7:  # REFUSED_STREAM
                    refused += 1
            elif isinstance(e, h2.events.DataReceived):
                c.acknowledge_received_data(e.flow_controlled_length, e.stream_id)
        out = c.data_to_send()
        if out:
            s.sendall(out)
    print('answered', answered)
    print('refused', refused)
    print('max_concurrent', c.remote_settings.max_concurrent_streams)
    print('peak', peak)


def cmd_rapid_reset(a, s, c):
    pump(s, c, 1)
    goaway = None
    sent = 0
    for i in range(a.n):
        try:
            sid = c.get_next_available_stream_id()
            c.send_headers(sid, headers(a, 'GET', a.path), end_stream=True)
            c.reset_stream(sid, error_code=8)  # CANCEL
            s.sendall(c.data_to_send())
            sent += 1
        except Exception:
            break
        if i % 20 == 19:
            ev = pump(s, c, 0.05)
            if ev is None:
                break
            for e in ev:
                if isinstance(e, h2.events.ConnectionTerminated):
                    goaway = int(e.error_code)
            if goaway is not None:
                break
    deadline = time.time() + 5
    while goaway is None and time.time() < deadline:
        ev = pump(s, c, 1)
        if ev is None:
            break
        for e in ev:
            if isinstance(e, h2.events.ConnectionTerminated):
                goaway = int(e.error_code)
    print('goaway', 'none' if goaway is None else goaway)
    print('sent', sent)


def cmd_slow_body(a, s, c):
    sid = c.get_next_available_stream_id()
    c.send_headers(sid, headers(a, 'POST', a.path, [
        ('content-type', 'application/dns-message'), ('content-length', '100')]))
    c.send_data(sid, b'\0' * 10)
    s.sendall(c.data_to_send())
    t0 = time.time()
    deadline = t0 + 30
    while time.time() < deadline:
        ev = pump(s, c, 1)
        if ev is None:
            print('closed after %.1f' % (time.time() - t0))
            return
        for e in ev:
            if isinstance(e, h2.events.StreamReset) and e.stream_id == sid:
                print('reset %d after %.1f' % (int(e.error_code), time.time() - t0))
                return
            if isinstance(e, h2.events.ResponseReceived) and e.stream_id == sid:
                print('status', dict(e.headers).get(':status'))
                return
    print('nothing after %.1f' % (time.time() - t0))


def cmd_idle(a, s, c):
    t0 = time.time()
    while time.time() < t0 + a.secs:
        ev = pump(s, c, 1)
        if ev is None:
            print('closed after %.1f' % (time.time() - t0))
            return
        for e in ev:
            if isinstance(e, h2.events.ConnectionTerminated):
                print('goaway %d after %.1f' % (int(e.error_code), time.time() - t0))
                return
    print('nothing after %.1f' % (time.time() - t0))


def cmd_raw(a):
    """Send bytes as they are (after the TLS handshake with ALPN h2) and
    report the GOAWAY the server answers with."""
    ctx = ssl.create_default_context(cafile=a.ca)
    ctx.set_alpn_protocols(['h2'])
    raw = socket.create_connection((a.host, a.port), timeout=10)
    s = ctx.wrap_socket(raw, server_hostname=a.sni)
    data = bytes.fromhex(a.hex)
    if a.preface:
        data = b'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n' + bytes(9)[:3] + b'\x04' + bytes(5) + data
    s.sendall(data)
    got = b''
    s.settimeout(5)
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            got += d
    except (socket.timeout, OSError):
        pass
    goaway = 'none'
    i = 0
    while i + 9 <= len(got):
        n = int.from_bytes(got[i:i + 3], 'big')
        if got[i + 3] == 7 and i + 9 + 8 <= len(got):  # GOAWAY
            goaway = int.from_bytes(got[i + 13:i + 17], 'big')
        i += 9 + n
    print('goaway', goaway)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--host', default='127.0.0.1')
    p.add_argument('--port', type=int, default=4481)
    p.add_argument('--ca', required=True)
    p.add_argument('--sni', default='dns.test')
    sub = p.add_subparsers(dest='cmd', required=True)
    r = sub.add_parser('req')
    r.add_argument('method')
    r.add_argument('path')
    r.add_argument('--ct')
    r.add_argument('--accept')
    r.add_argument('--body-hex')
    r.add_argument('--body-size', type=int)
    r.add_argument('--no-length', action='store_true')
    sub.add_parser('settings')
    r = sub.add_parser('streams')
    r.add_argument('--early', action='store_true')
    r.add_argument('n', type=int)
    r.add_argument('path')
    r = sub.add_parser('rapid-reset')
    r.add_argument('n', type=int)
    r.add_argument('path')
    r = sub.add_parser('slow-body')
    r.add_argument('path')
    r = sub.add_parser('idle')
    r.add_argument('secs', type=float)
    r = sub.add_parser('raw')
    r.add_argument('--preface', action='store_true')
    r.add_argument('hex')
    a = p.parse_args()
    if a.cmd == 'raw':
        cmd_raw(a)
        return
    try:
        s, c = connect(a)
    except OSError as e:
        print('connect', e)
        sys.exit(2)
    {'req': cmd_req, 'settings': cmd_settings, 'streams': cmd_streams,
     'rapid-reset': cmd_rapid_reset, 'slow-body': cmd_slow_body,
     'idle': cmd_idle}[a.cmd](a, s, c)
    s.close()


if __name__ == '__main__':
    main()

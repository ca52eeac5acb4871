#!/usr/bin/env python3
"""Hostile clients against evtop's OTLP receiver, for measuring its limits (issue 16 items 4 and 5).

  scripts/otlp_attack.py hold --pid PID        # 40 connections each sending 15 MB of a body declared as 16 MiB
  scripts/otlp_attack.py slowloris --pid PID   # 300 connections trickling header bytes; honest exports meanwhile
  scripts/otlp_attack.py spans --pid PID       # one export of 60,000 spans

PID is the receiving process (`evtop collect`, or the dashboard); its VmRSS is read from /proc before,
during and after the attack. --port (4318) and --host (127.0.0.1) say where it listens; --source binds
the attacking sockets to another loopback address (e.g. 127.0.0.2) so that honest exports come from a
different client address. Only for your own receiver.
"""
import argparse
import json
import os
import socket
import sys
import time
import urllib.error
import urllib.request


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def peak_mb(pid):
    """VmHWM: the process's peak resident memory so far."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def connect(args, timeout=30):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    if args.source:
        s.bind((args.source, 0))
    s.connect((args.host, args.port))
    return s


def json_spans(count, start=0):
    spans = [{"traceId": "%032x" % (0x5B8EFFF798038103D269B633813FC60C + i // 100), "spanId": "%016x" % (i + 1),
              "name": f"span {i}", "kind": 4, "startTimeUnixNano": str(1_700_000_000_000_000_000 + i),
              "endTimeUnixNano": str(1_700_000_000_000_000_000 + i + 500),
              "attributes": [{"key": "messaging.message.conversation_id", "value": {"stringValue": f"ord-{i % 977}"}}]}
             for i in range(start, start + count)]
    body = {"resourceSpans": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "attack"}}]},
                               "scopeSpans": [{"spans": spans}]}]}
    return json.dumps(body).encode()


def protobuf_spans(count):
    """60,000 spans as protobuf when the OpenTelemetry proto package is there (scripts/deps installs it)."""
    try:
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
    except ImportError:
        return None
    request = ExportTraceServiceRequest()
    rs = request.resource_spans.add()
    kv = rs.resource.attributes.add()
    kv.key, kv.value.string_value = "service.name", "attack"
    ss = rs.scope_spans.add()
    for i in range(count):
        sp = ss.spans.add()
        sp.trace_id = (0x5B8EFFF798038103D269B633813FC60C + i // 100).to_bytes(16, "big")
        sp.span_id = (i + 1).to_bytes(8, "big")
        sp.name = f"span {i}"
        sp.kind = 4
        sp.start_time_unix_nano = 1_700_000_000_000_000_000 + i
        sp.end_time_unix_nano = 1_700_000_000_000_000_000 + i + 500
        a = sp.attributes.add()
        a.key, a.value.string_value = "messaging.message.conversation_id", f"ord-{i % 977}"
    return request.SerializeToString()


def export(args, body=None, content_type="application/json", timeout=30):
    """One honest export from the default address: (status, Retry-After) or (error text, None)."""
    req = urllib.request.Request(f"http://{args.host}:{args.port}/v1/traces", data=body or json_spans(1),
                                 headers={"Content-Type": content_type}, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, None
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Retry-After")
    except Exception as e:  # closed without an answer, reset, timeout
        return type(e).__name__, None


def hold(args):
    declared, sent = 16 << 20, args.bytes
    chunk = b"\x0a" * (1 << 20)
    print(f"before: VmRSS {rss_mb(args.pid):.0f} MB")
    conns = []
    for i in range(args.connections):
        s = connect(args)
        s.sendall(b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n"
                  + f"Content-Length: {declared}\r\n\r\n".encode())
        left = sent
        try:
            while left > 0:
                n = min(left, len(chunk))
                s.sendall(chunk[:n])
                left -= n
        except OSError as e:
            print(f"connection {i}: {e}")
        conns.append(s)
    time.sleep(2)
    print(f"holding {len(conns)} x {sent / 1e6:.0f} MB: VmRSS {rss_mb(args.pid):.0f} MB")
    status = export(args)
    print(f"an honest export meanwhile: {status[0]}" + (f" (Retry-After {status[1]})" if status[1] else ""))
    for s in conns:
        s.close()
    time.sleep(5)
    print(f"5 s after closing: VmRSS {rss_mb(args.pid):.0f} MB")


def slowloris(args):
    print(f"before: VmRSS {rss_mb(args.pid):.0f} MB")
    conns, refused = [], 0
    for _ in range(args.connections):
        try:
            s = connect(args, timeout=0.5)
            s.sendall(b"P")
            conns.append(s)
        except OSError:
            refused += 1
    head = b"OST /v1/traces HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 10_000
    start = time.time()
    for second in range(args.seconds):
        alive = 0
        for s in conns:
            try:
                s.sendall(head[second:second + 1])
                alive += 1
            except OSError:
                pass
        status = export(args, timeout=5)
        print(f"{time.time() - start:5.0f} s: {alive} of {len(conns)} slow connections still sending; honest export: {status[0]}")
        time.sleep(1)
    answered = 0
    for s in conns:
        try:
            s.settimeout(0.2)
            if s.recv(64).startswith(b"HTTP/1.1 "):
                answered += 1
        except OSError:
            pass
        s.close()
    print(f"{answered} slow connections got an HTTP answer (503 or 408); {refused} could not connect")


def spans(args):
    body = protobuf_spans(args.spans)
    content_type = "application/x-protobuf"
    if body is None:
        body, content_type = json_spans(args.spans), "application/json"
    print(f"before: VmRSS {rss_mb(args.pid):.0f} MB, peak (VmHWM) {peak_mb(args.pid):.0f} MB; body {len(body) / 1e6:.1f} MB {content_type}")
    status = export(args, body, content_type, timeout=120)
    print(f"{args.spans} spans: {status[0]}; VmRSS {rss_mb(args.pid):.0f} MB, peak (VmHWM) {peak_mb(args.pid):.0f} MB")
    time.sleep(2)
    print(f"2 s later: VmRSS {rss_mb(args.pid):.0f} MB")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("attack", choices=["hold", "slowloris", "spans"])
    p.add_argument("--pid", type=int, required=True, help="the receiving process, for VmRSS")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=4318)
    p.add_argument("--source", help="bind attacking sockets to this local address (e.g. 127.0.0.2)")
    p.add_argument("--connections", type=int, help="40 for hold, 300 for slowloris")
    p.add_argument("--bytes", type=int, default=15_000_000, help="hold: body bytes each connection sends")
    p.add_argument("--seconds", type=int, default=20, help="slowloris: how long to trickle")
    p.add_argument("--spans", type=int, default=60_000, help="spans: spans in the one export")
    args = p.parse_args()
    if args.connections is None:
        args.connections = 40 if args.attack == "hold" else 300
    if not os.path.exists(f"/proc/{args.pid}/status"):
        sys.exit(f"no process {args.pid}")
    {"hold": hold, "slowloris": slowloris, "spans": spans}[args.attack](args)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""RabbitMQ figures against a private node, each beside pika (the reference client) in the same run.

    python3 scripts/bench_rabbitmq.py [EVTOP] [--letters 100000] [--queue-type classic|quorum] [--redrive 20000] [--queues 1000] [--runs 5]

- browse: `evtop dlq requeue --dry-run` reads a DLQ of LETTERS messages the way every evtop read does
  (basic.get without ack, then one nack returning all); pika browses the same queue the same way.
- redrive: `evtop dlq requeue --to TARGET --yes` moves REDRIVE letters (confirmed publish, then ack);
  pika publishes REDRIVE messages with publisher confirms (BlockingChannel.confirm_delivery).
- first frame: `evtop --broker amqp://…` in a 100x30 pty on a vhost with QUEUES queues, until the queue
  list is on screen (RUNS runs).
A count of 0 skips that figure. The browsed DLQ is a classic queue unless --queue-type quorum: RabbitMQ
puts a classic queue's returned messages back in their places at a cost that grows faster than the
queue (minutes for 30,000), a quorum queue's at its back.

Starts its own node with scripts/rabbitmq-node (rabbitmq-server, management plugin) in a temp dir.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import base64

import pika

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_startup  # noqa: E402
from bench_startup import COLS, ROWS, make_env, time_to_screen  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BODY = json.dumps({"type": "OrderPlaced", "orderId": "ord-000000", "amount": 42.5, "currency": "EUR"}).encode()


def free_ports(n):
    import socket
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def mkvhost(mgmt, name):
    auth = "Basic " + base64.b64encode(b"guest:guest").decode()
    for path, body in ((f"/api/vhosts/{name}", b"{}"), (f"/api/permissions/{name}/guest", b'{"configure":".*","write":".*","read":".*"}')):
        req = urllib.request.Request(mgmt + path, data=body, method="PUT", headers={"Authorization": auth, "content-type": "application/json"})
        urllib.request.urlopen(req, timeout=10).read()


def fill(url, queue, n, queue_type="classic"):
    """Dead letters as RabbitMQ writes them (an x-death entry naming `billing`), published without confirms."""
    conn = pika.BlockingConnection(pika.URLParameters(url))
    ch = conn.channel()
    ch.queue_declare(queue, durable=True, arguments={"x-queue-type": queue_type})
    death = [{"queue": "billing", "reason": "rejected", "count": 1, "exchange": "orders", "routing-keys": ["order.placed"],
              "time": int(time.time())}]
    for i in range(n):
        props = pika.BasicProperties(content_type="application/json", delivery_mode=2, message_id=f"m-{i}",
                                     correlation_id=f"ord-{i}", type="OrderPlaced", headers={"x-death": death})
        ch.basic_publish("", queue, BODY, props)
    while ch.queue_declare(queue, passive=True).method.message_count < n:
        time.sleep(0.1)
    conn.close()


def settle(url, queue, n):
    """Seconds until the queue reports n ready messages again (and the server answers at once)."""
    start = time.monotonic()
    conn = pika.BlockingConnection(pika.URLParameters(url))
    ch = conn.channel()
    while ch.queue_declare(queue, passive=True).method.message_count < n:
        time.sleep(0.2)
    conn.close()
    return time.monotonic() - start


def pika_browse(url, queue):
    conn = pika.BlockingConnection(pika.URLParameters(url))
    ch = conn.channel()
    start = time.monotonic()
    n, last = 0, None
    while True:
        method, _, _ = ch.basic_get(queue, auto_ack=False)
        if method is None:
            break
        n, last = n + 1, method.delivery_tag
    if last is not None:
        ch.basic_nack(last, multiple=True, requeue=True)
    ch.queue_declare(queue, passive=True)  # a round trip: the nack was processed
    elapsed = time.monotonic() - start
    conn.close()
    return n, elapsed


def pika_confirmed_publish(url, queue, n):
    conn = pika.BlockingConnection(pika.URLParameters(url))
    ch = conn.channel()
    ch.queue_declare(queue, durable=True)
    ch.confirm_delivery()
    props = pika.BasicProperties(content_type="application/json", delivery_mode=2)
    start = time.monotonic()
    for _ in range(n):
        ch.basic_publish("", queue, BODY, props, mandatory=True)
    elapsed = time.monotonic() - start
    ch.queue_purge(queue)
    conn.close()
    return elapsed


def run_evtop(evtop, args, env):
    start = time.monotonic()
    r = subprocess.run([evtop] + args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=1800)
    elapsed = time.monotonic() - start
    if r.returncode != 0:
        sys.exit(f"bench_rabbitmq: evtop {' '.join(args[:3])} failed ({r.returncode}): {r.stderr[-800:]}")
    return r.stdout, elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("evtop", nargs="?", default=".build/release/evtop")
    parser.add_argument("--letters", type=int, default=100_000)
    parser.add_argument("--redrive", type=int, default=20_000)
    parser.add_argument("--queues", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--queue-type", choices=["classic", "quorum"], default="classic")
    args = parser.parse_args()
    evtop = os.path.abspath(args.evtop)
    tmp = tempfile.mkdtemp(prefix="evtop-bench-rabbit-")
    # Beside, not inside, the private temp dir: the node runs as user rabbitmq, which must reach it.
    node_dir = os.path.join(tempfile.gettempdir(), f"evtop-bench-rabbit-node-{os.getpid()}")
    amqp, mgmt_port = free_ports(2)
    mgmt = f"http://127.0.0.1:{mgmt_port}"
    subprocess.run([os.path.join(ROOT, "scripts/rabbitmq-node"), "start", node_dir, str(amqp), str(mgmt_port)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        env = make_env(tmp)
        version = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "rabbitmq-server"], stdout=subprocess.PIPE, text=True).stdout
        print(f"rabbitmq-server {version or '?'}, private node on loopback, pika {pika.__version__}", flush=True)

        # Browse.
        if args.letters > 0:
            browse(evtop, env, mgmt, amqp, args.letters, args.queue_type)
        if args.redrive > 0:
            redrive(evtop, env, mgmt, amqp, args.redrive)
        if args.queues > 0:
            first_frame(evtop, env, mgmt, amqp, args.queues, args.runs)
    finally:
        subprocess.run([os.path.join(ROOT, "scripts/rabbitmq-node"), "stop", node_dir], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(node_dir, ignore_errors=True)


def browse(evtop, env, mgmt, amqp, letters, queue_type):
    mkvhost(mgmt, "browse")
    url = f"amqp://guest:guest@127.0.0.1:{amqp}/browse"
    fill(url, "bench.dlq", letters, queue_type)
    broker = ["--broker", url, "--management", mgmt]
    # pika first; then wait until the server has put every returned message back (RabbitMQ re-inserts
    # a browse's returned messages after the nack, which takes it a while), so each starts on a settled queue.
    n, pika_s = pika_browse(url, "bench.dlq")
    settle(url, "bench.dlq", letters)
    out, evtop_s = run_evtop(evtop, ["dlq", "requeue", "--dlq-topic", "bench.dlq", "--dry-run", "--json"] + broker, env)
    seen = json.loads(out)["selected"]
    settle_s = settle(url, "bench.dlq", letters)
    print(f"rabbitmq browse of a {letters}-message {queue_type} DLQ: evtop {seen / evtop_s:,.0f} messages/s ({evtop_s:.2f} s, whole command), "
          f"pika basic.get {n / pika_s:,.0f} messages/s ({pika_s:.2f} s): ratio {(seen / evtop_s) / (n / pika_s):.2f}× pika; "
          f"the server then took {settle_s:.1f} s to put the returned messages back", flush=True)


def redrive(evtop, env, mgmt, amqp, count):
    mkvhost(mgmt, "redrive")
    url = f"amqp://guest:guest@127.0.0.1:{amqp}/redrive"
    fill(url, "bench.dlq", count)
    conn = pika.BlockingConnection(pika.URLParameters(url))
    conn.channel().queue_declare("bench.target", durable=True)
    conn.close()
    broker = ["--broker", url, "--management", mgmt]
    out, evtop_s = run_evtop(evtop, ["dlq", "requeue", "--dlq-topic", "bench.dlq", "--to", "bench.target", "--yes", "--json"] + broker, env)
    moved = json.loads(out)["moved"]
    pika_s = pika_confirmed_publish(url, "bench.pika", count)
    print(f"rabbitmq redrive of {count} letters: evtop {moved / evtop_s:,.0f} messages/s ({evtop_s:.2f} s, whole command incl. the browse), "
          f"pika publish with confirms {count / pika_s:,.0f} messages/s ({pika_s:.2f} s): ratio {(moved / evtop_s) / (count / pika_s):.2f}× pika",
          flush=True)


def first_frame(evtop, env, mgmt, amqp, queues, runs):
    mkvhost(mgmt, "many")
    url = f"amqp://guest:guest@127.0.0.1:{amqp}/many"
    conn = pika.BlockingConnection(pika.URLParameters(url))
    ch = conn.channel()
    names = ["orders", "payments"] + [f"q-{i:04d}" for i in range(queues - 2)]
    for name in names:
        ch.queue_declare(name, durable=True)
    conn.close()
    argv = [evtop, "--broker", url, "--management", mgmt]
    time_to_screen(argv, env, timeout=20)  # warm
    times = [time_to_screen(argv, env, timeout=20) for _ in range(runs)]
    print(f"rabbitmq first frame listing {queues} queues ({COLS}x{ROWS} pty, {runs} runs): "
          f"{statistics.median(times) * 1000:.0f} ms median, {min(times) * 1000:.0f} ms min, {max(times) * 1000:.0f} ms max", flush=True)


if __name__ == "__main__":
    main()

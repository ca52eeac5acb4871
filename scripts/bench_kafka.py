#!/usr/bin/env python3
"""Kafka figures: startup to the first frame listing a mock cluster's topics, and consume throughput.

    python3 scripts/bench_kafka.py [EVTOP] [--runs 10] [--records 1000000] [--partitions 64]

Startup: starts librdkafka's mock cluster (evtop-mock-cluster, next to EVTOP: 3 brokers, topics
orders, payments, inventory, shipments and two .DLT topics, a few records each with kcat), then RUNS
times spawns `evtop --broker kafka://BOOTSTRAP` in a 100x30 pty and measures the time from spawn
until the screen contains "orders" and "payments"; then sends q.

Consume: runs Benchmarks/.build/release/evtop-kafka-bench when it is built (scripts/bench_kafka builds
it) against a second mock cluster in its own process: RECORDS small JSON events over PARTITIONS
partitions; `evtop saga ID` on a fresh index (the EVTOP binary indexing every record through the
product's own path, then looking the ID up) beside `kcat -C -e -o beginning -q`, both rates and the ratio.

Python standard library, kcat and the two binaries. Prints one pasteable line per figure.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_startup import COLS, ROWS, make_env, time_to_screen  # noqa: E402

TOPICS = ["orders:6", "payments:6", "inventory:4", "shipments:4", "orders.DLT:1", "payments.DLT:1"]


def start_mock(mock):
    argv = [mock]
    for t in TOPICS:
        argv += ["--topic", t]
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    bootstrap = proc.stdout.readline().decode().strip()
    if not bootstrap:
        proc.kill()
        sys.exit("bench_kafka: evtop-mock-cluster printed no bootstrap address")
    return proc, bootstrap


def startup_once(evtop, bootstrap, env, timeout=10.0):
    return time_to_screen([evtop, "--broker", "kafka://" + bootstrap], env, timeout)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("evtop", nargs="?", default=".build/release/evtop", help="evtop binary")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--partitions", type=int, default=64)
    parser.add_argument("--bench", default="Benchmarks/.build/release/evtop-kafka-bench")
    args = parser.parse_args()

    evtop = os.path.abspath(args.evtop)
    mock = os.path.join(os.path.dirname(evtop), "evtop-mock-cluster")
    for path in (evtop, mock):
        if not os.access(path, os.X_OK):
            sys.exit(f"bench_kafka: {path} is not an executable (swift build -c release --product evtop / evtop-mock-cluster)")
    kcat = shutil.which("kcat") or sys.exit("bench_kafka: kcat is not installed (scripts/deps)")
    tmp = tempfile.mkdtemp(prefix="evtop-bench-kafka-")
    proc, bootstrap = start_mock(mock)
    try:
        env = make_env(tmp)
        for t in TOPICS:
            name = t.split(":")[0]
            lines = "".join(f'{{"n":{i}}}\n' for i in range(100)).encode()
            subprocess.run([kcat, "-P", "-b", bootstrap, "-t", name, "-q"], input=lines, check=True, timeout=30)
        startup_once(evtop, bootstrap, env)  # warm the page cache; not counted
        times = [startup_once(evtop, bootstrap, env) for _ in range(args.runs)]
        print(f"startup to first frame listing the topics of a 3-broker mock cluster ({COLS}x{ROWS} pty, {args.runs} runs): "
              f"{statistics.median(times) * 1000:.0f} ms median, {min(times) * 1000:.0f} ms min, "
              f"{max(times) * 1000:.0f} ms max", flush=True)
    finally:
        proc.kill()
        proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    if os.access(args.bench, os.X_OK):
        # A mock cluster of its own (a separate process, as kcat sees it) holding the benchmark topic.
        proc = subprocess.Popen([mock, "--topic", f"bench-events:{args.partitions}"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        try:
            bootstrap = proc.stdout.readline().decode().strip()
            out = subprocess.run([args.bench, "--records", str(args.records), "--partitions", str(args.partitions),
                                  "--bootstrap", bootstrap, "--kcat", kcat, "--evtop", evtop],
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True, text=True).stdout
        finally:
            proc.kill()
            proc.wait()
        for line in out.splitlines():
            if line.startswith("kafka "):
                print(line, flush=True)
    else:
        print(f"(consume figure skipped: {args.bench} not built; run scripts/bench_kafka)", flush=True)


if __name__ == "__main__":
    main()

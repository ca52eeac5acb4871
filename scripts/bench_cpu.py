#!/usr/bin/env python3
"""The dashboard's CPU under steady traffic: `evtop` on an embedded store that `evtop demo --headless` writes to.

    python3 scripts/bench_cpu.py [EVTOP] [--rate 170] [--seconds 60] [--warmup 15] [--cols 200] [--rows 60]

Starts `evtop demo --headless --rate RATE` on a fresh store (the writer, its own process), then the dashboard
`evtop --broker sqlite:STORE` in a COLSxROWS pty, its output drained as a terminal would. After WARMUP
seconds it reads both processes' CPU time (utime + stime, /proc/PID/stat) and the store's record count,
waits SECONDS, and reads them again: the dashboard's share of one core over that window, beside the
events per second the store actually received in it (the demo's rate is orders a second; an order is
several events). The dashboard runs as an operator would leave it: on the topics view, polling every second,
indexing and sampling in the background.

Python standard library only. Prints one pasteable line.
"""
import argparse
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_startup as pty_tools  # noqa: E402  (spawn, read_some, finish, make_env)


def cpu_seconds(pid):
    """utime + stime of `pid` in seconds (the fields after the command's closing parenthesis)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def threads_cpu(pid):
    """CPU seconds per thread name of `pid` (threads of one name summed; threads gone since are not counted)."""
    ticks = os.sysconf("SC_CLK_TCK")
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                head, rest = f.read().rsplit(")", 1)
            name = head.split("(", 1)[1]
            fields = rest.split()
            out[name] = out.get(name, 0) + (int(fields[11]) + int(fields[12])) / ticks
        except (OSError, IndexError, ValueError):
            continue
    return out


def records(store):
    """Records the store holds now (read-only, beside the writer)."""
    with sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=10) as db:
        return db.execute("SELECT count(*) FROM records").fetchone()[0]


def drain(fd, seconds):
    """Reads the pty for `seconds`; False when the dashboard closed it."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if pty_tools.read_some(fd, min(0.25, end - time.monotonic())) is None:
            return False
    return True


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("evtop", nargs="?", default=".build/release/evtop", help="evtop binary")
    parser.add_argument("--rate", type=int, default=170, help="the demo's orders a second (default 170: about 1,000 events/s)")
    parser.add_argument("--seconds", type=float, default=60, help="the measured window (default 60)")
    parser.add_argument("--warmup", type=float, default=15, help="seconds before it (default 15)")
    parser.add_argument("--cols", type=int, default=200)
    parser.add_argument("--rows", type=int, default=60)
    args = parser.parse_args()

    evtop = os.path.abspath(args.evtop)
    if not os.access(evtop, os.X_OK):
        sys.exit(f"bench_cpu: {evtop} is not an executable (build with: swift build -c release --product evtop)")
    pty_tools.COLS, pty_tools.ROWS = args.cols, args.rows
    tmp = tempfile.mkdtemp(prefix="evtop-bench-cpu-")
    demo = None
    try:
        env = pty_tools.make_env(tmp)
        store = os.path.join(tmp, "cpu.db")
        demo = subprocess.Popen([evtop, "demo", "--headless", "--store", store, "--rate", str(args.rate)], env=env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while not os.path.exists(store) and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(2)
        if demo.poll() is not None:
            sys.exit(f"bench_cpu: evtop demo exited (status {demo.returncode})")
        pid, fd = pty_tools.spawn([evtop, "--broker", "sqlite:" + store], env)
        if not drain(fd, args.warmup):
            sys.exit("bench_cpu: the dashboard exited during warm-up")
        dash0, demo0, records0, t0 = cpu_seconds(pid), cpu_seconds(demo.pid), records(store), time.monotonic()
        threads0 = threads_cpu(pid)
        if not drain(fd, args.seconds):
            sys.exit("bench_cpu: the dashboard exited during the measurement")
        dash1, demo1, records1, t1 = cpu_seconds(pid), cpu_seconds(demo.pid), records(store), time.monotonic()
        threads1 = threads_cpu(pid)
        pty_tools.finish(pid, fd)
        window = t1 - t0
        events = (records1 - records0) / window
        print(f"dashboard CPU over {window:.0f} s at {events:,.0f} events/s on the embedded demo ({args.cols}x{args.rows} pty, "
              f"topics view, demo --rate {args.rate}): {100 * (dash1 - dash0) / window:.1f} % of a core "
              f"(the demo writing them: {100 * (demo1 - demo0) / window:.1f} %)", flush=True)
        # Where it went, by thread name: evtop-ui draws; libdispatch's workers run the poller, the sampler and
        # the indexer; rdk: threads are librdkafka's (none on the embedded store).
        parts = sorted(((threads1[n] - threads0.get(n, 0), n) for n in threads1), reverse=True)
        print("  by thread: " + ", ".join(f"{n} {100 * c / window:.1f} %" for c, n in parts if c > 0), flush=True)
        # The frames it drew over the whole run (warm-up included), as the dashboard logs them when it quits.
        try:
            with open(os.path.join(tmp, "xdg_state_home", "evtop", "evtop.log")) as f:
                frames = [line.strip() for line in f if "evtop.frames" in line]
            if frames:
                print("  " + frames[-1].split("evtop.frames: ", 1)[-1], flush=True)
        except OSError:
            pass
    finally:
        if demo is not None and demo.poll() is None:
            demo.send_signal(signal.SIGTERM)
            try:
                demo.wait(timeout=20)
            except subprocess.TimeoutExpired:
                demo.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

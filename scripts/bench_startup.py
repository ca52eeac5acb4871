#!/usr/bin/env python3
"""Startup time and resident memory of the evtop dashboard in a real pseudo-terminal.

    python3 scripts/bench_startup.py [EVTOP] [--runs 10] [--memory-seconds 60]

Startup: fills a store with `evtop demo --headless --duration 3`, then RUNS times spawns
`evtop --broker sqlite:STORE` in a 100x30 pty and measures the time from spawn until the
screen output contains the topic names "orders" and "payments"; then sends q.

Memory: runs `evtop demo --store STORE` (simulator + dashboard) in a 100x30 pty for
MEMORY_SECONDS, draining its output, then reads VmRSS and VmHWM from /proc/PID/status.

Python standard library only. Prints one pasteable line per figure.
"""
import argparse
import fcntl
import os
import pty
import select
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time

COLS, ROWS = 100, 30
NEEDLES = (b"orders", b"payments")


def make_env(tmp):
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "NO_COLOR")}
    env["TERM"] = "xterm-256color"
    for name in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"):
        path = os.path.join(tmp, name.lower())
        os.makedirs(path, exist_ok=True)
        env[name] = path
    return env


def spawn(argv, env):
    """Forks argv onto a new 100x30 pty; returns (pid, master fd). The size is set before exec."""
    pid, fd = pty.fork()
    if pid == 0:  # child: stdin/stdout/stderr are the pty's slave side
        try:
            fcntl.ioctl(1, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
            os.execve(argv[0], argv, env)
        finally:
            os._exit(127)
    return pid, fd


def read_some(fd, timeout):
    """Bytes available on fd within timeout; b"" on timeout; None when the pty closed."""
    ready, _, _ = select.select([fd], [], [], max(0.0, timeout))
    if not ready:
        return b""
    try:
        data = os.read(fd, 65536)
    except OSError:  # EIO: the child closed the slave side
        return None
    return data if data else None


def finish(pid, fd, grace=5.0):
    """Sends q, drains output until the child exits (escalating after grace seconds); returns status."""
    try:
        os.write(fd, b"q")
    except OSError:
        pass
    deadline = time.monotonic() + grace
    signals = [signal.SIGTERM, signal.SIGKILL]
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            os.close(fd)
            return status
        if time.monotonic() > deadline:
            if not signals:
                os.close(fd)
                return None
            os.kill(pid, signals.pop(0))
            deadline = time.monotonic() + 2.0
        if read_some(fd, 0.05) is None:
            time.sleep(0.01)


def startup_once(evtop, store, env, timeout=10.0):
    """Seconds from spawn until the topic names are on screen, or raises with the output seen."""
    return time_to_screen([evtop, "--broker", "sqlite:" + store], env, timeout)


def time_to_screen(argv, env, timeout=10.0):
    """Seconds from spawning `argv` in a pty until every NEEDLES is on screen, or raises with the output seen."""
    start = time.monotonic()
    pid, fd = spawn(argv, env)
    seen = b""
    elapsed = None
    while time.monotonic() - start < timeout:
        data = read_some(fd, start + timeout - time.monotonic())
        if data is None:
            break
        seen += data
        if all(n in seen for n in NEEDLES):
            elapsed = time.monotonic() - start
            break
    status = finish(pid, fd)
    if elapsed is None:
        tail = seen[-600:].decode("utf-8", "replace")
        raise RuntimeError(f"topics not on screen within {timeout:.0f} s (exit status {status}); output tail:\n{tail!r}")
    return elapsed


def proc_status_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return None


def memory(evtop, store, env, seconds):
    """(VmRSS MiB, VmHWM MiB) of `evtop demo` after `seconds`."""
    pid, fd = spawn([evtop, "demo", "--store", store], env)
    end = time.monotonic() + seconds
    closed = False
    while time.monotonic() < end:
        if read_some(fd, min(0.25, end - time.monotonic())) is None:
            closed = True
            break
    if closed:
        status = finish(pid, fd)
        raise RuntimeError(f"evtop demo exited early (status {status})")
    rss = proc_status_kib(pid, "VmRSS")
    hwm = proc_status_kib(pid, "VmHWM")
    finish(pid, fd)
    return rss / 1024, hwm / 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("evtop", nargs="?", default=".build/release/evtop", help="evtop binary")
    parser.add_argument("--runs", type=int, default=10, help="startup runs (default 10)")
    parser.add_argument("--memory-seconds", type=float, default=60, help="seconds of demo before reading memory (default 60)")
    parser.add_argument("--skip-memory", action="store_true", help="only measure startup")
    args = parser.parse_args()

    evtop = os.path.abspath(args.evtop)
    if not os.access(evtop, os.X_OK):
        sys.exit(f"bench_startup: {evtop} is not an executable (build with: swift build -c release --product evtop)")
    tmp = tempfile.mkdtemp(prefix="evtop-bench-")
    try:
        env = make_env(tmp)
        store = os.path.join(tmp, "bench.db")
        subprocess.run([evtop, "demo", "--headless", "--store", store, "--duration", "3"], env=env,
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, check=True, timeout=60)
        startup_once(evtop, store, env)  # warm the page cache; not counted
        times = [startup_once(evtop, store, env) for _ in range(args.runs)]
        print(f"startup to first frame listing the topics ({COLS}x{ROWS} pty, {args.runs} runs): "
              f"{statistics.median(times) * 1000:.0f} ms median, {min(times) * 1000:.0f} ms min, "
              f"{max(times) * 1000:.0f} ms max", flush=True)
        if not args.skip_memory:
            rss, hwm = memory(evtop, os.path.join(tmp, "mem.db"), env, args.memory_seconds)
            print(f"resident memory after {args.memory_seconds:g} s of `evtop demo` ({COLS}x{ROWS} pty): "
                  f"{rss:.1f} MiB (peak {hwm:.1f} MiB)", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

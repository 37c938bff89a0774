#!/usr/bin/env python3
"""TCP benchmark: haproxyrs vs HAProxy 2.6 on the same generated config, A B A B.

Measures the proxy's own CPU time (utime+stime from /proc/PID/stat) per unit of work and
its RSS, with the proxy pinned to one core (taskset -c 0) and the load tools and backends
on the other (taskset -c 1):

  bulk   CPU-seconds per GiB streamed client -> proxy -> server (and Gbit/s)
  conn   CPU-microseconds per connection (connect, 1-byte exchange, close)
  idle   RSS per idle proxied connection with N connections open

Usage: bench/tcpbench.py [--haproxyrs PATH] [--pairs 3] [--gib 1] [--conns 5000]
                         [--idle 5000] [--only bulk,conn,idle]
The haproxyrs binary defaults to target/release/haproxyrs (cargo build --release).
"""
import argparse
import os
import resource
import selectors
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HZ = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / HZ


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def pin_self(cpu):
    try:
        os.sched_setaffinity(0, {cpu})
    except OSError:
        pass


class Server(threading.Thread):
    """Backend on core 1: 'sink' reads and drops, 'echo1' answers one byte per byte
    received then keeps the connection, 'hold' accepts and keeps connections idle."""

    def __init__(self, kind):
        super().__init__(daemon=True)
        self.kind = kind
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4096)
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]
        self.held = []
        self.stop = False

    def run(self):
        pin_self(1)
        sel = selectors.DefaultSelector()
        sel.register(self.sock, selectors.EVENT_READ, None)
        buf = bytearray(1 << 20)
        while not self.stop:
            for key, _ in sel.select(0.2):
                if key.data is None:
                    try:
                        while True:
                            c, _ = self.sock.accept()
                            c.setblocking(False)
                            if self.kind == "hold":
                                self.held.append(c)
                            else:
                                sel.register(c, selectors.EVENT_READ, "c")
                    except BlockingIOError:
                        pass
                    continue
                c = key.fileobj
                try:
                    n = c.recv_into(buf)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    n = 0
                if n == 0:
                    sel.unregister(c)
                    c.close()
                elif self.kind == "echo1":
                    try:
                        c.send(buf[:n])
                    except OSError:
                        pass


def write_cfg(path, fe_port, be_port, splice, maxconn):
    opts = "  option splice-auto\n" if splice else ""
    with open(path, "w") as f:
        f.write(
            f"global\n  nbthread 1\n  maxconn {maxconn}\n"
            "defaults\n  mode tcp\n  timeout client 60s\n  timeout server 60s\n"
            f"  timeout connect 5s\n  maxconn {maxconn}\n"
            f"listen l\n  bind 127.0.0.1:{fe_port}\n{opts}"
            f"  server s1 127.0.0.1:{be_port}\n"
        )


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def start_proxy(binary, cfg, port):
    p = subprocess.Popen(
        ["taskset", "-c", "0", binary, "-db", "-f", cfg],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return p
        except OSError:
            time.sleep(0.05)
    p.kill()
    raise RuntimeError(f"{binary} did not start")


def stop_proxy(p):
    p.terminate()
    try:
        p.wait(5)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def run_bulk(pid, port, gib):
    total = int(gib * (1 << 30))
    chunk = b"\xa5" * (1 << 20)
    c = socket.create_connection(("127.0.0.1", port))
    c.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    c0, t0 = cpu_seconds(pid), time.time()
    sent = 0
    while sent < total:
        c.sendall(chunk)
        sent += len(chunk)
    c.shutdown(socket.SHUT_WR)
    c.recv(1)  # EOF once the server side closed
    c.close()
    dt, dcpu = time.time() - t0, cpu_seconds(pid) - c0
    return {"cpu_s_per_gib": dcpu / gib, "gbit_s": sent * 8 / dt / 1e9}


def run_conn(pid, port, n):
    c0 = cpu_seconds(pid)
    for _ in range(n):
        c = socket.create_connection(("127.0.0.1", port))
        c.sendall(b"x")
        c.recv(1)
        c.close()
    time.sleep(0.2)  # let the proxy finish closing
    return {"cpu_us_per_conn": (cpu_seconds(pid) - c0) / n * 1e6}


def run_idle(pid, port, n):
    time.sleep(0.3)
    base = rss_bytes(pid)
    conns = []
    for _ in range(n):
        conns.append(socket.create_connection(("127.0.0.1", port)))
    time.sleep(1.0)
    # Exchange nothing: the connections are idle; the proxy must still hold them.
    after = rss_bytes(pid)
    for c in conns:
        c.close()
    return {"rss_per_idle_conn_kib": (after - base) / n / 1024}


def main():
    ap = argparse.ArgumentParser()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument("--haproxyrs", default=os.path.join(root, "target/release/haproxyrs"))
    ap.add_argument("--haproxy", default="/usr/sbin/haproxy")
    ap.add_argument("--pairs", type=int, default=3)
    ap.add_argument("--gib", type=float, default=1.0)
    ap.add_argument("--conns", type=int, default=3000)
    ap.add_argument("--idle", type=int, default=5000)
    ap.add_argument("--only", default="bulk,conn,idle")
    a = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    pin_self(1)
    variants = [("haproxyrs", a.haproxyrs, False), ("haproxy", a.haproxy, False),
                ("haproxy-splice", a.haproxy, True)]
    results = {}
    tmp = tempfile.mkdtemp(prefix="tcpbench-")
    for test in a.only.split(","):
        kind = {"bulk": "sink", "conn": "echo1", "idle": "hold"}[test]
        for pair in range(a.pairs):
            # A B A B: each variant once per pair, in the same order.
            for name, binary, splice in variants:
                if test != "bulk" and name == "haproxy-splice":
                    continue
                srv = Server(kind)
                srv.start()
                port = free_port()
                cfg = os.path.join(tmp, f"{name}.cfg")
                write_cfg(cfg, port, srv.port, splice, a.idle + 500)
                p = start_proxy(binary, cfg, port)
                try:
                    if test == "bulk":
                        r = run_bulk(p.pid, port, a.gib)
                    elif test == "conn":
                        r = run_conn(p.pid, port, a.conns)
                    else:
                        r = run_idle(p.pid, port, a.idle)
                finally:
                    stop_proxy(p)
                    srv.stop = True
                for k, v in r.items():
                    results.setdefault((test, name, k), []).append(v)
                print(f"{test} pair {pair} {name}: {r}", flush=True)
    print("\nmedian [min-max] over pairs")
    for (test, name, k), vs in sorted(results.items()):
        print(f"{test:5} {name:15} {k:22} {statistics.median(vs):10.3f} "
              f"[{min(vs):.3f}-{max(vs):.3f}]")


if __name__ == "__main__":
    sys.exit(main())

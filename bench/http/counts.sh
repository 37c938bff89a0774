#!/bin/bash
# Per-request system calls, epoll events and TCP segments of one proxy in one scenario, from
# kernel tracepoints (perf) and the TCP MIB counters (nstat): the tables of the HTTP section
# of docs/performance.md. The proxy runs alone on core 0, load and backend on core 1.
# Usage: bench/http/counts.sh PROGRAM safe|always ka|close [SECONDS]   (needs perf, nstat)
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
prog=$1; reuse=$2; mode=$3; secs=${4:-2}
tmp=$(mktemp -d)
trap 'kill $BEPID 2>/dev/null; rm -rf "$tmp"' EXIT
CARGO_TARGET_DIR="$root/target/bench-http" cargo build --release -q --manifest-path "$root/bench/http/Cargo.toml"
tools="$root/target/bench-http/release"
FE=${BENCH_FE_PORT:-23921}; BE=${BENCH_BE_PORT:-23922}
. "$root/bench/http/config.sh"
config "$reuse" > "$tmp/cfg"
taskset -c 1 "$tools/backend" $BE & BEPID=$!
taskset -c 0 "$prog" -db -f "$tmp/cfg" >/dev/null 2>&1 & P=$!
for _ in $(seq 1 50); do (exec 3<>/dev/tcp/127.0.0.1/$FE) 2>/dev/null && break; sleep 0.05; done
events='syscalls:sys_enter_accept4,syscalls:sys_enter_recvfrom,syscalls:sys_enter_sendto,syscalls:sys_enter_shutdown,syscalls:sys_enter_close,syscalls:sys_enter_epoll_ctl,syscalls:sys_enter_epoll_wait,syscalls:sys_exit_epoll_wait,context-switches'
perf record -q -e "$events" -p $P -o "$tmp/perf.data" >/dev/null 2>&1 & R=$!
sleep 0.3
nstat -n >/dev/null
out=$(taskset -c 1 "$tools/load" 127.0.0.1:$FE 20 "$secs" "$mode" /)
segs=$(nstat -z TcpOutSegs 2>/dev/null | awk '/TcpOutSegs/ {print $2}')
kill -INT $R; wait $R || true
kill $P; wait $P 2>/dev/null || true
n=$(echo "$out" | sed 's/.*requests=\([0-9]*\).*/\1/')
echo "$(basename "$prog") http-reuse $reuse, $mode: $out"
perf script -i "$tmp/perf.data" 2>/dev/null | python3 -c "
import sys, re, collections
n = $n
count = collections.Counter(); events = 0
for line in sys.stdin:
    m = re.search(r'(syscalls:\\w+|context-switches):\\s*(\\S*)', line)
    if not m:
        continue
    name = m.group(1).replace('syscalls:', '')
    count[name] += 1
    if name == 'sys_exit_epoll_wait':
        events += max(int(m.group(2), 0), 0)
for k in sorted(count):
    if k != 'sys_exit_epoll_wait':
        print('  %-26s %6.2f per request' % (k.replace('sys_enter_', ''), count[k] / n))
print('  %-26s %6.2f per request' % ('epoll events returned', events / n))
print('  %-26s %6.2f per request (whole machine)' % ('TCP segments sent', $segs / n))
"

#!/bin/bash
# HTTP benchmark (issue 5 point 11): haproxyrs against haproxy, same config, `nbthread 1`,
# alternating A B for PAIRS pairs; the proxy pinned to core 0, load and backend on core 1.
# Prints, per scenario and side, the median CPU-µs per request (utime+stime of the proxy),
# requests/s and p99 over the pairs.
# Usage: bench/http/run.sh [SECONDS] [PAIRS] [CONNS]   (from the repository root)
# ONLY=ka,close,always,acl,log runs a subset of the scenarios (default: all five).
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:-3}; pairs=${2:-3}; conns=${3:-20}
tmp=$(mktemp -d)
trap 'kill $BEPID 2>/dev/null; rm -rf "$tmp"' EXIT
[ -n "${SKIP_BUILD:-}" ] || cargo build --release -q -p haproxyrs --manifest-path "$root/Cargo.toml"
CARGO_TARGET_DIR="$root/target/bench-http" cargo build --release -q --manifest-path "$root/bench/http/Cargo.toml"
tools="$root/target/bench-http/release"
FE=${BENCH_FE_PORT:-23911}; BE=${BENCH_BE_PORT:-23912}
taskset -c 1 "$tools/backend" $BE & BEPID=$!

. "$root/bench/http/config.sh"
acls() {
    for i in $(seq 1 20); do
        printf '    acl a%d path_beg /x%d\n    use_backend other if a%d\n' "$i" "$i" "$i"
    done
    printf '    acl app path_beg /app\n    use_backend be if app\n'
}

one() { # $1 = program, $2 = cfg, $3 = ka|close, $4 = path -> "cpu_us rps p99"
    taskset -c 0 "$1" -db -f "$2" >/dev/null 2>&1 & local p=$!
    for _ in $(seq 1 50); do (exec 3<>/dev/tcp/127.0.0.1/$FE) 2>/dev/null && break; sleep 0.05; done
    # The port must belong to this very process (another program on it would skew the run).
    if ! kill -0 $p 2>/dev/null || ! ss -ltnpH "sport = :$FE" | grep -q "pid=$p,"; then
        echo "bench: $1 is not the one listening on $FE" >&2; exit 1
    fi
    local c0; c0=$(awk '{print $14+$15}' /proc/$p/stat)
    local out; out=$(taskset -c 1 "$tools/load" 127.0.0.1:$FE "$conns" "$secs" "$3" "$4")
    local c1; c1=$(awk '{print $14+$15}' /proc/$p/stat)
    kill $p; wait $p 2>/dev/null || true
    local n; n=$(echo "$out" | sed 's/.*requests=\([0-9]*\).*/\1/')
    local rps; rps=$(echo "$out" | sed 's/.*rps=\([0-9]*\).*/\1/')
    local p99; p99=$(echo "$out" | sed 's/.*p99_us=\([0-9]*\).*/\1/')
    local ticks; ticks=$(getconf CLK_TCK)
    echo "$(echo "scale=2; ($c1-$c0)*1000000/$ticks/$n" | bc) $rps $p99"
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

scenario() { # $1 key, $2 name, $3 reuse, $4 ka|close, $5 path, $6 extra
    case ",${ONLY:-ka,close,always,acl,log}," in *",$1,"*) ;; *) return ;; esac
    shift
    config "$2" "$5" > "$tmp/cfg"
    : > "$tmp/rs"; : > "$tmp/ha"
    for _ in $(seq 1 "$pairs"); do
        one "$root/target/release/haproxyrs" "$tmp/cfg" "$3" "$4" >> "$tmp/rs"
        one haproxy "$tmp/cfg" "$3" "$4" >> "$tmp/ha"
    done
    local rc hc; rc=$(cut -d' ' -f1 "$tmp/rs" | median); hc=$(cut -d' ' -f1 "$tmp/ha" | median)
    printf '%-34s reuse=%-6s rs: %6s us/req %7s req/s p99 %6s us | ha: %6s us/req %7s req/s p99 %6s us | ratio %s\n' \
        "$1" "$2" "$rc" "$(cut -d' ' -f2 "$tmp/rs" | median)" "$(cut -d' ' -f3 "$tmp/rs" | median)" \
        "$hc" "$(cut -d' ' -f2 "$tmp/ha" | median)" "$(cut -d' ' -f3 "$tmp/ha" | median)" \
        "$(echo "scale=2; $rc/$hc" | bc)"
}

scenario ka "keep-alive, small responses" safe ka / ""
scenario close "new client connection per request" safe close / ""
scenario always "new client connection per request" always close / ""
scenario acl "tutorial routing, 20 ACLs first" safe ka /app/x "$(acls)"
# Not one of issue 5's four: what most configs do, an httplog line per request to syslog
# (UDP, drained by the backend process on core 1).
scenario log "keep-alive, option httplog to UDP" safe ka / "$(printf '    log 127.0.0.1:%s local0\n    option httplog' "$BE")"

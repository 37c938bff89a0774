#!/bin/sh
# Time `haproxyrs -c` against `haproxy -c` on the generated 100 000-line config
# (issue 3, point 11). Target: haproxyrs under 0.5 s and faster than haproxy.
# Usage: bench/config/run.sh [BACKENDS]   (from the repository root; default 5000)
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cargo build --release -q -p haproxyrs --manifest-path "$root/Cargo.toml"
bin="$root/target/release/haproxyrs"
python3 "$root/bench/config/gen.py" "${1:-5000}" > "$tmp/big.cfg"
lines=$(wc -l < "$tmp/big.cfg")
# Best of 3 wall-clock runs, in seconds.
best() {
    b=""
    for _ in 1 2 3; do
        s=$(date +%s.%N)
        "$@" -c -q -f "$tmp/big.cfg" >/dev/null 2>&1 || { echo "FAILED: $* -c" >&2; "$@" -c -f "$tmp/big.cfg" 2>&1 | tail -5 >&2; exit 1; }
        e=$(date +%s.%N)
        t=$(echo "$e - $s" | bc)
        if [ -z "$b" ] || [ "$(echo "$t < $b" | bc)" = 1 ]; then b=$t; fi
    done
    echo "$b"
}
ours=$(best "$bin")
echo "config: $lines lines"
printf 'haproxyrs -c: %.3f s\n' "$ours"
if command -v haproxy >/dev/null 2>&1; then
    theirs=$(best haproxy)
    printf 'haproxy -c:   %.3f s\n' "$theirs"
    printf 'ratio (haproxy / haproxyrs): %.1fx\n' "$(echo "$theirs / $ours" | bc -l)"
else
    echo "haproxy not installed: no comparison"
fi

# The config both proxies run in the HTTP benchmarks (sourced by run.sh and counts.sh):
# `config REUSE [EXTRA-FRONTEND-LINES]`, with $FE and $BE set.
config() { # $1 = http-reuse mode, $2 = extra frontend lines (optional)
    cat <<CFG
global
    nbthread 1
defaults
    mode http
    timeout client 10s
    timeout server 10s
    timeout connect 5s
    http-reuse $1
frontend fe
    bind 127.0.0.1:$FE
${2:-}
    default_backend be
backend be
    server s1 127.0.0.1:$BE
backend other
    server s1 127.0.0.1:$BE
CFG
}

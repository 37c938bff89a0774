#!/usr/bin/env python3
"""Write a large, valid haproxy.cfg for the config-loading benchmark (issue 3, point 11).

Shape (defaults: 100 000+ lines): 5 000 backends with 4 servers each (20 000 servers, IP
addresses only, so no name resolution), 50 frontends with 400 ACLs and 400 use_backend
rules each (20 000 ACLs), plus per-backend timeouts, options and header rules.

Usage: gen.py [BACKENDS] > big.cfg
"""
import sys


def main():
    backends = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    frontends = max(1, backends // 100)
    per_fe = backends // frontends
    out = sys.stdout
    w = out.write
    w("global\n    maxconn 100000\n    log 127.0.0.1:514 local0\n\n")
    w("defaults\n    mode http\n    log global\n    option httplog\n    option dontlognull\n"
      "    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n    retries 3\n\n")
    for f in range(frontends):
        w(f"frontend fe{f}\n    bind 127.0.0.1:{10000 + f}\n    option forwardfor\n")
        first = f * per_fe
        for i in range(first, first + per_fe):
            w(f"    acl is_b{i} path_beg /b{i}/\n")
        for i in range(first, first + per_fe):
            w(f"    use_backend be{i} if is_b{i}\n")
        w(f"    default_backend be{first}\n\n")
    for b in range(backends):
        w(f"backend be{b}\n    balance roundrobin\n    option http-server-close\n"
          f"    timeout queue 10s\n    http-request set-header X-Backend be{b}\n"
          f"    http-response set-header X-Served-By be{b}\n    retries 2\n"
          f"    timeout connect 3s\n    timeout server 20s\n    option redispatch\n"
          f"    http-request del-header X-Internal\n    http-response del-header Server\n"
          f"    cookie SRV insert indirect nocache\n")
        for s in range(4):
            n = b * 4 + s
            w(f"    server s{s} 10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}:8080 weight {1 + s} maxconn 100 cookie c{s}\n")
        w("\n")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Makes N distinct keys on loopback: one 20-byte UDP datagram from each of N addresses in
127.2.0.0/15 to 127.0.0.1:9. For measuring nstats' memory per key live:

    nstats -i lo --listen 127.0.0.1:9781 --local-net 127.0.0.1/32 --max-flows N \
           --buffer-size 64MiB --interval 60s &
    python3 bench/spray_keys.py N; sleep 3; grep VmRSS /proc/$(pgrep -n nstats)/status
"""
import socket, sys
n = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(n):
    s2 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s2.bind((f"127.{2 + (i >> 16)}.{(i >> 8) & 0xff}.{i & 0xff}", 0))
    s2.sendto(b"x" * 20, ("127.0.0.1", 9))
    s2.close()

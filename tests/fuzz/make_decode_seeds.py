#!/usr/bin/env python3
"""Writes seed inputs for fuzz_decode: one byte of link-type index, then a frame."""
import os
import socket
import struct
import sys

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus", "decode")
os.makedirs(out, exist_ok=True)

ETH, SLL, SLL2, RAW, IPV4, IPV6, NULL, LOOP = range(8)
MAC = bytes([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2])


def v4(src, dst, proto, payload, frag=0, opts=b""):
    ihl = 5 + len(opts) // 4
    hdr = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, ihl * 4 + len(payload), 1, frag, 64, proto, 0,
                      socket.inet_pton(socket.AF_INET, src), socket.inet_pton(socket.AF_INET, dst))
    return hdr + opts + payload


def v6(src, dst, nxt, payload):
    return struct.pack("!IHBB16s16s", 0x60000000, len(payload), nxt, 64,
                       socket.inet_pton(socket.AF_INET6, src), socket.inet_pton(socket.AF_INET6, dst)) + payload


def tcp(sport, dport, flags=0x10):
    return struct.pack("!HHIIBBHHH", sport, dport, 1, 0, 0x50, flags, 65535, 0, 0)


def udp(sport, dport, data=b""):
    return struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data


seeds = {
    "eth_v4_tcp": (ETH, MAC + b"\x08\x00" + v4("198.18.0.1", "198.19.0.2", 6, tcp(40000, 443, 2))),
    "eth_v4_opts": (ETH, MAC + b"\x08\x00" + v4("198.18.0.1", "198.19.0.2", 17, udp(53, 40000), opts=b"\x01" * 8)),
    "eth_v4_frag": (ETH, MAC + b"\x08\x00" + v4("198.18.0.1", "198.19.0.2", 17, b"x" * 40, frag=0x0020)),
    "eth_vlan_v4": (ETH, MAC + b"\x81\x00\x00\x64\x08\x00" + v4("198.18.0.1", "198.19.0.2", 1, b"\x08" + b"\x00" * 7)),
    "eth_qinq_v6": (ETH, MAC + b"\x88\xa8\x00\x0a\x81\x00\x00\x14\x86\xdd" + v6("2001:db8::1", "2001:db8:1::2", 6, tcp(443, 50000))),
    "eth_v6_ext": (ETH, MAC + b"\x86\xdd" + v6("2001:db8::1", "2001:db8::2", 0,
                                               bytes([60, 0]) + b"\x00" * 6 + bytes([44, 0]) + b"\x00" * 6 +
                                               bytes([17, 0, 0, 1]) + b"\x00" * 4 + udp(1, 2))),
    "eth_arp": (ETH, MAC + b"\x08\x06" + b"\x00" * 28),
    "sll_v4": (SLL, struct.pack("!HHH8sH", 4, 1, 6, b"\x00" * 8, 0x0800) + v4("198.18.0.1", "198.19.0.2", 6, tcp(1, 2))),
    "sll2_v6": (SLL2, struct.pack("!HHIHBB8s", 0x86dd, 0, 2, 1, 0, 6, b"\x00" * 8) + v6("2001:db8::1", "2001:db8::2", 58, b"\x80" + b"\x00" * 7)),
    "raw_v4": (RAW, v4("198.18.0.1", "198.19.0.2", 132, b"\x00\x01\x00\x02" + b"\x00" * 8)),
    "ipv6_ah": (IPV6, v6("2001:db8::1", "2001:db8::2", 51, bytes([17, 4]) + b"\x00" * 22 + udp(500, 500))),
    "null_v6": (NULL, struct.pack("<I", 30) + v6("2001:db8::1", "2001:db8::2", 17, udp(1, 2))),
    "loop_v4": (LOOP, struct.pack(">I", 2) + v4("127.0.0.1", "127.0.0.1", 6, tcp(1, 2))),
    "ipv4_bad_ihl": (IPV4, b"\x44" + v4("1.2.3.4", "5.6.7.8", 6, tcp(1, 2))[1:]),
}
for name, (dlt, frame) in seeds.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(bytes([dlt]) + frame)

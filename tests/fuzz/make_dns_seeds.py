#!/usr/bin/env python3
"""Writes seed inputs from a real DNS server: dnsmasq on 127.0.0.1 (loopback only) answers A,
AAAA, CNAME chains, PTR, MX, TXT, SRV, ANY, EDNS, unknown names and 40-address answers, over UDP
and TCP. The
queries and answers become fuzz_dns seeds (the DNS message); with tcpdump and root, the frames
captured on lo become fuzz_decode seeds (link-type byte 0, Ethernet, then the frame)."""
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

root = os.path.dirname(os.path.abspath(__file__))
dns_out = os.path.join(root, "corpus", "dns")
decode_out = os.path.join(root, "corpus", "decode")
PORT = 53535
ADDR = "127.0.0.1"


def name(n):
    return b"".join(bytes([len(l)]) + l.encode() for l in n.split(".") if l) + b"\0"


def query(qid, qname, qtype, edns=False):
    q = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 1 if edns else 0) + name(qname)
    q += struct.pack("!HH", qtype, 1)
    if edns:
        q += b"\0" + struct.pack("!HHIH", 41, 1232, 0, 0)
    return q


def ask(q, tcp=False, family=socket.AF_INET, server=ADDR):
    if tcp:
        with socket.create_connection((server, PORT), timeout=5) as s:
            s.sendall(struct.pack("!H", len(q)) + q)
            n = struct.unpack("!H", s.recv(2))[0]
            data = b""
            while len(data) < n:
                data += s.recv(n - len(data))
            return data
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        s.settimeout(5)
        s.sendto(q, (server, PORT))
        return s.recv(65535)


def frames(pcap):
    """The frames of a classic little-endian pcap file."""
    with open(pcap, "rb") as f:
        data = f.read()
    magic, _, _, _, _, _, linktype = struct.unpack("<IHHiIII", data[:24])
    assert magic == 0xa1b2c3d4 and linktype == 1, "an Ethernet pcap"
    off = 24
    while off + 16 <= len(data):
        _, _, caplen, _ = struct.unpack("<IIII", data[off:off + 16])
        yield data[off + 16:off + 16 + caplen]
        off += 16 + caplen


def main():
    if not shutil.which("dnsmasq"):
        sys.exit("needs dnsmasq")
    tmp = tempfile.mkdtemp(prefix="nstats-seeds-")
    dump = None
    pcap = os.path.join(tmp, "dns.pcap")
    if shutil.which("tcpdump") and os.geteuid() == 0:
        dump = subprocess.Popen(["tcpdump", "-i", "lo", "-s", "0", "-U", "--immediate-mode", "-w", pcap,
                                 f"port {PORT}"], stderr=subprocess.DEVNULL)
    big = [f"--host-record=big.lab.test,198.18.1.{i}" for i in range(1, 41)]
    server = subprocess.Popen(
        ["dnsmasq", "--no-daemon", "--no-resolv", "--no-hosts", "--bind-interfaces",
         f"--listen-address={ADDR}", f"--port={PORT}", f"--pid-file={tmp}/pid",
         "--host-record=db.lab.test,198.18.0.10,2001:db8::10",
         "--host-record=web.lab.test,198.18.0.11",
         "--cname=www.lab.test,web.lab.test",
         "--cname=alias.lab.test,www.lab.test",
         "--ptr-record=12.0.18.198.in-addr.arpa,printer.lab.test",
         "--mx-host=lab.test,mail.lab.test,10",
         "--txt-record=txt.lab.test,\"v=spf1 -all\",second",
         "--srv-host=_http._tcp.lab.test,web.lab.test,80,0,5"] + big, stderr=subprocess.DEVNULL)
    try:
        time.sleep(1)
        seeds = {
            "real_a": query(0x1001, "db.lab.test", 1),
            "real_aaaa_edns": query(0x1002, "db.lab.test", 28, edns=True),
            "real_cname_chain": query(0x1003, "Alias.Lab.Test", 1),
            "real_ptr": query(0x1004, "12.0.18.198.in-addr.arpa", 12),
            "real_mx": query(0x1005, "lab.test", 15),
            "real_txt": query(0x1006, "txt.lab.test", 16),
            "real_srv": query(0x1007, "_http._tcp.lab.test", 33),
            "real_unknown": query(0x1008, "nothing.lab.test", 1),
            "real_big": query(0x1009, "big.lab.test", 1, edns=True),
            "real_any": query(0x100a, "db.lab.test", 255),
        }
        for seed, q in seeds.items():
            answer = ask(q)
            with open(os.path.join(dns_out, seed), "wb") as f:
                f.write(answer)
        with open(os.path.join(dns_out, "real_query_edns"), "wb") as f:
            f.write(seeds["real_aaaa_edns"])
        # Over TCP, the answer as the wire carries it: with its length prefix.
        answer = ask(seeds["real_cname_chain"], tcp=True)
        with open(os.path.join(dns_out, "real_tcp_framed"), "wb") as f:
            f.write(struct.pack("!H", len(answer)) + answer)
        time.sleep(1)
    finally:
        server.terminate()
        server.wait()
        if dump is not None:
            dump.terminate()
            dump.wait()
    if dump is not None:
        wanted = {0: "real_udp_query", 1: "real_udp_answer"}
        tcp_done = False
        for i, frame in enumerate(frames(pcap)):
            if i in wanted:
                with open(os.path.join(decode_out, wanted[i]), "wb") as f:
                    f.write(b"\0" + frame)
            # The first TCP segment from port 53 that carries data.
            if not tcp_done and frame[23] == 6 and frame[34:36] == struct.pack("!H", PORT) \
                    and len(frame) > 14 + 20 + (frame[46] >> 4) * 4:
                with open(os.path.join(decode_out, "real_tcp_answer"), "wb") as f:
                    f.write(b"\0" + frame)
                tcp_done = True
    shutil.rmtree(tmp)


main()

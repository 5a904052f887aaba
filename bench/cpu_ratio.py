#!/usr/bin/env python3
"""Interleaved rounds of whole commands, CPU time (user + system of the command and its
threads, from wait4) and peak RSS, medians, and each command's ratio to the first one.

    bench/cpu_ratio.py ROUNDS 'LABEL=CMD ARGS...' 'LABEL=CMD ARGS...' ...

e.g. pcapread against two nstats builds on the benchmark's main capture:

    bench/cpu_ratio.py 7 "pcapread=build/pcapread main.pcap" \\
        "before=old/nstats -r main.pcap --local-net 198.18.0.1/32 --max-flows 100000" \\
        "after=build/nstats -r main.pcap --local-net 198.18.0.1/32 --max-flows 100000"

Output goes to /dev/null; only the machine's noise is shared, since every round runs each
command once, in order."""
import os
import shlex
import statistics
import subprocess
import sys


def main():
    if len(sys.argv) < 3 or not sys.argv[1].isdigit():
        sys.exit(__doc__)
    rounds = int(sys.argv[1])
    cmds = [arg.split("=", 1) for arg in sys.argv[2:]]
    runs = {label: [] for label, _ in cmds}
    for _ in range(rounds):
        for label, cmd in cmds:
            p = subprocess.Popen(shlex.split(cmd), stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
            _, status, usage = os.wait4(p.pid, 0)
            if status != 0:
                sys.exit(f"{label}: exit status {status >> 8}")
            runs[label].append((usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024,
                                usage.ru_utime, usage.ru_stime))
    base = statistics.median(run[0] for run in runs[cmds[0][0]])
    for label, _ in cmds:
        cpus = [run[0] for run in runs[label]]
        cpu = statistics.median(cpus)
        user = statistics.median(run[2] for run in runs[label])
        system = statistics.median(run[3] for run in runs[label])
        print(f"{label:12s} cpu {cpu:.3f} s (min {min(cpus):.3f}, max {max(cpus):.3f}; "
              f"user {user:.3f}, system {system:.3f}), "
              f"rss {statistics.median(run[1] for run in runs[label]):.1f} MB, "
              f"{cpu / base:.2f}x {cmds[0][0]}")


main()

#!/usr/bin/env python3
"""The image builds: deploy/Dockerfile's build stage, read from the file itself, runs in a fresh
Debian root made by mmdebstrap (no container engine needed): its COPY lines copy the context as
docker build would (.dockerignore honoured), its RUN lines run in the root through chroot. The
root filesystem the final stage copies then runs nstats as the image's user, with the image's
environment, in a network namespace of its own: --version, a replay whose totals equal the
generator's ledger, and the daemon answering the image's HEALTHCHECK. Nothing is cached between
runs: apt downloads every package, as on a fresh CI machine."""
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import tempfile
import time

from harness import (PCAPGEN, Checks, LineWatcher, capture_totals, have, parse_output,
                     read_ledger, require, run)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOCKERFILE = os.path.join(ROOT, "deploy", "Dockerfile")
MIRROR = "http://deb.debian.org"
STEP_SECONDS = 600  # one RUN line: apt on a slow mirror, or the build on two shared cores
# The environment of a RUN line: the debian image's ENV (PATH) and the HOME Docker sets for root.
BUILD_ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
             "HOME": "/root"}
# What Debian's -slim images leave out (debuerreotype's slimify); later apt installs in the root
# honour it too, as they do in the image.
SLIM_DPKG = ["path-exclude=/usr/share/doc/*", "path-include=/usr/share/doc/*/copyright",
             "path-exclude=/usr/share/man/*", "path-exclude=/usr/share/groff/*",
             "path-exclude=/usr/share/info/*", "path-exclude=/usr/share/lintian/*",
             "path-exclude=/usr/share/linda/*", "path-exclude=/usr/share/locale/*",
             "path-include=/usr/share/locale/locale.alias"]


def reachable(host, port):
    try:
        socket.create_connection((host, port), timeout=10).close()
        return True
    except OSError:
        return False


require(os.geteuid() == 0, "root (mmdebstrap, chroot, mount, setcap)")
require(all(have(t) for t in ("mmdebstrap", "chroot", "unshare", "nsenter", "mount", "ip")),
        "mmdebstrap (scripts/install-deps.sh test), chroot, unshare, nsenter, mount, ip")
require(reachable("deb.debian.org", 80), "network: deb.debian.org:80 (apt in the image build)")

c = Checks()


def instructions(path):
    """The Dockerfile as (INSTRUCTION, arguments) pairs: comments dropped, continuations joined."""
    out, cur = [], ""
    for line in open(path):
        stripped = line.strip()
        if stripped.startswith("#") or (not stripped and not cur):
            continue
        if stripped.endswith("\\"):
            cur += stripped[:-1] + " "
            continue
        cur += stripped
        word, _, rest = cur.partition(" ")
        out.append((word.upper(), rest.strip()))
        cur = ""
    return out


def stages(instrs):
    """[(image, name, [(INSTRUCTION, arguments)...])] per FROM."""
    out = []
    for word, args in instrs:
        if word == "FROM":
            parts = args.split()
            name = parts[2] if len(parts) == 3 and parts[1].upper() == "AS" else None
            out.append((parts[0], name, []))
        else:
            out[-1][2].append((word, args))
    return out


def ignore_patterns():
    """.dockerignore as [(exclude, regex)], in order: the last pattern that matches decides."""
    path = os.path.join(ROOT, ".dockerignore")
    out = []
    for line in open(path) if os.path.exists(path) else []:
        p = line.strip()
        if not p or p.startswith("#"):
            continue
        exclude = not p.startswith("!")
        p = os.path.normpath(p.lstrip("!").strip()).lstrip("/")
        rx, i = "", 0
        while i < len(p):
            if p.startswith("**/", i):
                rx, i = rx + "(?:.*/)?", i + 3
            elif p.startswith("**", i):
                rx, i = rx + ".*", i + 2
            elif p[i] == "*":
                rx, i = rx + "[^/]*", i + 1
            elif p[i] == "?":
                rx, i = rx + "[^/]", i + 1
            elif p[i] == "[" and "]" in p[i:]:
                j = p.index("]", i)
                rx, i = rx + p[i:j + 1], j + 1
            else:
                rx, i = rx + re.escape(p[i]), i + 1
        out.append((exclude, re.compile(rx)))
    return out


IGNORE = ignore_patterns()


def ignored(rel):
    """True when docker build leaves rel (relative to the context) out: a pattern matching it or
    one of its parent directories, as Docker's pattern matcher does."""
    parts = rel.split("/")
    verdict = False
    for exclude, rx in IGNORE:
        if any(rx.fullmatch("/".join(parts[:n])) for n in range(1, len(parts) + 1)):
            verdict = exclude
    return verdict


def copy_entry(src, dst):
    if os.path.islink(src):
        os.symlink(os.readlink(src), dst)
    else:
        shutil.copy2(src, dst)


def copy_context(rel_src, dst):
    """COPY rel_src dst from the context (the repository), skipping what .dockerignore excludes.
    Returns the number of files copied."""
    src = os.path.normpath(os.path.join(ROOT, rel_src))
    if not os.path.isdir(src):
        if dst.endswith("/"):
            dst = os.path.join(dst, os.path.basename(src))
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        copy_entry(src, dst)
        return 1
    count = 0
    for d, dirs, files in os.walk(src):
        reld = os.path.relpath(d, ROOT)
        reld = "" if reld == "." else reld + "/"
        target = os.path.join(dst, os.path.relpath(d, src))
        os.makedirs(target, exist_ok=True)
        links = [x for x in dirs if os.path.islink(os.path.join(d, x))]
        dirs[:] = [x for x in dirs if x not in links and not ignored(reld + x)]
        for f in files + links:
            if not ignored(reld + f):
                copy_entry(os.path.join(d, f), os.path.join(target, f))
                count += 1
    return count


def tail(text, n=3000):
    return text if len(text) <= n else "..." + text[-n:]


def mounted_under(path):
    """Mount points at or below path (from this process's mount table)."""
    out = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mp = line.split()[4].encode().decode("unicode_escape")
            if mp == path or mp.startswith(path + "/"):
                out.append(mp)
    return out


def build(stage, root, timings):
    """Runs the build stage's COPY and RUN lines in root. Returns False at the first failure."""
    for word, args in stage:
        started = time.time()
        if word == "COPY":
            parts = shlex.split(args)
            c.ok(not any(p.startswith("--") for p in parts),
                 f"build stage COPY from the context only: {args}")
            dst = os.path.join(root, parts[-1].lstrip("/")) + ("/" if parts[-1].endswith("/")
                                                               else "")
            n = sum(copy_context(s, dst) for s in parts[:-1])
            print(f"COPY {args}: {n} files", flush=True)
            continue
        if not c.ok(word == "RUN" and not args.startswith("["),
                    f"test_image.py runs only COPY and shell-form RUN lines, not {word} {args}"):
            return False
        # RUN's shell form is /bin/sh -c, from /, with the image's environment.
        r = run(chrooted(root, ["/bin/sh", "-c", args]), env=BUILD_ENV, timeout=STEP_SECONDS,
                capture_output=False, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        timings.append((f"RUN {args[:60]}", time.time() - started))
        print(f"RUN {args[:60]}...: exit {r.returncode} in {time.time() - started:.0f} s",
              flush=True)
        if not c.eq(r.returncode, 0, f"RUN {args}\n{tail(r.stdout)}"):
            return False
    return True


def chrooted(root, argv, user=None, net=False):
    """A command line running argv in root as a container engine would: in a mount namespace of
    its own with /proc mounted (gone with the process, however it ends, so nothing is left
    mounted), as user, and with net, in a network namespace of its own with loopback up."""
    setup = 'mount -t proc proc "$1/proc"' + (" && ip link set lo up" if net else "")
    return (["unshare", "--mount", "--propagation", "private"] + (["--net"] if net else []) +
            ["sh", "-c", setup + ' && shift && exec "$@"', "sh", root, "chroot"] +
            ([f"--userspec={user}"] if user else []) + [root] + argv)


def check_runtime(rootfs, user, env, entrypoint, healthcheck, tmp):
    r = run(chrooted(rootfs, entrypoint + ["--version"], user, net=True), env=env)
    c.ok(r.returncode == 0 and r.stdout.startswith("nstats "),
         f"--version in the image as {user}: {r.stdout.strip()} {r.stderr.strip()}")
    ledger = os.path.join(tmp, "t.csv")
    pcap = os.path.join(rootfs, "tmp", "t.pcap")
    run([PCAPGEN, "--out", pcap, "--ledger", ledger, "--packets", "5000", "--peers", "50"],
        check=True)
    os.chmod(pcap, 0o644)
    # The image sets NSTATS_LISTEN, which makes /metrics the sink: --stdout asks for rows too.
    r = run(chrooted(rootfs, entrypoint + [
        "-r", "/tmp/t.pcap", "--stdout", "--local-net", "198.18.0.1", "--local-net",
        "2001:db8::1"], user, net=True), env=env)
    c.eq(r.returncode, 0, f"-r replay in the image as {user} ({r.stderr.strip()})")
    c.eq(capture_totals(parse_output(r.stdout))[1],
         sum(v[0] + v[1] for v in read_ledger(ledger).values()), "replay in the image: totals")
    # The daemon as the image runs it (ENTRYPOINT, ENV) on the namespace's loopback: capture
    # needs the binary's file capability, and the HEALTHCHECK must pass.
    daemon = subprocess.Popen(chrooted(rootfs, entrypoint + ["-i", "lo"], user, net=True),
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              text=True)
    watcher = LineWatcher(daemon.stderr)
    try:
        c.ok(watcher.wait_for("capturing on", 20),
             f"daemon in the image as {user} ({''.join(watcher.lines).strip()})")
        ok = False
        for _ in range(20):
            r = run(["nsenter", f"--net=/proc/{daemon.pid}/ns/net", "chroot",
                     f"--userspec={user}", rootfs] + healthcheck, env=env)
            if r.returncode == 0 or daemon.poll() is not None:
                ok = r.returncode == 0
                break
            time.sleep(0.5)
        c.ok(ok, f"HEALTHCHECK {healthcheck} ({r.stdout.strip()} {r.stderr.strip()})")
    finally:
        daemon.terminate()
        try:
            daemon.wait(timeout=30)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()
    c.eq(daemon.returncode, 0, f"daemon exits cleanly on SIGTERM ({watcher.text().strip()[-300:]})")


def main():
    started = time.time()
    all_stages = stages(instructions(DOCKERFILE))
    (image, name, steps), final = all_stages[0], all_stages[-1]
    m = re.fullmatch(r"debian:([a-z]+)(-slim)?", image)
    if not c.ok(m is not None, f"build stage FROM a Debian image: {image}"):
        return
    suite = m.group(1)

    c.eq(final[0], "scratch", "final stage FROM scratch")
    fin = {}
    for word, args in final[2]:
        fin.setdefault(word, []).append(args)
    copies = [shlex.split(a) for a in fin.get("COPY", [])]
    c.eq([(p[0], p[-1]) for p in copies], [(f"--from={name}", "/")],
         "final stage: one COPY --from the build stage into /")
    c.eq(fin.get("USER"), ["65532:65532"], "USER 65532:65532")
    entrypoint = json.loads(fin.get("ENTRYPOINT", ["[]"])[0])
    c.eq(entrypoint, ["/usr/bin/nstats"], "ENTRYPOINT")
    hc = fin.get("HEALTHCHECK", ["CMD []"])[0]
    healthcheck = json.loads(hc[hc.index("CMD") + 3:])
    env = dict(BUILD_ENV, HOME="/")
    for args in fin.get("ENV", []):
        for kv in shlex.split(args):
            k, _, v = kv.partition("=")
            env[k] = v
    staged = copies[0][1] if copies else "/rootfs"

    tmp = tempfile.mkdtemp(prefix="nstats-image-")
    os.chmod(tmp, 0o755)
    root = os.path.join(tmp, "root")
    rootfs = os.path.join(root, staged.lstrip("/"))
    timings = []
    try:
        t0 = time.time()
        # In a mount namespace of its own too, so that its mounts cannot outlive it either.
        cmd = ["unshare", "--mount", "--propagation", "private", "mmdebstrap", "--mode=root",
               "--variant=minbase", "--format=directory"]
        cmd += [f"--dpkgopt={o}" for o in SLIM_DPKG]
        cmd += [suite, root, f"deb {MIRROR}/debian {suite} main",
                f"deb {MIRROR}/debian {suite}-updates main",
                f"deb {MIRROR}/debian-security {suite}-security main"]
        r = run(cmd, timeout=STEP_SECONDS)
        timings.append((f"mmdebstrap {suite} (minbase)", time.time() - t0))
        if not c.eq(r.returncode, 0, f"mmdebstrap\n{tail(r.stderr)}"):
            return
        shutil.copy("/etc/resolv.conf", os.path.join(root, "etc", "resolv.conf"))
        if not build(steps, root, timings):
            return
        src = os.path.join(root, "src")
        c.ok(not os.path.exists(os.path.join(src, ".git")) and
             not any(d.startswith("build") for d in os.listdir(src)),
             f".dockerignore keeps .git and build directories out: {sorted(os.listdir(src))}")
        c.ok(not os.path.exists(os.path.join(rootfs, "bin", "sh")), "no shell in the image")
        ca = os.path.join(rootfs, "etc", "ssl", "certs", "ca-certificates.crt")
        c.ok(os.path.isfile(ca) and os.path.getsize(ca) > 0,
             "CA certificates in the image (for https:// InfluxDB URLs)")
        os.makedirs(os.path.join(rootfs, "proc"), exist_ok=True)
        check_runtime(rootfs, fin.get("USER", ["65532:65532"])[0], env, entrypoint,
                      healthcheck, tmp)
    finally:
        # Every mount was made in a namespace that ended with its command; never delete
        # through one that was not.
        if c.eq(mounted_under(tmp), [], "nothing left mounted"):
            shutil.rmtree(tmp)
        total = time.time() - started
        for what, seconds in timings:
            print(f"  {seconds:6.1f} s  {what}", flush=True)
        print(f"test_image: {total:.0f} s in all", flush=True)


main()
c.finish()

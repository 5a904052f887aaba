#!/bin/sh
# Stages the runtime root filesystem of the nstats image: the binary with a CAP_NET_RAW file
# capability, exactly the shared libraries it links (from ldd), CA certificates, and a
# non-root user. The Dockerfile copies this tree into an empty image; tests chroot into it,
# so the image's contents are checked on machines without a container engine.
set -eu

if [ $# -ne 2 ]; then
    echo "usage: $0 NSTATS_BINARY ROOTFS_DIR" >&2
    exit 2
fi
bin=$1
root=$2
uid=65532

if [ -d "$root/proc" ] && mountpoint -q "$root/proc" 2>/dev/null; then
    echo "rootfs.sh: $root/proc is mounted; unmount it first" >&2
    exit 1
fi
rm -rf "$root"
mkdir -p "$root/usr/bin" "$root/etc/ssl/certs" "$root/tmp" "$root/var/spool/nstats"
chmod 1777 "$root/tmp"
install -m 0755 "$bin" "$root/usr/bin/nstats"

# Every library the binary needs, at the path the dynamic loader will look for it.
ldd "$bin" | awk '/=> \// { print $3 } /^\t\/[^ ]+ \(/ { print $1 }' | sort -u | while read -r lib; do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
done

if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
    cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
fi
printf 'root:x:0:0:root:/:/nonexistent\nnstats:x:%s:%s:nstats:/:/nonexistent\n' $uid $uid \
    >"$root/etc/passwd"
printf 'root:x:0:\nnstats:x:%s:\n' $uid >"$root/etc/group"
printf 'hosts: files dns\n' >"$root/etc/nsswitch.conf"
chown $uid:$uid "$root/var/spool/nstats"

# Capture as a non-root user: the file capability puts CAP_NET_RAW in the process's permitted
# set where the bounding set has it (the container runtime's default set, or the pod's
# capabilities: add), and nstats raises it itself. Permitted, not effective (+p, not +ep): the
# kernel refuses to exec a binary whose effective file capability it cannot grant, so with +ep
# nstats would not even start to say why it cannot capture, nor answer --probe.
# CAP_NET_ADMIN likewise, for reading conntrack (NAT-exact node mode): only where the pod
# adds it (no shipped manifest does; docs/COST.md says how), and used for nothing else.
if command -v setcap >/dev/null 2>&1; then
    setcap cap_net_admin,cap_net_raw+p "$root/usr/bin/nstats"
else
    echo "rootfs.sh: setcap not found (Debian libcap2-bin); the binary has no file capability" >&2
fi
echo "rootfs.sh: staged $(find "$root" -type f | wc -l) files in $root"

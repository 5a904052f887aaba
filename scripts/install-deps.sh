#!/bin/sh
# Installs the Debian packages nstats needs: "build" to build and run it, "image" to stage the
# container image's root filesystem (deploy/Dockerfile runs this), "test" for the whole test
# suite, "bench" for the benchmark. This file is the one list of build packages. Skips apt when
# everything is already there.
set -eu

build="cmake make gcc libc6-dev pkg-config libpcap-dev libcurl4-openssl-dev zlib1g-dev libmicrohttpd-dev libc-ares-dev libjansson-dev libncurses-dev libsnappy-dev libnetfilter-conntrack-dev libjs-chart.js"
# deploy/rootfs.sh copies the CA bundle into the image and gives the binary its capability.
image="$build ca-certificates libcap2-bin"
test="$image python3 python3-yaml clang clang-format clang-tidy cppcheck tshark tcpdump tcpreplay iperf3 iproute2 curl time influxdb victoria-metrics nginx-light openssl prometheus protobuf-compiler libprotobuf-dev python3-protobuf python3-snappy systemd groff-base man-db dnsmasq-base tmux chromium mmdebstrap iptables ethtool"
bench="$test darkstat softflowd"

case "${1:-build}" in
build) pkgs=$build ;;
image) pkgs=$image ;;
test) pkgs=$test ;;
bench) pkgs=$bench ;;
*) echo "usage: $0 [build|image|test|bench]" >&2; exit 2 ;;
esac

missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing packages:$missing (run as root, or install them)" >&2
    exit 1
fi
echo "install-deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null

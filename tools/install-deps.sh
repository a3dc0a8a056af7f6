#!/bin/sh
# tools/install-deps.sh -- install the Debian 12 packages egressd needs.
#   tools/install-deps.sh          build and run
#   tools/install-deps.sh --test   also what the test suite and fuzzing need
#   tools/install-deps.sh --bench  that and what bench/run.sh needs (dnsperf, unbound)
# Run as root.  Installs only from Debian's archive; idempotent.
set -eu
BUILD="build-essential autoconf automake pkg-config
  libunbound-dev libldns-dev libevent-dev libssl-dev libnghttp2-dev
  liblmdb-dev libmaxminddb-dev libyaml-dev libcmocka-dev dns-root-data"
TEST="nsd ldnsutils bind9-dnsutils knot-dnsutils python3 iproute2 procps openssl
  clang libclang-rt-14-dev mandoc bc libmaxmind-db-writer-perl nftables prometheus curl
  python3-h2 nghttp2-client"
pkgs=$BUILD
[ "${1:-}" = --test ] && pkgs="$BUILD $TEST"
BENCH="dnsperf unbound coreutils util-linux nghttp2-client"
[ "${1:-}" = --bench ] && pkgs="$BUILD $TEST $BENCH"
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: run as root (apt-get needs it)" >&2
  exit 1
fi
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "install-deps: installing$missing" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
# Debian's nsd package starts a system instance on port 53; the test bed
# runs its own, so keep the packaged one out of the way.
if [ "${1:-}" != "" ] && command -v systemctl >/dev/null 2>&1; then
  systemctl disable --now nsd >/dev/null 2>&1 || true
  # likewise the packaged unbound: bench/run.sh runs its own from a config it writes
  [ "${1:-}" = --test ] || systemctl disable --now unbound >/dev/null 2>&1 || true
fi

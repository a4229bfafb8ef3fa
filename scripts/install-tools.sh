#!/usr/bin/env bash
# The versions users run, from Debian testing (forky) on this bookworm machine: apt-get
# download into a private apt state under .tmp/apt (the system's sources are never touched,
# nothing is upgraded), dpkg -x, and each binary put where it is used:
# - Compose v2 in ~/.docker/cli-plugins/ (unless a Compose v2 answers already);
# - prometheus, promtool and process-exporter 0.8.7 (for its stand-in image) in .tmp/tools/bin/;
# - with --engine, for npm run test:compose: Docker Engine 28.5 (dockerd, docker-proxy, the
#   docker CLI), containerd 2.1, tini as docker-init, and bookworm's own runc 1.1.5 (forky's
#   wants glibc 2.38) in .tmp/tools/engine/bin/; buildx and Compose as CLI plugins of a
#   private DOCKER_CONFIG, .tmp/tools/docker-config/cli-plugins/.
# All are Go binaries needing only libc (dockerd also libsystemd0, runc libseccomp2: both
# in bookworm's base). The engine needs iptables at run time (scripts/engine.sh installs
# it). Nothing here needs root. Rerunning is cheap: what is in place is kept.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf 'install-tools: %s\n' "$*"; }
suite=forky
compose_version=2.40.3
prometheus_version=3.5.3
exporter_version=0.8.7 # the pinned image's, for the stand-in (bookworm has 0.7.10)
engine_version=28.5.2
containerd_version=2.1.9
buildx_version=0.29.1
runc_version=1.1.5 # bookworm's: forky's 1.3.6 needs glibc 2.38
bin=.tmp/tools/bin
engine_bin=.tmp/tools/engine/bin
engine_plugins=.tmp/tools/docker-config/cli-plugins
plugins=${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins
engine=0
[ "${1:-}" = --engine ] && engine=1
mkdir -p .tmp/apt/debs "$bin" "$plugins"

want_compose=1 want_prometheus=1 want_exporter=1 want_engine=$engine
# A Compose v2 the machine already has is left alone (a user's Docker Desktop, say).
docker compose version --short 2>/dev/null | grep -q '^v\?2\.' && want_compose=0
"$bin/prometheus" --version 2>/dev/null | grep -q "version $prometheus_version" &&
  "$bin/promtool" --version 2>/dev/null | grep -q "version $prometheus_version" && want_prometheus=0
"$bin/process-exporter" --version 2>&1 | grep -q "$exporter_version" && want_exporter=0
if [ $engine = 1 ] &&
  "$engine_bin/dockerd" --version 2>/dev/null | grep -q "version $engine_version" &&
  "$engine_bin/docker" --version 2>/dev/null | grep -q "version $engine_version" &&
  "$engine_bin/containerd" --version 2>/dev/null | grep -q " $containerd_version" &&
  "$engine_bin/runc" --version 2>/dev/null | grep -q "version $runc_version" &&
  [ -x "$engine_bin/docker-init" ] && [ -x "$engine_bin/docker-proxy" ] && [ -x "$engine_bin/containerd-shim-runc-v2" ] &&
  "$engine_plugins/docker-buildx" version 2>/dev/null | grep -q " $buildx_version" &&
  "$engine_plugins/docker-compose" version --short 2>/dev/null | grep -q "^$compose_version"; then
  want_engine=0
fi
if [ $want_compose = 0 ] && [ $want_prometheus = 0 ] && [ $want_exporter = 0 ] && [ $want_engine = 0 ]; then
  extra=""
  [ $engine = 0 ] || extra=", engine $engine_version, buildx $buildx_version"
  say "compose $(docker compose version --short), prometheus $prometheus_version, process-exporter $exporter_version$extra already in place"
  exit 0
fi

# forky is signed with the trixie archive keys that bookworm's debian-archive-keyring carries.
# runc comes from bookworm, in an apt state of its own, so that no suite's newer runc wins.
apt_state() { # suite: the apt-get options of a private state for that suite, in opts
  local dir=.tmp/apt/$1
  [ "$1" = "$suite" ] && dir=.tmp/apt
  mkdir -p "$dir/etc/preferences.d" "$dir/state/lists/partial" "$dir/cache/archives/partial"
  printf 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian %s main\n' "$1" >"$dir/etc/sources.list"
  opts=(
    -o Dir::Etc::SourceList="$PWD/$dir/etc/sources.list"
    -o Dir::Etc::SourceParts=/dev/null
    -o Dir::Etc::PreferencesParts="$PWD/$dir/etc/preferences.d"
    -o Dir::State="$PWD/$dir/state"
    -o Dir::State::status=/var/lib/dpkg/status
    -o Dir::Cache="$PWD/$dir/cache"
    -o APT::Architecture="$(dpkg --print-architecture)"
    -o Debug::NoLocking=1
  )
  say "apt-get update of $1 in $dir (private state; the system's sources are untouched)"
  apt-get "${opts[@]}" -qq update
}
apt_state "$suite"
apt_opts=("${opts[@]}")

fetch() { # package version [apt options...]: the .deb, unpacked into .tmp/apt/debs/<package>
  local pkg=$1 version=$2
  shift 2
  local opts=("$@")
  [ ${#opts[@]} -gt 0 ] || opts=("${apt_opts[@]}")
  rm -rf ".tmp/apt/debs/$pkg"
  (cd .tmp/apt/debs && rm -f "${pkg}"_*.deb && apt-get "${opts[@]}" -qq download "$pkg=$version*" >/dev/null 2>&1 ||
    apt-get "${opts[@]}" -qq download "$pkg")
  dpkg -x .tmp/apt/debs/"${pkg}"_*.deb ".tmp/apt/debs/$pkg"
}
if [ $want_compose = 1 ] || [ $want_engine = 1 ]; then
  fetch docker-compose "$compose_version"
fi
if [ $want_compose = 1 ]; then
  install -m 0755 .tmp/apt/debs/docker-compose/usr/libexec/docker/cli-plugins/docker-compose "$plugins/docker-compose"
fi
if [ $want_prometheus = 1 ]; then
  fetch prometheus "$prometheus_version"
  fetch promtool "$prometheus_version" # a package of its own in forky
  install -m 0755 .tmp/apt/debs/prometheus/usr/bin/prometheus .tmp/apt/debs/promtool/usr/bin/promtool "$bin/"
fi
if [ $want_exporter = 1 ]; then
  fetch prometheus-process-exporter "$exporter_version"
  install -m 0755 .tmp/apt/debs/prometheus-process-exporter/usr/bin/prometheus-process-exporter "$bin/process-exporter"
fi
if [ $want_engine = 1 ]; then
  mkdir -p "$engine_bin" "$engine_plugins"
  fetch docker.io "$engine_version"
  fetch docker-cli "$engine_version"
  fetch containerd "$containerd_version"
  fetch docker-buildx "$buildx_version"
  fetch tini-static 0.19 # docker-init: the init of `init: true` (the workshop service)
  apt_state bookworm
  fetch runc "$runc_version" "${opts[@]}"
  d=.tmp/apt/debs
  install -m 0755 "$d/docker.io/usr/sbin/dockerd" "$d/docker.io/usr/sbin/docker-proxy" "$d/docker-cli/usr/bin/docker" \
    "$d/containerd/usr/bin/containerd" "$d/containerd/usr/bin/containerd-shim-runc-v2" "$d/runc/usr/sbin/runc" "$engine_bin/"
  install -m 0755 "$d/tini-static/usr/bin/tini-static" "$engine_bin/docker-init"
  install -m 0755 "$d/docker-buildx/usr/libexec/docker/cli-plugins/docker-buildx" \
    "$d/docker-compose/usr/libexec/docker/cli-plugins/docker-compose" "$engine_plugins/"
fi
if [ $want_compose = 1 ]; then say "compose: $("$plugins/docker-compose" version --short) ($plugins/docker-compose)"; fi
say "prometheus: $("$bin/prometheus" --version 2>&1 | head -n 1)"
say "process-exporter: $("$bin/process-exporter" --version 2>&1 | head -n 1)"
if [ $engine = 1 ]; then
  say "engine: $("$engine_bin/dockerd" --version), $("$engine_bin/containerd" --version), runc $("$engine_bin/runc" --version | head -n 1) ($engine_bin)"
  say "buildx: $("$engine_plugins/docker-buildx" version) ($engine_plugins)"
fi

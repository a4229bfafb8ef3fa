#!/usr/bin/env bash
# Compose v2 and Prometheus 3.5, the versions users run, from Debian testing (forky) on this
# bookworm machine: apt-get download into a private apt state under .tmp/apt (the system's
# sources are never touched, nothing is upgraded), dpkg -x, and each binary put where it is
# used: the Compose plugin in ~/.docker/cli-plugins/ (unless a Compose v2 answers already);
# prometheus, promtool and process-exporter 0.8.7 (for its stand-in image) in
# .tmp/tools/bin/. All are Go binaries needing only libc. Rerunning is cheap.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf 'install-tools: %s\n' "$*"; }
suite=forky
compose_version=2.40.3
prometheus_version=3.5.3
exporter_version=0.8.7 # the pinned image's, for the stand-in (bookworm has 0.7.10)
bin=.tmp/tools/bin
plugins=${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins
mkdir -p .tmp/apt/etc/preferences.d .tmp/apt/state/lists/partial .tmp/apt/cache/archives/partial .tmp/apt/debs "$bin" "$plugins"

want_compose=1 want_prometheus=1 want_exporter=1
# A Compose v2 the machine already has is left alone (a user's Docker Desktop, say).
docker compose version --short 2>/dev/null | grep -q '^v\?2\.' && want_compose=0
"$bin/prometheus" --version 2>/dev/null | grep -q "version $prometheus_version" &&
  "$bin/promtool" --version 2>/dev/null | grep -q "version $prometheus_version" && want_prometheus=0
"$bin/process-exporter" --version 2>&1 | grep -q "$exporter_version" && want_exporter=0
if [ $want_compose = 0 ] && [ $want_prometheus = 0 ] && [ $want_exporter = 0 ]; then
  say "compose $(docker compose version --short), prometheus $prometheus_version, process-exporter $exporter_version already in place"
  exit 0
fi

# forky is signed with the trixie archive keys that bookworm's debian-archive-keyring carries.
cat >.tmp/apt/etc/sources.list <<SOURCES
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $suite main
SOURCES
apt_opts=(
  -o Dir::Etc::SourceList="$PWD/.tmp/apt/etc/sources.list"
  -o Dir::Etc::SourceParts=/dev/null
  -o Dir::Etc::PreferencesParts="$PWD/.tmp/apt/etc/preferences.d"
  -o Dir::State="$PWD/.tmp/apt/state"
  -o Dir::State::status=/var/lib/dpkg/status
  -o Dir::Cache="$PWD/.tmp/apt/cache"
  -o APT::Architecture="$(dpkg --print-architecture)"
  -o Debug::NoLocking=1
)
say "apt-get update of $suite in .tmp/apt (private state; the system's sources are untouched)"
apt-get "${apt_opts[@]}" -qq update

fetch() { # package version: the .deb, unpacked into .tmp/apt/debs/<package>
  local pkg=$1 version=$2
  rm -rf ".tmp/apt/debs/$pkg"
  (cd .tmp/apt/debs && rm -f "${pkg}"_*.deb && apt-get "${apt_opts[@]}" -qq download "$pkg=$version*" >/dev/null 2>&1 ||
    apt-get "${apt_opts[@]}" -qq download "$pkg")
  dpkg -x .tmp/apt/debs/"${pkg}"_*.deb ".tmp/apt/debs/$pkg"
}
if [ $want_compose = 1 ]; then
  fetch docker-compose "$compose_version"
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
if [ $want_compose = 1 ]; then say "compose: $("$plugins/docker-compose" version --short) ($plugins/docker-compose)"; fi
say "prometheus: $("$bin/prometheus" --version 2>&1 | head -n 1)"
say "process-exporter: $("$bin/process-exporter" --version 2>&1 | head -n 1)"

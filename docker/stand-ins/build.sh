#!/usr/bin/env bash
# Builds the stand-ins for the images .env names (see README.md here), from debootstrap and
# this machine's node and npm, and the Prometheus 3.5.3 and process-exporter 0.8.7 that
# scripts/install-tools.sh put in .tmp/tools/bin (Debian testing's builds).
set -euo pipefail
cd "$(dirname "$0")/../.."
set -a
. ./.env
set +a
cache=.tmp/stand-ins
mkdir -p "$cache"

# The mirror of this machine's apt: deb822 sources first, then the one-line format.
mirror=$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -n 1 || true)
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $3 !~ /security/ { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)
if [ -z "$mirror" ]; then echo "stand-ins: no Debian mirror in this machine's apt sources" >&2; exit 1; fi

base=lab-node-metrics/stand-in-base:bookworm
if ! docker image inspect "$base" >/dev/null 2>&1; then
  if [ ! -f "$cache/rootfs/.complete" ]; then
    rm -rf "$cache/rootfs"
    echo "stand-ins: debootstrap bookworm from the apt mirror"
    debootstrap --variant=minbase --include=wget,ca-certificates bookworm "$cache/rootfs" "$mirror" >"$cache/debootstrap.log"
    touch "$cache/rootfs/.complete"
  fi
  tar -C "$cache/rootfs" --exclude=./.complete -c . | docker import --change 'CMD ["bash"]' - "$base" >/dev/null
fi

[ -x .tmp/tools/bin/prometheus ] && [ -x .tmp/tools/bin/process-exporter ] || bash scripts/install-tools.sh

# BuildKit (buildx) resolves the local base image from the engine's own store; quiet, and
# a failure shows its log.
build() { # dockerfile tag context
  docker build -q -f "$1" --build-arg BASE="$base" -t "$2" "$3" >/dev/null 2>"$3.log" || {
    cat "$3.log" >&2
    exit 1
  }
}

context() { rm -rf "$cache/$1"; mkdir -p "$cache/$1"; echo "$cache/$1"; }

ctx=$(context node)
cp "$(readlink -f "$(command -v node)")" "$ctx/node"
cp -r "$(npm root -g)/npm" "$ctx/npm"
build docker/stand-ins/node.Dockerfile "$NODE_IMAGE" "$ctx"

ctx=$(context prometheus)
cp .tmp/tools/bin/prometheus .tmp/tools/bin/promtool "$ctx/"
printf 'global:\n  scrape_interval: 15s\nscrape_configs:\n  - job_name: prometheus\n    static_configs:\n      - targets: ["localhost:9090"]\n' >"$ctx/prometheus.yml"
build docker/stand-ins/prometheus.Dockerfile "$PROMETHEUS_IMAGE" "$ctx"

ctx=$(context process-exporter)
cp .tmp/tools/bin/process-exporter "$ctx/process-exporter"
build docker/stand-ins/process-exporter.Dockerfile "$PROCESS_EXPORTER_IMAGE" "$ctx"

echo "stand-ins: built $NODE_IMAGE, $PROMETHEUS_IMAGE, $PROCESS_EXPORTER_IMAGE (labelled org.lab-node-metrics.stand-in=true)"

#!/usr/bin/env bash
# npm run test:compose: the project's own docker-compose.yml and Dockerfile in a real Docker
# Engine. Builds stand-ins for the base images where none can be pulled, brings the stack up
# with --build, waits for every healthcheck, sends load from the host to published ports,
# checks through Prometheus's API that every app is scraped and request data arrives, stops
# and starts the stack to check Prometheus kept its data, and tears everything down.
set -euo pipefail
cd "$(dirname "$0")/.."
project=lab-node-metrics-test
say() { printf 'test:compose: %s\n' "$*"; }
fail() { printf '\ntest:compose: FAILED: %s\n' "$*" >&2; exit 1; }

# A Docker Engine, Compose and debootstrap (for the stand-ins): Debian's, installed where
# missing if we are root; the engine started if none answers.
if ! command -v dockerd >/dev/null || ! command -v debootstrap >/dev/null || ! { command -v docker-compose >/dev/null || docker compose version >/dev/null 2>&1; }; then
  [ "$(id -u)" = 0 ] || fail "install docker.io, docker-compose and debootstrap first (apt-get install docker.io docker-compose debootstrap)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io docker-compose debootstrap >/dev/null
fi
if ! docker info >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || fail "no Docker Engine answers; start one (dockerd) and rerun"
  say "starting dockerd"
  mkdir -p .tmp
  (dockerd >.tmp/dockerd.log 2>&1 &)
  for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || fail "dockerd did not start; see .tmp/dockerd.log"
fi
if docker compose version >/dev/null 2>&1; then compose=(docker compose); else compose=(docker-compose); fi
say "engine $(docker version --format '{{.Server.Version}}'), compose: ${compose[*]} ($("${compose[@]}" version --short 2>/dev/null || true))"

set -a
. ./.env
set +a
# The pinned images where they can be had; stand-ins tagged with their names where not.
if ! docker image inspect "$NODE_IMAGE" "$PROMETHEUS_IMAGE" "$PROCESS_EXPORTER_IMAGE" >/dev/null 2>&1; then
  if docker pull -q "$PROMETHEUS_IMAGE" >/dev/null 2>&1; then
    docker pull -q "$NODE_IMAGE" >/dev/null && docker pull -q "$PROCESS_EXPORTER_IMAGE" >/dev/null
  else
    say "no registry answers: building stand-ins (docker/stand-ins/README.md)"
    bash docker/stand-ins/build.sh
  fi
fi

# The workshop service (issue 11's block): a bombardier stand-in where Go cannot build it.
. test/workshop/compose.sh
workshop_prepare

# This machine reaches the npm registry through a TLS-re-signing proxy: the build needs its
# CA, passed as docker/ca/README.md tells a user behind a corporate proxy to.
made_ca=""
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "$NODE_EXTRA_CA_CERTS" ] && [ ! -f docker/ca/extra-ca.pem ]; then
  cp "$NODE_EXTRA_CA_CERTS" docker/ca/extra-ca.pem
  made_ca=docker/ca/extra-ca.pem
fi

# Host ports 10000 above the defaults, to stay out of the way of a stack the user runs.
while read -r name port; do export "$name=$((port + 10000))"; done < <(grep -o 'PORT_[A-Z0-9_]*:-[0-9]*' docker-compose.yml | tr ':-' '  ' | awk '{print $1, $2}')
export PROMETHEUS_PORT=19090 GRAFANA_PORT=13000

services=$(awk '/^services:/{s=1; next} s && /^[a-z]/{s=0} s && /^  [a-z0-9-]+:$/{sub(":", ""); print $1}' docker-compose.yml | grep -v -e '^grafana$' -e '^loadgen$')
apps=$(grep '^hello-world' <<<"$services")
say "leaving out grafana and loadgen: no image of them can be pulled or built without a registry (no Debian package has Grafana; bombardier's source comes from the Go module proxy)"

cleanup() {
  local code=$?
  if [ $code -ne 0 ]; then "${compose[@]}" -p "$project" logs --tail 20 >&2 || true; fi
  "${compose[@]}" -p "$project" down -v --remove-orphans >/dev/null 2>&1 || true
  [ -z "$made_ca" ] || rm -f "$made_ca"
  exit $code
}
trap cleanup EXIT

wait_healthy() {
  local deadline=$((SECONDS + 240))
  for service in $services; do
    while :; do
      id=$("${compose[@]}" -p "$project" ps -q "$service")
      state=$(docker inspect --format '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' "$id" 2>/dev/null || echo missing)
      [ "$state" = healthy ] || [ "$state" = running ] && break
      [ $SECONDS -lt $deadline ] || fail "$service is $state"
      sleep 2
    done
    say "up: $service ($state)"
  done
}

prom() { curl -fsS "http://127.0.0.1:$PROMETHEUS_PORT/api/v1/$1"; }

say "building and starting: $(tr '\n' ' ' <<<"$services")"
# shellcheck disable=SC2086
"${compose[@]}" -p "$project" up -d --build $services >.tmp/compose-up.log 2>&1 || { cat .tmp/compose-up.log >&2; fail "compose up"; }
wait_healthy

loaded=(hello-world-v1 hello-world-v3-1 hello-world-v3-2)
for service in "${loaded[@]}"; do
  var="PORT_$(tr 'a-z-' 'A-Z_' <<<"$service")"
  npx autocannon --amount 300 --connections 3 --no-progress "http://127.0.0.1:${!var}/" >/dev/null 2>&1 || fail "load on $service at port ${!var}"
  say "load: 300 requests to $service on 127.0.0.1:${!var}"
done
sleep 12 # two scrapes at 5 s

workshop_check

targets=$(prom targets | node -e 'const d = JSON.parse(require("fs").readFileSync(0, "utf8")); for (const t of d.data.activeTargets) console.log(t.labels.job, t.health)')
while read -r job health; do say "target: $job $health"; done <<<"$targets"
for app in $apps; do grep -qx "$app up" <<<"$targets" || fail "Prometheus does not scrape $app"; done

count() { prom "query?query=sum(http_request_duration_seconds_count%7Bjob%3D%22$1%22%7D)" | node -e 'const r = JSON.parse(require("fs").readFileSync(0, "utf8")).data.result; console.log(r.length ? r[0].value[1] : 0)'; }
for service in hello-world-v3-1 hello-world-v3-2; do
  n=$(count "$service")
  [ "$n" -ge 300 ] || fail "Prometheus has $n requests of $service, not 300"
  say "data: $n requests of $service in Prometheus"
done

before=$(date +%s)
say "stopping and starting the stack: Prometheus's data is on the prometheus-data volume"
"${compose[@]}" -p "$project" down >/dev/null 2>&1
# shellcheck disable=SC2086
"${compose[@]}" -p "$project" up -d $services >/dev/null 2>&1
wait_healthy
for _ in $(seq 30); do prom "query?query=up" >/dev/null 2>&1 && break; sleep 1; done
kept=$(prom "query?query=sum(http_request_duration_seconds_count%7Bjob%3D%22hello-world-v3-2%22%7D)&time=$before" | node -e 'const r = JSON.parse(require("fs").readFileSync(0, "utf8")).data.result; console.log(r.length ? r[0].value[1] : 0)')
[ "$kept" -ge 300 ] || fail "after the restart Prometheus has $kept of the earlier requests"
say "kept: Prometheus still has the $kept requests scraped before the restart"
say "passed"

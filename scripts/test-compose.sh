#!/usr/bin/env bash
# npm run test:compose: the project's own docker-compose.yml and Dockerfile in a real Docker
# Engine with Compose v2 and BuildKit. As root, it installs what it uses where missing,
# starts a Docker Engine of its own (Engine 28.5 from Debian testing, scripts/engine.sh) and
# stops it by pid on every path, builds stand-ins for the base images where none can be
# pulled, brings the stack up with --build, waits for every healthcheck, measures the idle
# stack's CPU, sends load from the host to published ports, checks through Prometheus's API
# that every app is scraped and request data arrives, stops and starts the stack to check
# Prometheus kept its data, and tears it all down. Prints the versions it ran with:
# `engine: ...`, `buildx: ...`, `compose: ...`, `prometheus: ...`.
#
# To add a service's checks: its name goes into `services` (it is then started and waited
# for), and a file scripts/test-compose.d/<name>.sh is sourced once the stack is up, with
# $compose, $project, say, fail and the exported ports at hand.
set -euo pipefail
# A failure inside $(...) fails the run too: a reading of a cgroup that is not there must
# not become a 0 in a sum.
shopt -s inherit_errexit
cd "$(dirname "$0")/.."
mkdir -p .tmp
project=lab-node-metrics-test
idle_budget=0.08 # of a core, for the whole environment at rest (was 0.68 with 5 s node checks)
# One whole healthcheck interval (docker-compose.yml: 2 minutes after the start period): every
# container's check falls in the window once, whatever its phase. The containers start within
# seconds of each other, so their checks come together: a 60 s window held all of them or none.
idle_seconds=120
say() { printf 'test:compose: %s\n' "$*"; }
fail() {
  printf '\ntest:compose: FAILED: %s\n' "$*" >&2
  exit 1
}
json() { node -e "const d = JSON.parse(require('fs').readFileSync(0, 'utf8')); $1"; }
# A budget missed is said at once and fails the run at its end, so that the checks after
# it still run and print what they measure.
late=()

# What it uses, from Debian where missing (root only): iptables for the engine, debootstrap
# for the stand-ins, curl. The engine itself, Compose, buildx and Prometheus 3.5 come from
# Debian testing into .tmp/tools (scripts/install-tools.sh --engine).
missing=()
command -v iptables >/dev/null || missing+=(iptables)
command -v debootstrap >/dev/null || missing+=(debootstrap)
command -v curl >/dev/null || missing+=(curl)
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || fail "install ${missing[*]} first (apt-get install ${missing[*]})"
  say "installing ${missing[*]} from Debian"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >.tmp/apt-install.log
fi

# Everything this run starts is stopped on every path: the stack (once it is up), then the
# engine, by pid (scripts/engine.sh).
. scripts/engine.sh
stack_up=""
made_ca=""
cleanup() {
  local code=$?
  trap - EXIT INT TERM
  if [ -n "$stack_up" ]; then
    if [ $code -ne 0 ]; then "${compose[@]}" -p "$project" logs --tail 20 >&2 || true; fi
    "${compose[@]}" -p "$project" down -v --remove-orphans >/dev/null 2>&1 || true
  fi
  [ -z "$made_ca" ] || rm -f "$made_ca"
  engine_stop
  exit $code
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
engine_start
compose=(docker compose)
say "compose: $("${compose[@]}" version --short)"

set -a
. ./.env
set +a
# The pinned images where they can be had; stand-ins tagged with their names where not.
# One pull answers whether a registry does: only when an image is missing.
registry=unknown
have() { # image: present, or pulled
  docker image inspect "$1" >/dev/null 2>&1 && return 0
  [ $registry != no ] || return 1
  if docker pull -q "$1" >/dev/null 2>&1; then registry=yes; else registry=no; fi
  [ $registry = yes ]
}
if ! have "$PROMETHEUS_IMAGE" || ! have "$NODE_IMAGE" || ! have "$PROCESS_EXPORTER_IMAGE"; then
  [ $registry = no ] || fail "an image could not be pulled though a registry answers"
  say "no registry answers: building stand-ins for $NODE_IMAGE, $PROMETHEUS_IMAGE, $PROCESS_EXPORTER_IMAGE (docker/stand-ins/README.md)"
  bash docker/stand-ins/build.sh
fi

# The workshop service: a bombardier stand-in where Go cannot build it, Node's headers in a
# stand-in Node image (test/workshop/compose.sh; its checks are scripts/test-compose.d/).
. test/workshop/compose.sh
workshop_prepare

# This machine reaches the npm registry through a TLS-re-signing proxy: the build needs its
# CA, passed as docker/ca/README.md tells a user behind a corporate proxy to.
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "$NODE_EXTRA_CA_CERTS" ] && [ ! -f docker/ca/extra-ca.pem ]; then
  cp "$NODE_EXTRA_CA_CERTS" docker/ca/extra-ca.pem
  made_ca=docker/ca/extra-ca.pem
fi

# A stand-in process exporter is Debian's build, which lacks the flag the image's
# healthcheck uses: an override gives it a check of its own, said here.
stand_in=$(docker image inspect -f '{{index .Config.Labels "org.lab-node-metrics.stand-in"}}' "$PROCESS_EXPORTER_IMAGE")
if [ "$stand_in" = true ]; then
  compose+=(-f docker-compose.yml -f docker/stand-ins/compose.yml)
  say "process-exporter: a stand-in; its healthcheck is docker/stand-ins/compose.yml's, not the image's"
fi

# Host ports 10000 above the defaults, to stay out of the way of a stack the user runs.
while read -r name port; do export "$name=$((port + 10000))"; done < <(grep -o 'PORT_[A-Z0-9_]*:-[0-9]*' docker-compose.yml | tr ':-' '  ' | awk '{print $1, $2}')
export PROMETHEUS_PORT=19090 GRAFANA_PORT=13000

# The services this run brings up: every one in the file, less what cannot be had here,
# each left out with the reason that holds. Compose's own reading of the file says which
# are built here and which are never started (scale 0: app-image, loadgen).
services=$("${compose[@]}" config --services)
leave_out() { # service reason
  services=$(grep -vx "$1" <<<"$services")
  say "leaving out $1: $2"
}
memory_note="Grafana is in"
if ! have "$GRAFANA_IMAGE"; then
  leave_out grafana "$GRAFANA_IMAGE cannot be pulled (no registry answers) and no Debian package has Grafana"
  memory_note="Grafana left out: no image here"
fi
if ! have "$GO_IMAGE" || ! have "$DEBIAN_IMAGE"; then
  leave_out loadgen "its build starts from $GO_IMAGE and $DEBIAN_IMAGE, which cannot be pulled (no registry answers)"
fi
shape=$("${compose[@]}" config --format json | json 'for (const [n, s] of Object.entries(d.services)) console.log(n, s.build ? "built" : "named", s.scale ?? s.deploy?.replicas ?? 1)')
pick() { awk -v w="$1" '$2 == w || $3 == w { print $1 }' <<<"$shape" | grep -xF "$services" || true; }
apps=$(grep '^hello-world' <<<"$services")
built=$(pick built)
never_started=$(pick 0)
running=$(grep -vxF "$never_started" <<<"$services")

wait_healthy() {
  local deadline=$((SECONDS + 300)) id state
  for service in $running; do
    while :; do
      id=$("${compose[@]}" -p "$project" ps -q "$service")
      state=$(docker inspect --format '{{if .State.Health}}{{.State.Health.Status}}{{else}}no healthcheck, {{.State.Status}}{{end}}' "$id" 2>/dev/null || echo missing)
      [ "$state" = healthy ] && break
      [ $SECONDS -lt $deadline ] || fail "$service is $state"
      sleep 2
    done
    say "up: $service ($state)"
  done
}

prom() { curl -fsS "http://127.0.0.1:$PROMETHEUS_PORT/api/v1/$1"; }

. scripts/cgroup.sh
idle() { # prints the whole environment's share of a core; each container's in .tmp/idle.txt
  local ids=() before=() after total=0 i=0 id
  mapfile -t ids < <("${compose[@]}" -p "$project" ps -q)
  for id in "${ids[@]}"; do before+=("$(cpu_ns "$id")"); done
  sleep "$idle_seconds"
  : >.tmp/idle.txt
  for id in "${ids[@]}"; do
    after=$(cpu_ns "$id")
    total=$((total + after - before[i]))
    printf '%s %s\n' "$((after - before[i]))" "$(docker inspect -f '{{index .Config.Labels "com.docker.compose.service"}}' "$id")" >>.tmp/idle.txt
    i=$((i + 1))
  done
  node -e "console.log((${total} / 1e9 / ${idle_seconds}).toFixed(3))"
}
share() { sort -rn .tmp/idle.txt | head -n "$1" | awk -v s="$idle_seconds" '{ printf "%s%s %.3f", (NR > 1 ? ", " : ""), $2, $1 / 1e9 / s }'; }

# Each image cold, one at a time; then the learner's `up --build`, with the app image gone,
# so that the services which only name it wait for its build (from the cache now).
. scripts/compose-builds.sh
# shellcheck disable=SC2086
builds_start $built
for service in $built; do build_cold "$service"; done
docker image rm lab-node-metrics-app:local >/dev/null
say "building and starting: $(tr '\n' ' ' <<<"$services")"
stack_up=1
# shellcheck disable=SC2086
"${compose[@]}" -p "$project" up -d --build $services >.tmp/compose-up.log 2>&1 || {
  cat .tmp/compose-up.log >&2
  fail "compose up"
}
# shellcheck disable=SC2086
builds_check .tmp/compose-up.log $apps
wait_healthy
say "prometheus: $(prom status/buildinfo | json 'console.log(d.data.version)') (from the running container)"

# At rest: no load, every healthcheck and scrape as configured, and every container past its
# start. An app scraped every 5 s costs about twice as much in its first two minutes as from
# its third on: V8 compiles the scrape's code over its first few dozen scrapes (measured on
# the host, a minute at a time: about 0.0045, 0.0043, 0.0022, then 0.0019 of a core). The
# healthchecks run every 2 s until their start period ends. So the window opens once the
# youngest container is 180 s old.
for _ in $(seq 30); do prom "query?query=up" >/dev/null 2>&1 && break; sleep 1; done
settle=180
youngest=$("${compose[@]}" -p "$project" ps -q | xargs docker inspect -f '{{.State.StartedAt}}' |
  node -e "const t = require('fs').readFileSync(0, 'utf8').trim().split('\\n').map(Date.parse); console.log(Math.max(...t))")
wait_s=$(node -e "console.log(Math.max(0, Math.ceil((${youngest} + ${settle} * 1000 - Date.now()) / 1000)))")
say "idle: waiting ${wait_s} s, until every container has run ${settle} s"
sleep "$wait_s"
n=$(idle)
say "idle: $n of a core for the whole environment ($(wc -w <<<"$running") containers, ${idle_seconds} s, cgroup CPU accounting; budget $idle_budget)"
say "idle: by container: $(share 99)"
if ! node -e "process.exit(${n} <= ${idle_budget} ? 0 : 1)"; then
  late+=("the idle environment used $n of a core, over the budget of $idle_budget")
  say "idle: OVER the budget of $idle_budget; the run goes on and fails at the end"
fi

loaded=(hello-world-v1 hello-world-v3-1 hello-world-v3-2)
for service in "${loaded[@]}"; do
  var="PORT_$(tr 'a-z-' 'A-Z_' <<<"$service")"
  npx autocannon --amount 300 --connections 3 --no-progress "http://127.0.0.1:${!var}/" >/dev/null 2>&1 || fail "load on $service at port ${!var}"
  say "load: 300 requests to $service on 127.0.0.1:${!var}"
done
if grep -qx loadgen <<<"$services"; then
  "${compose[@]}" -p "$project" run --rm loadgen -n 50 -c 1 http://hello-world-v1:8000/ >.tmp/loadgen.log 2>&1 || {
    cat .tmp/loadgen.log >&2
    fail "docker compose run --rm loadgen"
  }
  say "load: 50 requests from loadgen (bombardier) to hello-world-v1"
fi
sleep 12 # two scrapes at 5 s

targets=$(prom targets | json 'for (const t of d.data.activeTargets) console.log(t.labels.job, t.health)')
while read -r job health; do say "target: $job $health"; done <<<"$targets"
for app in $apps process-exporter; do grep -qx "$app up" <<<"$targets" || fail "Prometheus does not scrape $app"; done

count() { prom "query?query=sum(http_request_duration_seconds_count%7Bjob%3D%22$1%22%7D)${2:+&time=$2}" | json 'console.log(d.data.result.length ? d.data.result[0].value[1] : 0)'; }
for service in hello-world-v3-1 hello-world-v3-2; do
  n=$(count "$service")
  [ "$n" -ge 300 ] || fail "Prometheus has $n requests of $service, not 300"
  say "data: $n requests of $service in Prometheus"
done

# Page 07's load, and what the environment holds under it (scripts/compose-memory.sh).
. scripts/compose-memory.sh
page07_memory "$memory_note"

for hook in scripts/test-compose.d/*.sh; do
  [ -e "$hook" ] || continue
  # shellcheck disable=SC1090
  . "$hook"
done

before=$(date +%s)
say "stopping and starting the stack: Prometheus's data is on the prometheus-data volume"
"${compose[@]}" -p "$project" down >/dev/null 2>&1
# shellcheck disable=SC2086
"${compose[@]}" -p "$project" up -d $running >/dev/null 2>&1
wait_healthy
for _ in $(seq 30); do prom "query?query=up" >/dev/null 2>&1 && break; sleep 1; done
kept=$(count hello-world-v3-2 "$before")
[ "$kept" -ge 300 ] || fail "after the restart Prometheus has $kept of the earlier requests"
say "kept: Prometheus still has the $kept requests scraped before the restart"

# The same environment again, as a dev container through @devcontainers/cli.
"${compose[@]}" -p "$project" down -v >/dev/null 2>&1
. test/workshop/devcontainer.sh
devcontainer_check
# The Educates form: a session's compose services on their own, with its memory limit, and
# its pages walked with their checks (test/educates/compose.sh).
. test/educates/compose.sh
educates_check
[ ${#late[@]} = 0 ] || fail "$(printf '%s; ' "${late[@]}")"
say "passed"

#!/usr/bin/env bash
# The Educates form's part of npm run test:compose, sourced by scripts/test-compose.sh once its
# own stack is down (expects say, fail, compose=(docker compose ...) and .env's pins): the
# compose services of a session, as resources/workshop.yaml has them, on this engine under
# one cgroup limited to the resource's docker memory (what the session's dind sidecar gets),
# built from the images' own Dockerfiles (educates/images.ts; a service whose image's base
# cannot be had here is left out, said). Then the pages of workshop/content/ are walked in
# real terminals with every check run as Educates' examiner runs it
# (test/educates/session-walk.ts), and the services' peak memory is printed:
# `educates: memory: <n> MiB at the most ...`. Fails on a check that does not pass, a
# container the limit killed, or a peak above the limit.
#
# Run on its own (an engine up, the stand-ins and the app image built by a run of
# test:compose): bash test/educates/compose.sh

educates_project=lab-node-metrics-educates
educates_parent=/lab-node-metrics-educates

educates_cgroup() { # the cgroup the session's containers go under (cgroup v1 or v2)
  if [ -d /sys/fs/cgroup/memory ]; then echo "/sys/fs/cgroup/memory$educates_parent"; else echo "/sys/fs/cgroup$educates_parent"; fi
}

educates_cleanup() {
  local code=$?
  if [ -f .tmp/educates/compose.yaml ]; then
    docker compose -p "$educates_project" -f .tmp/educates/compose.yaml down -v --remove-orphans >/dev/null 2>&1 || true
  fi
  rmdir "$(educates_cgroup)" 2>/dev/null || true
  return $code
}

educates_check() {
  local dir=.tmp/educates cg limit files=() services=() left=() id state deadline
  mkdir -p "$dir"
  [ "$(docker info -f '{{.CgroupDriver}}')" = cgroupfs ] ||
    fail "educates: the engine's cgroup driver is $(docker info -f '{{.CgroupDriver}}'); the memory limit needs cgroupfs (cgroup_parent $educates_parent)"
  node --import tsx test/educates/session-compose.ts "$dir/compose.yaml" "$educates_parent" >"$dir/plan.txt" ||
    fail "educates: test/educates/session-compose.ts"
  limit=$(awk '$1 == "memory" { print $2 }' "$dir/plan.txt")
  cg=$(educates_cgroup)
  mkdir -p "$cg"
  if [ -f "$cg/memory.limit_in_bytes" ]; then
    echo "$limit" >"$cg/memory.limit_in_bytes"
  else
    grep -qw memory /sys/fs/cgroup/cgroup.subtree_control || echo +memory >/sys/fs/cgroup/cgroup.subtree_control
    echo "$limit" >"$cg/memory.max"
  fi
  trap 'educates_cleanup; cleanup' EXIT

  # Each image from its own Dockerfile with the pins of .env, as the workflow builds it.
  local args=() pin missing
  while read -r pin; do args+=(--build-arg "$pin"); done < <(grep -E '^[A-Z_]+_(IMAGE|VERSION)=' .env)
  while read -r _ name dockerfile context tag; do
    missing=""
    for pin in $(sed -n 's/^FROM \${\([A-Z_]*\)}.*/\1/p' "$dockerfile"); do
      docker image inspect "${!pin}" >/dev/null 2>&1 || missing="${!pin}"
    done
    if [ -n "$missing" ]; then
      left+=("$tag")
      say "educates: leaving out what runs $tag: its base $missing cannot be pulled here (no registry answers)"
      continue
    fi
    docker build -q -f "$dockerfile" "${args[@]}" -t "$tag" "$context" >"$dir/build-$name.log" 2>&1 ||
      { cat "$dir/build-$name.log" >&2; fail "educates: building $tag from $dockerfile"; }
  done < <(grep '^image ' "$dir/plan.txt")
  while read -r _ name image; do
    if printf '%s\n' "${left[@]}" | grep -qxF "$image"; then continue; fi
    services+=("$name")
  done < <(grep '^service ' "$dir/plan.txt")

  files=(-f "$dir/compose.yaml")
  if [ "$(docker image inspect -f '{{index .Config.Labels "org.lab-node-metrics.stand-in"}}' "$PROCESS_EXPORTER_IMAGE")" = true ]; then
    files+=(-f docker/stand-ins/compose.yml)
    say "educates: process-exporter is built on the stand-in; its healthcheck is docker/stand-ins/compose.yml's"
  fi
  say "educates: the session's services under one cgroup limited to $((limit / 1048576)) MiB (session.applications.docker.memory): ${services[*]}"
  docker compose -p "$educates_project" "${files[@]}" up -d "${services[@]}" >"$dir/up.log" 2>&1 ||
    { cat "$dir/up.log" >&2; fail "educates: compose up"; }
  deadline=$((SECONDS + 300))
  for name in "${services[@]}"; do
    while :; do
      id=$(docker compose -p "$educates_project" "${files[@]}" ps -q "$name")
      state=$(docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' "$id" 2>/dev/null || echo missing)
      [ "$state" = healthy ] && break
      [ $SECONDS -lt $deadline ] || fail "educates: $name is $state"
      sleep 2
    done
  done
  say "educates: every service healthy"

  # EDUCATES_PAGES="03 07" walks only those pages (while working on them).
  # shellcheck disable=SC2086
  node --import tsx test/educates/session-walk.ts --cgroup "$cg" ${EDUCATES_PAGES:-} | tee "$dir/walk.log" ||
    fail "educates: a page's check did not pass in the session's services (above)"

  local peak failcnt=0 killed
  if [ -f "$cg/memory.max_usage_in_bytes" ]; then
    peak=$(cat "$cg/memory.max_usage_in_bytes")
    failcnt=$(cat "$cg/memory.failcnt")
  else
    peak=$(cat "$cg/memory.peak")
    failcnt=$(awk '$1 == "max" { print $2 }' "$cg/memory.events")
  fi
  killed=$(docker compose -p "$educates_project" "${files[@]}" ps -aq | xargs docker inspect -f '{{.Name}} {{.State.OOMKilled}} {{.RestartCount}}' | awk '$2 == "true" || $3 != "0"')
  say "educates: memory: $((peak / 1048576)) MiB at the most for the session's services (${#services[@]} containers; limit $((limit / 1048576)) MiB), page 07's load included"
  [ -z "$killed" ] || fail "educates: containers killed or restarted under the limit: $killed"
  [ "$failcnt" = 0 ] || fail "educates: the services hit the memory limit $failcnt times"
  educates_cleanup
  say "educates: passed"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  cd "$(dirname "$0")/../.."
  say() { printf 'test:compose: %s\n' "$*"; }
  fail() {
    printf '\ntest:compose: FAILED: %s\n' "$*" >&2
    exit 1
  }
  cleanup() { :; }
  set -a
  . ./.env
  set +a
  educates_check
fi

#!/usr/bin/env bash
# The workshop service's part of npm run test:compose, sourced by scripts/test-compose.sh
# after .env is read: workshop_prepare before the stack is built, workshop_check once it is
# healthy. Expects compose=(docker compose ...), project, say and fail from that script.

workshop_prepare() {
  export WORKSHOP_PORT=${WORKSHOP_PORT:-18080}
  # bombardier is built from source by Go; with no Go image and no module proxy, the
  # workstation gets a labelled stand-in for that one binary. Users always build the real one.
  if ! docker image inspect "$GO_IMAGE" >/dev/null 2>&1 && ! docker pull -q "$GO_IMAGE" >/dev/null 2>&1; then
    export WORKSHOP_BOMBARDIER_STAGE=bombardier-stand-in
    say "workshop: no $GO_IMAGE and no Go module proxy here: the workstation gets the STAND-IN for bombardier (test/workshop/stand-ins/bombardier), labelled org.lab-node-metrics.bombardier=bombardier-stand-in; users get the real one"
  fi
  # node-pty compiles against the image's Node headers (/usr/local/include/node, as in the
  # official image). A stand-in Node image made from this machine's node lacks them: add
  # this machine's (Debian's nodejs headers, the same version), labelled.
  if ! docker run --rm --entrypoint sh "$NODE_IMAGE" -c 'test -f /usr/local/include/node/node.h' 2>/dev/null; then
    local version headers=/usr/include/node
    version=$(docker run --rm --entrypoint node "$NODE_IMAGE" -v)
    [ "$version" = "$(node -v)" ] && [ -f "$headers/node.h" ] || fail "workshop: $NODE_IMAGE has no Node headers for node-pty, and this machine has none for $version"
    local ctx=.tmp/stand-ins/node-headers
    rm -rf "$ctx" && mkdir -p "$ctx" && cp -rL "$headers" "$ctx/node"
    printf 'FROM %s\nCOPY node /usr/local/include/node\nLABEL org.lab-node-metrics.stand-in-headers="true"\n' "$NODE_IMAGE" >"$ctx/Dockerfile"
    docker build -q -t "$NODE_IMAGE" "$ctx" >/dev/null
    say "workshop: added this machine's Node $version headers to the stand-in $NODE_IMAGE, for node-pty"
  fi
}

workshop_check() {
  local id
  id=$("${compose[@]}" -p "$project" ps -q workshop)
  [ -n "$id" ] || fail "no workshop service"
  docker inspect --format '{{range .Mounts}}{{.Source}} {{end}}' "$id" | grep -q docker.sock && fail "the workshop service has the Docker socket"
  [ "$(docker inspect --format '{{.Config.User}}' "$id")" = node ] || fail "the workshop service does not run as node"
  "${compose[@]}" -p "$project" exec -T workshop bash -c 'for t in bombardier curl diff cat grep npm node bash; do command -v $t >/dev/null || { echo "no $t"; exit 1; }; done; test ! -e /var/run/docker.sock' || fail "the workstation lacks a tool the pages use, or has a Docker socket"
  say "workshop: bombardier, curl, diff, npm and bash in the workstation; no Docker socket; user node ($(docker inspect --format '{{index .Config.Labels "org.lab-node-metrics.bombardier"}}' "$id"))"
  "${compose[@]}" -p "$project" exec -T workshop curl -fsS http://hello-world-v3-1:8000/ >/dev/null || fail "the workstation does not reach hello-world-v3-1 by name"
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: attacker.example' "http://127.0.0.1:$WORKSHOP_PORT/")
  [ "$code" = 403 ] || fail "the portal answered $code to a foreign Host"
  say "workshop: the portal on 127.0.0.1:$WORKSHOP_PORT refuses a foreign Host (403); walking the learner's path in Chromium"
  WORKSHOP_URL="http://127.0.0.1:$WORKSHOP_PORT" WORKSHOP_SCREENSHOT=.tmp/portal-compose.png \
    node --import tsx --test test/workshop/browser/learner-path.test.ts >.tmp/workshop-browser.log 2>&1 ||
    { cat .tmp/workshop-browser.log >&2; fail "the browser test against the workshop service"; }
  say "workshop: the browser test passed against the portal in the stack (.tmp/portal-compose.png)"
}

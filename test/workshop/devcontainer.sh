#!/usr/bin/env bash
# The dev container's part of npm run test:compose, sourced by scripts/test-compose.sh once
# its own stack is down: the same environment brought up a second time through the Dev
# Container reference implementation (@devcontainers/cli, pinned in package.json), as
# GitHub Codespaces and VS Code's "Reopen in Container" open .devcontainer/devcontainer.json.
# Expects compose=(docker compose ...), say, fail, have and the exported ports and
# WORKSHOP_BOMBARDIER_STAGE from that script and test/workshop/compose.sh.
#
# Codespaces itself cannot be reached from here. What stands in for it: the variables a
# codespace sets, given to the CLI as a codespace's host has them, reach the portal through
# .devcontainer/compose.yml, and its forwarded Host with the Origin its proxy writes is
# answered while a foreign one is refused.

devcontainer_check() {
  local cli=(node node_modules/@devcontainers/cli/devcontainer.js) dir=.tmp/devcontainer
  local version config out id marker started seconds
  dc_project=""
  version=$("${cli[@]}" --version)
  rm -rf "$dir" && mkdir -p "$dir"

  # devcontainer.json as it is, with absolute compose paths, the stand-ins' healthcheck
  # override where the process exporter is a stand-in, and Grafana left out where it is out.
  local extra="" leave=""
  [ "${#compose[@]}" -gt 2 ] && extra=docker/stand-ins/compose.yml
  have "$GRAFANA_IMAGE" || leave=grafana
  config=$dir/devcontainer.json
  EXTRA=$extra LEAVE=$leave node --input-type=module -e "
    import { readFileSync, writeFileSync } from 'node:fs';
    import { resolve } from 'node:path';
    import { parse } from 'jsonc-parser';
    const config = parse(readFileSync('.devcontainer/devcontainer.json', 'utf8'));
    config.dockerComposeFile = [...config.dockerComposeFile.map((f) => resolve('.devcontainer', f)),
      ...(process.env.EXTRA ? [resolve(process.env.EXTRA)] : [])];
    config.runServices = config.runServices.filter((s) => s !== process.env.LEAVE);
    writeFileSync('$config', JSON.stringify(config, null, 2));
  " || fail "devcontainer: cannot write $config"
  [ -z "$leave" ] || say "devcontainer: leaving out grafana, as above: /grafana/ must then say that Grafana does not answer"

  # The checkout is the workspace: a file written here is read there.
  marker=$(node -e "console.log(require('crypto').randomBytes(8).toString('hex'))")
  echo "$marker" >"$dir/marker"

  # The variables of a codespace, as its host has them (GitHub's "Default environment
  # variables for your codespace"), for the CLI and so for Compose's interpolation.
  local space=test-compose-space domain=app.github.dev
  devcontainer_files=()
  mapfile -t devcontainer_files < <(node -e "for (const f of require('./$config').dockerComposeFile) console.log('-f\n' + f)")
  devcontainer_down() {
    # After a failed up, the project is found by the label the CLI puts on its containers.
    [ -n "${dc_project:-}" ] || dc_project=$(docker ps -a --filter "label=devcontainer.local_folder=$PWD" --format '{{.Label "com.docker.compose.project"}}' | head -n 1)
    [ -n "${dc_project:-}" ] || return 0
    docker compose -p "$dc_project" "${devcontainer_files[@]}" down -v --remove-orphans >/dev/null 2>&1 || true
  }
  # errexit is on in the trap too: off before handing the code on to cleanup.
  trap 'code=$?; devcontainer_down; set +e; (exit $code); cleanup' EXIT
  started=$SECONDS
  out=$(CODESPACES=true CODESPACE_NAME=$space GITHUB_CODESPACES_PORT_FORWARDING_DOMAIN=$domain \
    "${cli[@]}" up --workspace-folder . --override-config "$config" --log-format json 2>"$dir/up.log") || {
    tail -n 40 "$dir/up.log" >&2
    fail "devcontainer up"
  }
  seconds=$((SECONDS - started))
  dc_project=$(node -e "const r = JSON.parse(process.argv[1]); if (r.outcome !== 'success') process.exit(1); console.log(r.composeProjectName)" "$(tail -n 1 <<<"$out")") ||
    fail "devcontainer up did not succeed: $out"
  say "devcontainer: $version up in ${seconds} s (compose project $dc_project; images built by the run above)"

  run() { "${cli[@]}" exec --workspace-folder . --override-config "$config" "$@" 2>>"$dir/exec.log"; }
  id=$(docker ps -q --filter "label=com.docker.compose.project=$dc_project" --filter label=com.docker.compose.service=workshop)
  [ "$(run pwd)" = /home/node/workshop ] || fail "devcontainer: the editor's folder is not /home/node/workshop"
  [ "$(run cat .tmp/devcontainer/marker)" = "$marker" ] || fail "devcontainer: /home/node/workshop is not the checkout"
  [ "$(docker inspect -f '{{.Config.User}}' "$id")" = node ] || fail "devcontainer: the workstation does not run as node"
  run bash -c 'test ! -e /var/run/docker.sock' || fail "devcontainer: the workstation has the Docker socket"
  say "devcontainer: /home/node/workshop is the checkout (a file written on the host is read there); user node; no Docker socket"

  # The portal is the container's main process (overrideCommand false) and answers inside.
  docker inspect -f '{{join .Config.Entrypoint " "}}' "$id" | grep -q 'portal/main.ts' || fail "devcontainer: the portal is not the main process"
  run curl -fsS -o /dev/null http://127.0.0.1:8080/healthz || fail "devcontainer: curl to the portal at 127.0.0.1:8080 inside the dev container"
  run curl -fsS http://localhost:8080/ | grep -q '"grafanaUrl":"/grafana"' || fail "devcontainer: the portal does not serve Grafana under /grafana"
  # The checkout's own node_modules (this machine's) is hidden; the image's are found above it.
  run npm run -s workshop -- check >/dev/null || fail "devcontainer: npm run workshop -- check inside the dev container"
  say "devcontainer: curl to the portal at http://127.0.0.1:8080 inside it: healthy, Grafana at /grafana; npm run workshop -- check passes there"

  # Grafana as the dev container's browser sees it: on the portal's origin, under /grafana/.
  local grafana
  grafana=$(run curl -s -w '\n%{http_code}' http://localhost:8080/grafana/)
  if [ -n "$leave" ]; then
    [ "$(tail -n 1 <<<"$grafana")" = 502 ] && grep -q 'Grafana does not answer at http://grafana:3000' <<<"$grafana" ||
      fail "devcontainer: /grafana/ without Grafana answered: $grafana"
    say "devcontainer: curl to http://localhost:8080/grafana/: 502, \"Grafana does not answer at http://grafana:3000\" (Grafana is left out here)"
  else
    [ "$(tail -n 1 <<<"$grafana")" = 200 ] && grep -q '<title>Grafana</title>' <<<"$grafana" ||
      fail "devcontainer: Grafana under /grafana/: $(tail -n 3 <<<"$grafana")"
    say "devcontainer: curl to http://localhost:8080/grafana/: Grafana's page (200)"
  fi

  # The codespace's forwarded name and the Origin its proxy writes; a foreign Host still 403.
  local host=$space-8080.$domain code
  code=$(run curl -s -o /dev/null -w '%{http_code}' -H "Host: $host" -H 'Origin: http://localhost:8080' http://127.0.0.1:8080/)
  [ "$code" = 200 ] || fail "devcontainer: the portal answered $code to the codespace's forwarded Host"
  code=$(run curl -s -o /dev/null -w '%{http_code}' -H "Host: someone-else-8080.$domain" http://127.0.0.1:8080/)
  [ "$code" = 403 ] || fail "devcontainer: the portal answered $code to another codespace's Host"
  say "devcontainer: with CODESPACE_NAME=$space set as a codespace sets it, the portal answers Host $host (Origin http://localhost:8080) and refuses another (403)"

  # Load from the learner's terminal, as the pages send it.
  run bombardier -n 50 -c 1 http://hello-world-v1:8000/ >"$dir/bombardier.log" || {
    cat "$dir/bombardier.log" >&2
    fail "devcontainer: bombardier against hello-world-v1"
  }
  say "devcontainer: bombardier ($WORKSHOP_BOMBARDIER_STAGE) sent 50 requests to hello-world-v1 from the dev container"

  # Memory of the whole environment under page 07's load (-c 3 -r 5000 on two services at
  # once, from the workstation), for hostRequirements: the peak of Docker's per-container
  # figure (cgroup memory less inactive file cache), summed, sampled every 2 s for 30 s.
  local peak=0 total pids=()
  for service in hello-world-v1 hello-world-v3-2; do
    run bombardier -d 30s -c 3 -r 5000 "http://$service:8000/" >"$dir/load-$service.log" 2>&1 &
    pids+=($!)
  done
  for _ in $(seq 15); do
    sleep 2
    total=$(docker stats --no-stream --format '{{.MemUsage}}' $(docker ps -q --filter "label=com.docker.compose.project=$dc_project") |
      node -e "
        const unit = { B: 1, KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30 };
        let sum = 0;
        for (const line of require('fs').readFileSync(0, 'utf8').trim().split('\n')) {
          const m = /^([\d.]+)([KMG]?i?B)/.exec(line);
          if (m) sum += Number(m[1]) * unit[m[2]];
        }
        console.log(Math.round(sum / 2 ** 20));")
    [ "$total" -gt "$peak" ] && peak=$total
  done
  for pid in "${pids[@]}"; do wait "$pid" || fail "devcontainer: page 07's load from the dev container (see $dir/load-*.log)"; done
  say "devcontainer: memory: $peak MiB at most for the whole environment under page-07 load ($(docker ps -q --filter "label=com.docker.compose.project=$dc_project" | wc -l) containers${leave:+, without Grafana}; docker stats every 2 s for 30 s)"

  # What the reference implementation reads from devcontainer.json.
  # The environment, with Grafana's recommended 512 MB where it is left out, must fit in half
  # of hostRequirements.memory: the other half is for the editor's server and headroom.
  local need=$peak
  [ -z "$leave" ] || need=$((peak + 512))
  "${cli[@]}" read-configuration --workspace-folder . --override-config "$config" --include-merged-configuration 2>/dev/null |
    PEAK=$need node -e "
      const { mergedConfiguration: m } = JSON.parse(require('fs').readFileSync(0, 'utf8'));
      const h = m.hostRequirements;
      console.log('test:compose: devcontainer: the CLI reads forwardPorts', JSON.stringify(m.forwardPorts),
        'and hostRequirements', h.cpus, 'cpus,', h.memory / 2 ** 30, 'GiB,', h.storage / 2 ** 30, 'GiB storage;',
        'the environment needs', process.env.PEAK, 'MiB of it');
      if (!(Number(process.env.PEAK) * 2 ** 20 <= h.memory / 2)) process.exit(1);
    " || fail "devcontainer: the environment's $need MiB are over half of hostRequirements.memory, or the CLI cannot read it"

  devcontainer_down
  dc_project=""
  say "devcontainer: taken down (docker compose -p <project> down -v: the CLI has no down command)"
}

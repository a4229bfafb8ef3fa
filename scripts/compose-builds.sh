#!/usr/bin/env bash
# The images the environment builds, sourced by scripts/test-compose.sh: each built cold
# and timed, then one `up --build` that must build the app image once, before the services
# that only name it, pull nothing and leave no <none> image. Expects compose=(docker
# compose ...), project, say and fail from the sourcing script.

# builds_start service...: no image of a previous run, no dangling one, no build cache.
builds_start() {
  local image
  for image in $("${compose[@]}" config --images "$@" | sort -u); do
    docker image rm -f "$image" >/dev/null 2>&1 || true
  done
  docker image prune -f >/dev/null
}

# The longest steps of a plain BuildKit log: "#12 [app-image build 5/9] RUN ..." names a
# step, "#12 DONE 31.2s" ends it; the proxy-CA preamble of our RUN lines is left out.
slowest() { # log count
  awk '/^#[0-9]+ \[/ { n = $1; if (!(n in name)) { sub(/^#[0-9]+ \[[^]]*\] /, ""); name[n] = $0 } }
       /^#[0-9]+ exporting to image/ { name[$1] = "exporting to image" }
       /^#[0-9]+ DONE / { t[$1] = $3 + 0 }
       END { for (n in t) if (n in name) printf "%.1f\t%s\n", t[n], name[n] }' "$1" |
    sed -E 's/RUN cd \/tmp +&& +/RUN /; s/RUN if \[ -f \/tmp\/ca[^&]*&& +//; s/\tRUN /\t/; s/\t[^ \t]*\/node_modules\/\.bin\//\t/; s/apt-get update +&& +//; s/DEBIAN_FRONTEND=[a-z]+ //; s/ -y --no-install-recommends//' |
    sort -rn | head -n "$2" |
    awk -F '\t' '{ n = split($2, w, " "); s = w[1]; for (i = 2; i <= (n < 4 ? n : 4); i++) s = s " " w[i]; printf "%s%s %.0f s", (NR > 1 ? ", " : ""), s, $1 }'
}

# build_cold service: its image built with no build cache (the base images present, as
# after a learner's pulls), as `build: <image> <s>` and the slowest steps.
build_cold() {
  local service=$1 image log=.tmp/build-$1.log start ms
  image=$("${compose[@]}" config --images "$service")
  docker builder prune -af >/dev/null
  start=$(date +%s%N)
  "${compose[@]}" -p "$project" --progress plain build "$service" >"$log" 2>&1 || {
    cat "$log" >&2
    fail "docker compose build $service"
  }
  ms=$((($(date +%s%N) - start) / 1000000))
  say "build: $image $((ms / 1000)).$((ms % 1000 / 100)) s (cold: no build cache; base images present; the longest steps: $(slowest "$log" 3))"
}

# After `up --build`: one image id runs every app service, the one the app-image service
# built; Compose pulled nothing; no <none> image was left behind.
builds_check() { # up-log apps...
  local log=$1 built ids n
  shift
  built=$(docker image inspect -f '{{.Id}}' lab-node-metrics-app:local)
  ids=$(for service in "$@"; do docker inspect -f '{{.Image}}' "$("${compose[@]}" -p "$project" ps -q "$service")"; done | sort -u)
  [ "$ids" = "$built" ] || fail "the app services run $(wc -l <<<"$ids") image(s), not the one app-image built: $(tr '\n' ' ' <<<"$ids")"
  say "app image: lab-node-metrics-app:local ${built:7:12}, built once (app-image), runs all $# app services"
  ! grep -i 'pull' "$log" || fail "docker compose up tried to pull (lines above)"
  n=$(docker images -qf dangling=true | wc -l)
  [ "$n" = 0 ] || fail "$n <none> image(s) after docker compose up -d --build: $(docker images -f dangling=true --format '{{.ID}} {{.CreatedSince}}' | tr '\n' ' ')"
  say "dangling: 0 (<none> images after the builds and docker compose up -d --build; nothing pulled)"
}

#!/usr/bin/env bash
# The memory of every container of the environment under page 07's load, sourced by
# scripts/test-compose.sh: the page's two terminals send `bombardier -c 3 -r 5000` to
# hello-world-v1 and hello-world-v3-2 at once; here autocannon sends the same from the
# workstation (its bombardier may be a stand-in), for 40 s, while each container's cgroup
# is read every 2 s. For sizing a machine or a session's memory limit (Dev Container
# hostRequirements, Educates). Expects compose, project, say, fail, json and mem_bytes.

page07_memory() { # note: what the environment lacks here, for the line
  local note=$1 seconds=40 ids=() names=() pids=() id i m sum rest=0 most=0 service
  local -A peak=()
  mapfile -t ids < <("${compose[@]}" -p "$project" ps -q)
  for id in "${ids[@]}"; do
    names+=("$(docker inspect -f '{{index .Config.Labels "com.docker.compose.service"}}' "$id")")
    m=$(mem_bytes "$id")
    rest=$((rest + m))
  done
  for service in hello-world-v1 hello-world-v3-2; do
    # The workstation's node_modules sit above the checkout (portal/Dockerfile), beside no
    # package.json of the working directory: the binary by its full path.
    "${compose[@]}" -p "$project" exec -T workshop /home/node/node_modules/.bin/autocannon --connections 3 \
      --overallRate 5000 --duration "$seconds" --json "http://$service:8000/" >".tmp/page07-$service.json" 2>.tmp/page07-$service.log &
    pids+=($!)
  done
  while kill -0 "${pids[@]}" 2>/dev/null; do
    sum=0
    for i in "${!ids[@]}"; do
      m=$(mem_bytes "${ids[i]}")
      sum=$((sum + m))
      [ "$m" -le "${peak[${names[i]}]:-0}" ] || peak[${names[i]}]=$m
    done
    [ $sum -le $most ] || most=$sum
    sleep 2
  done
  for i in "${!pids[@]}"; do wait "${pids[i]}" || fail "page 07's load from the workstation (.tmp/page07-*.log)"; done
  local rates
  rates=$(for service in hello-world-v1 hello-world-v3-2; do json 'console.log(Math.round(d.requests.average))' <".tmp/page07-$service.json"; done | paste -sd/)
  say "load: page 07's, from the workstation: -c 3 -r 5000 to hello-world-v1 and hello-world-v3-2 at once for ${seconds} s (autocannon for bombardier), served at ${rates} requests/s"
  say "memory: $((most >> 20)) MiB for the whole environment under page-07 load (the most its ${#ids[@]} containers held at once, sampled every 2 s; $((rest >> 20)) MiB at rest just before; cgroup memory less inactive file cache, as docker stats; ${note})"
  for service in "${!peak[@]}"; do printf '%s %s\n' "${peak[$service]}" "$service"; done | sort -rn |
    while read -r m service; do
      say "memory: $service $((m >> 20)) MiB (peak)$([ "$service" = workshop ] && echo '; with the two autocannon processes of the load')"
    done
}

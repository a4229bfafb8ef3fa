#!/usr/bin/env bash
# A container's CPU and memory from its cgroup, sourced by scripts/test-compose.sh: cgroup
# v1 or v2, Docker's cgroupfs or systemd driver. Expects fail from the sourcing script.

cgroup_dirs() { # controller id: where the container's cgroup may be, v1 then v2
  local controller=$1 id=$2
  printf '%s\n' /sys/fs/cgroup/"$controller"/{docker/$id,system.slice/docker-$id.scope} /sys/fs/cgroup/{docker/$id,system.slice/docker-$id.scope}
}

cpu_ns() { # id: CPU time used so far (v1 cpuacct.usage in ns; v2 cpu.stat in µs)
  local d
  for d in $(cgroup_dirs cpuacct "$1") $(cgroup_dirs cpu "$1") $(cgroup_dirs cpu,cpuacct "$1"); do
    [ -r "$d/cpuacct.usage" ] && { cat "$d/cpuacct.usage"; return; }
    [ -r "$d/cpu.stat" ] && grep -q '^usage_usec' "$d/cpu.stat" && { awk '$1 == "usage_usec" { print $2 * 1000 }' "$d/cpu.stat"; return; }
  done
  fail "no cgroup CPU accounting found for container $1"
}

mem_bytes() { # id: memory in use less the inactive file cache, as `docker stats` counts it
  local d
  for d in $(cgroup_dirs memory "$1"); do
    [ -r "$d/memory.usage_in_bytes" ] && { awk -v u="$(cat "$d/memory.usage_in_bytes")" '$1 == "total_inactive_file" { print u - $2 }' "$d/memory.stat"; return; }
    [ -r "$d/memory.current" ] && { awk -v u="$(cat "$d/memory.current")" '$1 == "inactive_file" { print u - $2 }' "$d/memory.stat"; return; }
  done
  fail "no cgroup memory accounting found for container $1"
}

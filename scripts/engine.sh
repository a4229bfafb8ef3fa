#!/usr/bin/env bash
# A Docker Engine of the test's own, sourced by scripts/test-compose.sh: Engine 28.5 and
# containerd 2.1 from Debian testing with bookworm's runc (scripts/install-tools.sh
# --engine), each with its own root, state, pidfile and socket under .tmp/engine, and
# buildx and Compose as CLI plugins of a private DOCKER_CONFIG. engine_start exports
# DOCKER_HOST and DOCKER_CONFIG for every docker command after it; engine_stop stops what
# engine_start started, by pid, and is safe to call on any path. Only one engine may run on
# a machine (each manages docker0 and iptables): engine_start first stops the engine the
# previous test:compose left (Debian bookworm's dockerd) and refuses to start beside any
# other. Expects say and fail from the sourcing script; needs root.

engine_dir=$PWD/.tmp/engine
engine_bin=$PWD/.tmp/tools/engine/bin
engine_pids=() # containerd, then dockerd: started here, stopped in reverse

# wait_gone pid seconds: 0 once the process is gone.
wait_gone() {
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    kill -0 "$1" 2>/dev/null || return 0
    sleep 0.1
  done
  return 1
}

stop_pid() { # pid what: SIGTERM, 60 s to finish (dockerd stops its containers), then SIGKILL
  kill -TERM "$1" 2>/dev/null || return 0
  wait_gone "$1" 60 && return 0
  say "engine: $2 (pid $1) still running 60 s after SIGTERM: SIGKILL"
  kill -KILL "$1" 2>/dev/null || true
  wait_gone "$1" 10 || fail "$2 (pid $1) does not exit"
}

# The engines already running. Debian's /usr/sbin/dockerd (bookworm's docker.io 20.10,
# which test:compose started and left running before it had an engine of its own) and a
# previous run's own engine are stopped; any other engine is a user's: refuse.
engine_clear() {
  local pid exe
  if command -v systemctl >/dev/null && systemctl is-active --quiet docker.service 2>/dev/null; then
    say "engine: stopping the system's docker.service (systemctl stop docker.socket docker.service)"
    systemctl stop docker.socket docker.service
  fi
  for pid in $(pgrep -x dockerd || true) $(pgrep -x containerd || true); do
    exe=$(readlink -f "/proc/$pid/exe" 2>/dev/null) || continue
    case $exe in
      /usr/sbin/dockerd | /usr/bin/dockerd)
        say "engine: stopping Debian's dockerd (pid $pid, $("$exe" --version 2>/dev/null || echo "$exe")), left running by an earlier test:compose"
        stop_pid "$pid" "Debian's dockerd"
        ;;
      "$engine_bin"/*)
        say "engine: stopping $(basename "$exe") (pid $pid) left running by an earlier run of this test"
        stop_pid "$pid" "$(basename "$exe")"
        ;;
      /usr/bin/containerd)
        # The containerd that Debian's dockerd starts for itself goes with it; a
        # containerd of the system's own (Debian's containerd.service) is not ours to stop,
        # and does not stand in the way: ours has its own socket and root.
        wait_gone "$pid" 30 || say "engine: the system's containerd (pid $pid) runs; ours has its own socket and root"
        ;;
      *)
        fail "another Docker Engine runs: pid $pid, $exe. Only one engine may run on a machine (each manages docker0 and iptables); stop it and run test:compose again"
        ;;
    esac
  done
}

# detached command...: runs it in a session of its own (a Ctrl-C reaches the test, whose
# trap stops the engine in order) with no descriptor but 0-2 (a daemon that inherited the
# descriptor of `flock /work/engine.lock ...` would hold the lock after the run); the pid
# is the command's own.
detached() {
  (
    for fd in /proc/$BASHPID/fd/*; do
      fd=${fd##*/}
      [ "$fd" -gt 2 ] && eval "exec $fd>&-"
    done
    exec setsid "$@"
  ) &
}

engine_start() {
  [ "$(id -u)" = 0 ] || fail "test:compose starts a Docker Engine of its own and needs root"
  bash scripts/install-tools.sh --engine >.tmp/install-engine.log 2>&1 || {
    cat .tmp/install-engine.log >&2
    fail "scripts/install-tools.sh --engine"
  }
  engine_clear
  local run=$engine_dir/run
  mkdir -p "$engine_dir" "$run"
  rm -f "$run"/*.sock "$run"/containerd/*.sock "$run"/dockerd.pid
  export PATH=$engine_bin:$PATH
  export DOCKER_HOST=unix://$run/docker.sock
  export DOCKER_CONFIG=$PWD/.tmp/tools/docker-config
  # containerd's own root and state; no CRI (no Kubernetes here), no NRI (its socket is
  # /var/run/nri, shared), nothing under /opt.
  cat >"$engine_dir/containerd.toml" <<TOML
version = 3
root = "$engine_dir/containerd"
state = "$run/containerd"
disabled_plugins = [
  "io.containerd.grpc.v1.cri",
  "io.containerd.cri.v1.images",
  "io.containerd.cri.v1.runtime",
  "io.containerd.podsandbox.controller.v1.podsandbox",
  "io.containerd.sandbox.controller.v1.shim",
  "io.containerd.nri.v1.nri",
  "io.containerd.internal.v1.opt",
]
[grpc]
  address = "$run/containerd/containerd.sock"
[ttrpc]
  address = "$run/containerd/containerd.sock.ttrpc"
TOML
  detached containerd --config "$engine_dir/containerd.toml" >"$engine_dir/containerd.log" 2>&1
  engine_pids+=($!)
  local i
  for ((i = 0; i < 300; i++)); do
    [ -S "$run/containerd/containerd.sock" ] && break
    kill -0 "${engine_pids[0]}" 2>/dev/null || break
    sleep 0.1
  done
  [ -S "$run/containerd/containerd.sock" ] || fail "containerd did not start; see $engine_dir/containerd.log"
  echo '{}' >"$engine_dir/daemon.json"
  detached dockerd --config-file "$engine_dir/daemon.json" \
    --containerd "$run/containerd/containerd.sock" \
    --data-root "$engine_dir/data" --exec-root "$run/docker" --pidfile "$run/dockerd.pid" \
    -H "$DOCKER_HOST" --group root >"$engine_dir/dockerd.log" 2>&1
  engine_pids+=($!)
  for ((i = 0; i < 600; i++)); do
    docker info >/dev/null 2>&1 && break
    kill -0 "${engine_pids[1]}" 2>/dev/null || break
    sleep 0.1
  done
  docker info >/dev/null 2>&1 || fail "dockerd did not start; see $engine_dir/dockerd.log"
  say "engine: $(docker version --format '{{.Server.Version}}') (dockerd pid ${engine_pids[1]}, containerd $(containerd --version | awk '{print $3}'), runc $(runc --version | awk 'NR == 1 {print $3}'), $(docker info --format '{{.Driver}}, cgroup v{{.CgroupVersion}}'); data root .tmp/engine)"
  say "buildx: $(docker buildx version | awk '{print $2}') (CLI plugin in .tmp/tools/docker-config; docker build and compose build use BuildKit)"
}

# Safe on every path, and twice: stops dockerd (which stops its containers), then
# containerd, then any shim of ours still running.
engine_stop() {
  local i pid
  for ((i = ${#engine_pids[@]} - 1; i >= 0; i--)); do
    stop_pid "${engine_pids[i]}" "$([ "$i" = 1 ] && echo dockerd || echo containerd)"
  done
  engine_pids=()
  for pid in $(pgrep -f "containerd-shim-runc-v2 .*-address $engine_dir/" || true); do
    say "engine: stopping a leftover containerd shim (pid $pid)"
    stop_pid "$pid" containerd-shim
  done
}

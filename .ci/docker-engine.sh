#!/usr/bin/env bash
# An isolated Docker engine for amlrun's tests and CI, and an offline-built test image.
#
#   .ci/docker-engine.sh start   start dockerd on its own socket/data root; prints DOCKER_HOST=...
#   .ci/docker-engine.sh image   build amlrun-test-python:bookworm (python3, pip, /bin/sh) offline
#   .ci/docker-engine.sh stop    stop the dockerd that `start` started
#
# The engine never touches the machine's own Docker (socket, data, networks): it listens on
# a unix socket only, with no bridge and no iptables rules, so containers get no network.
# No image registry is needed: the test image is a debootstrapped Debian rootfs from the apt
# mirror the machine is configured with, cached as a tarball so rebuilding it is fast.
# Every command is idempotent. Needs root (dockerd, debootstrap).
#
# Environment: AMLRUN_DOCKER_ROOT (default /tmp/amlrun-docker), AMLRUN_CI_CACHE (default
# /var/cache/amlrun-ci), AMLRUN_DEBIAN_MIRROR (default: from /etc/apt/sources.list*).
# `image` builds into $DOCKER_HOST when set, else into the engine `start` runs.
set -euo pipefail

ROOT=${AMLRUN_DOCKER_ROOT:-/tmp/amlrun-docker}
SOCK=$ROOT/docker.sock
ENGINE=unix://$SOCK
PIDFILE=$ROOT/dockerd.pid
LOG=$ROOT/dockerd.log
CACHE=${AMLRUN_CI_CACHE:-/var/cache/amlrun-ci}
SUITE=bookworm
IMAGE=amlrun-test-python:$SUITE
PACKAGES=python3,python3-pip  # pip: image+conda environments pip-install into the image
# bump when the rootfs recipe changes, so a stale cached tarball is not reused
RECIPE=v1
START_TIMEOUT_S=60
STOP_TIMEOUT_S=30

say() { echo "docker-engine: $*" >&2; }
die() { say "$*"; exit 1; }

need_root() {
  [[ $(id -u) -eq 0 ]] || die "$1 needs root (it is run as uid $(id -u)); run it with sudo"
}

answers() { docker -H "$1" version --format '{{.Server.Version}}' >/dev/null 2>&1; }

running_pid() {
  local pid
  [[ -f $PIDFILE ]] || return 1
  pid=$(<"$PIDFILE")
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

install_docker() {
  command -v dockerd >/dev/null && command -v docker >/dev/null && return
  need_root "installing docker.io"
  say "dockerd not found: installing Debian's docker.io"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null
}

check_cgroups() {
  grep -qE '\scgroup2?\s' /proc/mounts ||
    die "no cgroup filesystem is mounted (see /proc/mounts): dockerd cannot run containers here"
}

# Wait until the engine answers; fail with the end of its log if it dies or hangs.
wait_ready() {
  local pid=$1 waited=0
  until answers "$ENGINE"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      say "dockerd exited during startup; the end of $LOG:"
      tail -n 20 "$LOG" >&2
      exit 1
    fi
    if ((waited >= START_TIMEOUT_S)); then
      say "dockerd (pid $pid) did not answer on $ENGINE within ${START_TIMEOUT_S}s; the end of $LOG:"
      tail -n 20 "$LOG" >&2
      say "stop it with '$0 stop'"
      exit 1
    fi
    sleep 1
    waited=$((waited + 1))
  done
}

cmd_start() {
  local pid
  install_docker
  mkdir -p "$ROOT"
  exec 9>"$ROOT/.lock"
  flock 9  # two sessions starting at once share one engine
  if pid=$(running_pid); then
    wait_ready "$pid"
    say "already running (pid $pid)"
    echo "DOCKER_HOST=$ENGINE"
    return
  fi
  need_root "starting dockerd"
  check_cgroups
  rm -f "$SOCK" "$PIDFILE"
  mkdir -p "$ROOT/data" "$ROOT/exec"
  # own session, so the engine outlives this script and the shell that ran it; the lock's
  # descriptor is closed for it, or the engine would hold the lock for its whole life
  setsid dockerd \
    --host "$ENGINE" \
    --data-root "$ROOT/data" \
    --exec-root "$ROOT/exec" \
    --pidfile "$PIDFILE" \
    --bridge=none --iptables=false --ip6tables=false \
    >"$LOG" 2>&1 </dev/null 9>&- &
  pid=$!
  wait_ready "$pid"
  say "started dockerd $(docker -H "$ENGINE" version --format '{{.Server.Version}}') (pid $pid)"
  echo "DOCKER_HOST=$ENGINE"
}

cmd_stop() {
  local pid waited=0
  if ! pid=$(running_pid); then
    say "not running"
    rm -f "$PIDFILE" "$SOCK"
    return
  fi
  kill -TERM "$pid"  # dockerd stops its containers and its containerd, then exits
  while kill -0 "$pid" 2>/dev/null; do
    if ((waited >= STOP_TIMEOUT_S)); then
      say "dockerd (pid $pid) did not stop within ${STOP_TIMEOUT_S}s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 1
    waited=$((waited + 1))
  done
  rm -f "$PIDFILE" "$SOCK"
  say "stopped (pid $pid)"
}

# The first URI of an apt source for $SUITE, from deb822 (.sources) or one-line (.list) files.
debian_mirror() {
  local files=() f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [[ -f $f ]] && files+=("$f")
  done
  ((${#files[@]})) || return 0
  awk -v suite="$SUITE" '
    FNR == 1 { uri = ""; suites = "" }
    FILENAME ~ /\.list$/ && $1 == "deb" {
      i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
      if ($(i + 1) == suite) { print $i; exit }
      next
    }
    /^URIs:/   { uri = $2 }
    /^Suites:/ { suites = " " substr($0, 8) " " }
    /^[[:space:]]*$/ { uri = ""; suites = "" }
    uri != "" && index(suites, " " suite " ") { print uri; exit }
  ' "${files[@]}"
}

build_rootfs() {
  local tarball=$1 mirror
  need_root "debootstrap"
  if ! command -v debootstrap >/dev/null; then
    say "debootstrap not found: installing it"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
  fi
  mirror=${AMLRUN_DEBIAN_MIRROR:-$(debian_mirror)}
  mirror=${mirror:-http://deb.debian.org/debian}
  BUILD_DIR=$(mktemp -d "$CACHE/rootfs.XXXXXX")
  trap 'rm -rf "$BUILD_DIR"' EXIT
  local dir=$BUILD_DIR
  say "debootstrap $SUITE (+$PACKAGES) from $mirror"
  debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$dir" "$mirror" \
    >"$CACHE/debootstrap.log" 2>&1 ||
    { tail -n 20 "$CACHE/debootstrap.log" >&2; die "debootstrap failed (log: $CACHE/debootstrap.log)"; }
  ln -sf python3 "$dir/usr/bin/python"
  rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/* "$dir"/var/log/*.log
  tar -C "$dir" --numeric-owner -cf "$tarball.tmp" .
  mv "$tarball.tmp" "$tarball"
}

cmd_image() {
  local host=${DOCKER_HOST:-$ENGINE}
  answers "$host" || die "no docker engine answers at $host; run '$0 start' first"
  if docker -H "$host" image inspect "$IMAGE" >/dev/null 2>&1; then
    say "$IMAGE already exists at $host"
    return
  fi
  mkdir -p "$CACHE"
  exec 8>"$CACHE/.lock"
  flock 8  # one build at a time; a concurrent caller then reuses the tarball
  local tarball="$CACHE/rootfs-$SUITE-python-$RECIPE.tar"
  if [[ -f $tarball ]]; then
    say "using cached rootfs $tarball"
  else
    build_rootfs "$tarball"
  fi
  docker -H "$host" import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'CMD ["python3"]' \
    - "$IMAGE" <"$tarball" >/dev/null
  say "imported $IMAGE at $host"
}

case ${1:-} in
  start) cmd_start ;;
  stop) cmd_stop ;;
  image) cmd_image ;;
  *) echo "usage: $0 start|stop|image" >&2; exit 2 ;;
esac

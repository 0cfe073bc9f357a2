#!/usr/bin/env bash
# Builds the Docker image and runs the whole workflow in it: log in through
# gpuctl inside the container, submit and approve a job to COMPLETED, restart
# the container and find the job still there; then the same image through
# docker compose. Prints "docker: ok", "docker: FAILED (...)" or
# "docker: SKIPPED (why)" as its last line; exit 0, 1 or 77.
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
WORK=$(mktemp -d /tmp/gpuaas-docker.XXXXXX)
STARTED_DOCKERD=
NAME=gpuaas-ci-$$
cleanup() {
  docker rm -f "$NAME" >/dev/null 2>&1
  docker volume rm -f "$NAME-state" "$NAME-run" >/dev/null 2>&1
  [ -f "$WORK/compose/docker-compose.yml" ] && (cd "$WORK/compose" && docker-compose -p "gpuaasci$$" down -v >/dev/null 2>&1)
  [ -n "$STARTED_DOCKERD" ] && kill "$STARTED_DOCKERD" 2>/dev/null && sleep 1
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "docker: FAILED ($*)"; exit 1; }
skip() { echo "docker: SKIPPED ($*)"; exit 77; }

need=()
command -v dockerd >/dev/null || need+=(docker.io)
command -v docker-compose >/dev/null || need+=(docker-compose)
command -v debootstrap >/dev/null || need+=(debootstrap)
if [ ${#need[@]} -gt 0 ]; then
  [ "$(id -u)" -eq 0 ] || skip "not root: cannot install ${need[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 \
    "${need[@]}" >"$WORK/apt.log" 2>&1 || skip "cannot install ${need[*]}"
fi

# 1. An engine: the one running, or one we start by hand.
if ! docker info >/dev/null 2>&1; then
  [ "$(id -u)" -eq 0 ] || skip "no Docker engine and not root to start one"
  dockerd --data-root /var/lib/gpuaas-ci-docker --storage-driver=overlay2 >"$WORK/dockerd.log" 2>&1 &
  STARTED_DOCKERD=$!
  for _ in $(seq 100); do docker info >/dev/null 2>&1 && break; sleep 0.3; done
  docker info >/dev/null 2>&1 || skip "the Docker engine cannot start here: $(tail -n 3 "$WORK/dockerd.log" | tr '\n' ' ')"
fi

# 2. The base image, made locally when no registry is reachable.
if ! docker image inspect debian:bookworm-slim >/dev/null 2>&1; then
  mirror=$(grep -h '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1 | awk '{print $2}')
  mirror=${mirror:-http://deb.debian.org/debian}
  debootstrap --variant=minbase bookworm "$WORK/rootfs" "$mirror" >"$WORK/debootstrap.log" 2>&1 \
    || fail "debootstrap: $(tail -n 2 "$WORK/debootstrap.log" | tr '\n' ' ')"
  rm -f "$WORK/rootfs/etc/apt/sources.list"
  cp /etc/apt/sources.list.d/*.sources "$WORK/rootfs/etc/apt/sources.list.d/" 2>/dev/null || true
  rm -rf "$WORK/rootfs/var/cache/apt"/* "$WORK/rootfs/var/lib/apt/lists"/*
  tar --numeric-owner -C "$WORK/rootfs" -c . | docker import -c 'CMD ["bash"]' - debian:bookworm-slim >/dev/null \
    || fail "docker import"
  rm -rf "$WORK/rootfs"
fi

# 3. Build (the legacy builder must accept the Dockerfile as it is).
DOCKER_BUILDKIT=0 docker build -q -t gpuaas:ci . >"$WORK/build.log" 2>&1 || { tail -n 30 "$WORK/build.log"; fail "docker build"; }

# 4. Run, log in inside the container, take a job to COMPLETED.
PW=ci-admin-pw
docker volume create "$NAME-state" >/dev/null && docker volume create "$NAME-run" >/dev/null
docker run -d --name "$NAME" -e GPUAAS_INITIAL_ADMIN_PASSWORD=$PW -v "$NAME-state:/var/lib/gpuaas" \
  -v "$NAME-run:/run/gpuaas" gpuaas:ci --sim-time-scale 0.01 --bcrypt-cost 4 >/dev/null || fail "docker run"
ctl() { docker exec -i "$NAME" gpuctl "$@"; }
for _ in $(seq 100); do ctl ping >/dev/null 2>&1 && break; sleep 0.2; done
ctl ping >/dev/null || { docker logs "$NAME" | tail; fail "the daemon does not answer in the container"; }
[ "$(docker exec "$NAME" id -u)" != 0 ] || fail "the container runs as root"
echo "$PW" | ctl login admin --password-stdin >/dev/null || fail "login"
ctl admin quota admin --set 10h >/dev/null || fail "quota"
id=$(ctl submit --gpu T4 --time 100s) || fail "submit"
ctl admin approve "$id" >/dev/null || fail "approve"
ctl wait "$id" --timeout 60s >/dev/null || fail "wait: job $id did not complete"
[ "$(ctl --json show "$id" | grep -o '"status":"[A-Z]*"')" = '"status":"COMPLETED"' ] || fail "job $id not COMPLETED"

# 5. Restart: the job is still there (state volume), the token still works.
docker restart "$NAME" >/dev/null || fail "docker restart"
for _ in $(seq 100); do ctl ping >/dev/null 2>&1 && break; sleep 0.2; done
ctl --json show "$id" | grep -q '"status":"COMPLETED"' || fail "job $id lost after a restart"
# A second container can use the daemon through the socket volume.
docker run --rm -i -v "$NAME-run:/run/gpuaas" --entrypoint gpuctl gpuaas:ci ping >/dev/null \
  || fail "gpuctl from a second container"

# 6. docker compose (v1 and v2 accept the file).
mkdir -p "$WORK/compose"
cp docker-compose.yml "$WORK/compose/"
sed -i "s|build: .|build: $ROOT|; s|image: gpuaas:latest|image: gpuaas:ci|" "$WORK/compose/docker-compose.yml"
echo "GPUAAS_INITIAL_ADMIN_PASSWORD=$PW" >"$WORK/compose/gpuaas.env"
(cd "$WORK/compose" && docker-compose -p "gpuaasci$$" up -d >"$WORK/compose.log" 2>&1) || { tail "$WORK/compose.log"; fail "compose up"; }
ok=
for _ in $(seq 100); do
  (cd "$WORK/compose" && docker-compose -p "gpuaasci$$" exec -T gpuaasd gpuctl ping >/dev/null 2>&1) && { ok=1; break; }
  sleep 0.2
done
[ -n "$ok" ] || fail "gpuctl ping through docker-compose exec"
(cd "$WORK/compose" && echo "$PW" | docker-compose -p "gpuaasci$$" exec -T gpuaasd gpuctl login admin --password-stdin >/dev/null) \
  || fail "compose login"
echo "docker: ok"

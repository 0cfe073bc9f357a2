#!/usr/bin/env bash
# One prepared check for a machine with real NVIDIA GPUs: builds gpuaas,
# starts gpuaasd with --executor local and nvidia-smi discovery, runs a real
# CUDA workload as a gpuaas job and proves the job saw only its assigned GPU:
# in its /dev only its own nvidiaN node (and the control nodes) exists, and
# with CUDA_VISIBLE_DEVICES unset it still cannot reach another GPU.
# Run as root (--isolation full and --job-user dynamic need it).
# Needs: nvidia-smi, the build dependencies (scripts/deps.sh), and python3
# with torch for the matrix multiply (skipped with a note when absent).
# GPUAAS_BUILD=DIR uses binaries built elsewhere (a GPU machine with no
# compiler or libraries of ours: carry them, and LD_LIBRARY_PATH).
set -euo pipefail
[ "$(id -u)" -eq 0 ] || { echo "run as root: jobs get their own uid, namespaces and /dev"; exit 2; }
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
BUILD=${GPUAAS_BUILD:-}
if [ -z "$BUILD" ]; then
  BUILD=$ROOT/build
  [ -f build/build.ninja ] || meson setup build -Dbuildtype=release >/dev/null
  ninja -C build >/dev/null
fi
TMP=$(mktemp -d /tmp/gpuaas-gpu.XXXXXX)
export GPUAAS_SOCKET=$TMP/s.sock GPUAAS_TOKEN_FILE=$TMP/token GPUAAS_INITIAL_ADMIN_PASSWORD=gpu-check
G=$BUILD/gpuctl/gpuctl
nvidia-smi -L
"$BUILD/gpuaasd/gpuaasd" --executor local --socket "$GPUAAS_SOCKET" --state-dir "$TMP/state" --bcrypt-cost 4 \
  >"$TMP/daemon.log" 2>&1 &
DPID=$!
trap 'kill $DPID 2>/dev/null; wait; cat "$TMP/daemon.log"' EXIT
for _ in $(seq 100); do [ -S "$GPUAAS_SOCKET" ] && break; sleep 0.1; done
$G login admin --password-stdin <<<"gpu-check"
$G admin quota admin --set 10h
$G gpus
TYPE=$($G --json gpus | python3 -c 'import json,sys; print(json.load(sys.stdin)["gpus"][0]["type"])')

# The N of /dev/nvidiaN for a GPU's uuid or index: the driver's own record
# of its PCI address (nvidia-smi's minor_number field is not on every
# driver), else the host's only GPU node.
minor_of() {
  local bus n
  bus=$(nvidia-smi --query-gpu=uuid,index,pci.bus_id --format=csv,noheader |
    awk -F', *' -v d="$1" '$1==d || $2==d {print tolower($3)}')
  n=$(awk '/Device Minor/ {print $3}' "/proc/driver/nvidia/gpus/${bus#0000}/information" 2>/dev/null || true)
  if [ -z "$n" ] && [ "$(ls /dev | grep -c '^nvidia[0-9][0-9]*$')" -eq 1 ]; then
    n=$(ls /dev | grep '^nvidia[0-9][0-9]*$' | sed 's/^nvidia//')
  fi
  echo "$n"
}

# A job's PATH is the standard one: where the driver keeps nvidia-smi
# elsewhere (/usr/local/nvidia/bin), the jobs add that folder.
NVPATH='export PATH="$PATH:'"$(dirname "$(command -v nvidia-smi)")"'"; '

# 1. The job sees exactly one GPU: nvidia-smi -L inside the job lists one.
a=$($G submit --gpu "$TYPE" --count 1 --time 5m -- sh -c "$NVPATH"'echo CUDA_VISIBLE_DEVICES=$CUDA_VISIBLE_DEVICES; nvidia-smi -L')
$G admin approve "$a"
$G wait "$a" --timeout 5m
$G logs "$a"
n=$($G logs "$a" | grep -c '^GPU ' || true)
[ "$n" -eq 1 ] || { echo "FAIL: the job saw $n GPUs"; exit 1; }

# 2. Its /dev: exactly its own GPU node plus the control nodes, and every
#    other GPU node of the host is absent, whatever CUDA_VISIBLE_DEVICES says.
c=$($G submit --gpu "$TYPE" --count 1 --time 5m -- sh -c "$NVPATH"'
uid=$(id -u); echo "uid $uid"; echo "dev $CUDA_VISIBLE_DEVICES"
ls /dev | grep "^nvidia" | sed "s/^/node /"
for f in /dev/nvidia[0-9]*; do (exec 3<>"$f") && echo "opened $f"; done
ls /proc | grep -c "^[0-9]" | sed "s/^/processes /"
env -u CUDA_VISIBLE_DEVICES -u NVIDIA_VISIBLE_DEVICES nvidia-smi -L 2>&1 | sed "s/^/unset-smi /"')
$G admin approve "$c"
$G wait "$c" --timeout 5m
$G logs "$c"
dev=$($G logs "$c" | awk '$1=="dev" {print $2}')
want=$(minor_of "$dev")
[ -n "$want" ] || { echo "FAIL: cannot tell which /dev/nvidiaN is $dev"; exit 1; }
[ "$($G logs "$c" | awk '$1=="uid" {print $2}')" != 0 ] || { echo "FAIL: the job ran as root"; exit 1; }
gpu_nodes=$($G logs "$c" | awk '$1=="node" && $2 ~ /^nvidia[0-9]+$/ {print $2}' | tr '\n' ' ')
[ "$gpu_nodes" = "nvidia$want " ] || { echo "FAIL: GPU nodes in the job's /dev: '$gpu_nodes', want nvidia$want"; exit 1; }
$G logs "$c" | grep -q "^opened /dev/nvidia$want$" || { echo "FAIL: the job could not open its GPU"; exit 1; }
[ "$($G logs "$c" | grep -c '^unset-smi GPU ')" -le 1 ] || { echo "FAIL: the job reached another GPU"; exit 1; }
[ "$($G logs "$c" | awk '$1=="processes" {print $2}')" -le 5 ] || { echo "FAIL: the job sees other processes"; exit 1; }
if [ "$(ls /dev | grep -c '^nvidia[0-9][0-9]*$')" -le 1 ]; then
  echo "note: a single-GPU host: there is no other GPU to keep the job from"
fi

# 3. A real CUDA workload: a PyTorch matrix multiply on the assigned device.
# The python3 that has torch, by its full path: a job's PATH is the
# standard one, where a virtual environment's python3 is not.
PY=$(command -v python3 || true)
if [ -n "$PY" ] && "$PY" -c 'import torch' 2>/dev/null; then
  PY=$("$PY" -c 'import sys; print(sys.executable)')
  b=$($G submit --gpu "$TYPE" --time 10m -- "$PY" -c '
import os, torch
assert torch.cuda.is_available()
print("visible", os.environ["CUDA_VISIBLE_DEVICES"], "count", torch.cuda.device_count())
assert torch.cuda.device_count() == 1
x = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
torch.cuda.synchronize()
import time; t = time.time(); y = x @ x; torch.cuda.synchronize()
print("matmul ok", tuple(y.shape), "%.1f ms" % ((time.time() - t) * 1e3), torch.cuda.get_device_name(0))')
  $G admin approve "$b"
  $G wait "$b" --timeout 10m
  $G logs "$b"
else
  echo "note: python3 torch not installed here; CUDA matmul step skipped"
fi
$G --json show "$a"
echo "GPU check passed"

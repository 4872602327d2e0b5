#!/usr/bin/env bash
# LoRA Playground, packed for a GPU machine by `npm run pack:gpu` (copied there as dist-gpu/run.sh). Needs no
# Node, npm or network: unpacks node, Dawn and (where the system has none) the Vulkan loader into
# $LORA_GPU_WORK, points Vulkan at the NVIDIA driver where there is one (without a GPU, Dawn falls back to
# SwiftShader as src/gpu/node.ts does), runs, and writes everything under $OUT (default ./gpu-results):
#
#   bash dist-gpu/run.sh              every part below, each time-boxed (about 8 minutes at most on an H200)
#   bash dist-gpu/run.sh selfcheck    the self-check only (exit 1 if a check fails)
#   bash dist-gpu/run.sh quick        help, a short bench, a tiny GPT-2 run: is the pack complete?
#   bash dist-gpu/run.sh cli ARGS...  one CLI command (`cli help` lists them; `cli bench --help`)
#
# Parts of the full run (limit in seconds; override with e.g. T_BENCH=200) and what each writes in $OUT:
#   selfcheck   T_SELFCHECK=60   selfcheck.json   every kernel variant against the float64 reference
#   bench       T_BENCH=120      bench.json       kernels and toy steps at GPU sizes, against TF.js-WebGPU
#   sweep-e4    T_E4=60          sweep-e4.json    E4 (lr x width) to n = 8192, with runs/s
#   sweep-e6    T_E6=75          sweep-e6.json    E6 (LoRA+) as preset
#   gpt2        T_GPT2=35, T_GPT2_LARGE=50   gpt2.jsonl   GPT-2 (124M, random weights) LoRA, 5 steps at
#                                                  seq 128 x batch 4, then at seq 512 x batch 8
#   torch       T_TORCH=80       torch.json       bench/torch_peer.py (PyTorch eager fp32), if python3 has torch
# run.log holds every part's progress (stderr) and, at the end, a summary. A part that fails or runs out of
# time is marked so and the next one runs; the exit status is 1 if any part failed.
set -uo pipefail

PACK=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
MODE=${1:-all}
[ $# -gt 0 ] && shift
OUT=${OUT:-$PWD/gpu-results}
WORK=${LORA_GPU_WORK:-/tmp/lora-playground-gpu}
mkdir -p "$WORK" || exit 1
if [ "$MODE" = cli ]; then LOG=/dev/null
else
  mkdir -p "$OUT" || exit 1
  OUT=$(cd "$OUT" && pwd)
  LOG=$OUT/run.log
  : > "$LOG"
fi
say() { echo "$*" | tee -a "$LOG" >&2; }

# xz, or Python's lzma where xz is missing.
unxz_to() {
  if command -v xz >/dev/null; then xz -dc "$1" > "$2"
  else python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$1" "$2"; fi
}

# Unpack node and Dawn once per pack (pack.json identifies it).
stamp=$(cksum < "$PACK/pack.json")
if [ ! -x "$WORK/bin/node" ] || [ "$(cat "$WORK/.pack-stamp" 2>/dev/null)" != "$stamp" ]; then
  t0=$SECONDS
  mkdir -p "$WORK/bin" "$WORK/node_modules/webgpu/dist/linux-x64"
  unxz_to "$PACK/node.xz" "$WORK/bin/node.part" && chmod +x "$WORK/bin/node.part" && mv "$WORK/bin/node.part" "$WORK/bin/node" || { say "cannot unpack node"; exit 1; }
  unxz_to "$PACK/dawn.node.xz" "$WORK/node_modules/webgpu/dist/linux-x64/dawn.node" || { say "cannot unpack dawn.node"; exit 1; }
  cp "$PACK"/webgpu/* "$WORK/node_modules/webgpu/"
  echo "$stamp" > "$WORK/.pack-stamp"
  say "unpacked node and Dawn into $WORK in $((SECONDS - t0)) s"
fi
# The bundle resolves `webgpu` from its own folder; `gpt2` reads public/ relative to the working directory.
cp "$PACK/cli.mjs" "$WORK/cli.mjs"
ln -sfn "$PACK/public" "$WORK/public"
NODE=$WORK/bin/node

# The Vulkan loader: the system's, else (or with LORA_GPU_PACKED_VULKAN=1) the packed .deb, unpacked into
# $WORK (never into /).
if [ -n "${LORA_GPU_PACKED_VULKAN:-}" ] || ! grep -q 'libvulkan\.so\.1' <<< "$(ldconfig -p 2>/dev/null)"; then
  deb=$(ls "$PACK"/libvulkan1_*.deb 2>/dev/null | head -1)
  if [ -n "$deb" ]; then
    mkdir -p "$WORK/vulkan"
    dpkg -x "$deb" "$WORK/vulkan" 2>/dev/null || (cd "$WORK/vulkan" && ar p "$deb" data.tar.xz | tar -xJ)
    export LD_LIBRARY_PATH="$WORK/vulkan/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  else
    say "warning: no libvulkan.so.1 on this system and none packed; Dawn will find no adapter"
  fi
fi
# The NVIDIA driver as the GPU machines mount it (../shared/tools/gpu-env.sh).
NVIDIA_ICD=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -f "$NVIDIA_ICD" ] && [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ]; then
  export VK_DRIVER_FILES=$NVIDIA_ICD
  [ -d /usr/local/nvidia/lib64 ] && export LD_LIBRARY_PATH="${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}/usr/local/nvidia/lib64"
fi
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}
cd "$WORK" || exit 1

CLI=("$NODE" "$WORK/cli.mjs")
COMMANDS=$("${CLI[@]}" help 2>/dev/null)
has_command() { grep -q "^  $1 " <<< "$COMMANDS"; }
export PYTHONUNBUFFERED=1

FAILED=0
SUMMARY=()
# part NAME LIMIT_S OUTFILE CMD...: runs CMD with a time limit, stdout to $OUT/OUTFILE ('-': to the log;
# a .jsonl file is appended to), stderr to the log.
part() {
  local name=$1 limit=$2 file=$3 t0=$SECONDS rc status
  shift 3
  echo "== $name (limit ${limit} s): $*" >> "$LOG"
  if [ "$file" = - ]; then timeout -k 10 "$limit" "$@" >> "$LOG" 2>&1
  elif [[ $file == *.jsonl ]]; then timeout -k 10 "$limit" "$@" >> "$OUT/$file" 2>> "$LOG"
  else timeout -k 10 "$limit" "$@" > "$OUT/$file" 2>> "$LOG"; fi
  rc=$?
  case $rc in
    0) status=ok ;;
    124 | 137) status="TIMEOUT (>${limit} s)"; FAILED=1 ;;
    *) status="FAILED (exit $rc)"; FAILED=1 ;;
  esac
  SUMMARY+=("$(printf '%-14s %-22s %5d s  %s' "$name" "$status" $((SECONDS - t0)) "$file")")
  say "$(printf '%-14s %s in %d s' "$name" "$status" $((SECONDS - t0)))"
  return $rc
}
skip() {
  SUMMARY+=("$(printf '%-14s %-22s %5s    %s' "$1" skipped - "$2")")
  say "$1: skipped ($2)"
}

torch_python() {
  local py
  for py in ${PYTHON:-} python3 /usr/bin/python3; do
    "$py" -c 'import torch' 2>/dev/null && { echo "$py"; return 0; }
  done
  return 1
}

header() {
  say "LoRA Playground GPU run ($MODE): $(grep -o '"commit": *"[^"]*"' "$PACK/pack.json" | cut -d'"' -f4) packed $(grep -o '"date": *"[^"]*"' "$PACK/pack.json" | cut -d'"' -f4)"
  say "host: $(uname -srm), $(nproc) cores; node $("$NODE" --version); OUT=$OUT"
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | sed 's/^/gpu: /' | tee -a "$LOG" >&2
  say "vulkan: VK_DRIVER_FILES=${VK_DRIVER_FILES:-} VK_ICD_FILENAMES=${VK_ICD_FILENAMES:-} LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}"
}

footer() {
  { echo; echo "== summary"; printf '%s\n' "${SUMMARY[@]}"; } | tee -a "$LOG" >&2
  find "$OUT" -maxdepth 1 -type f -empty -delete  # the outputs of parts that failed before printing
}

case $MODE in
  cli)
    exec "${CLI[@]}" "$@" ;;
  selfcheck)
    header
    if ! has_command selfcheck; then say "this pack's CLI has no selfcheck command"; exit 2; fi
    part selfcheck "${T_SELFCHECK:-60}" selfcheck.json "${CLI[@]}" selfcheck --json
    rc=$?
    footer
    exit $rc ;;
  quick)
    header
    part help 30 - "${CLI[@]}" help
    part bench 120 bench.json "${CLI[@]}" bench --quick --json --only=toy --n=64
    part gpt2 60 gpt2.jsonl "${CLI[@]}" gpt2 --model tiny --steps 2 --seq 16 --batch 2 --json
    footer
    exit $FAILED ;;
  all)
    header
    if has_command selfcheck; then part selfcheck "${T_SELFCHECK:-60}" selfcheck.json "${CLI[@]}" selfcheck --json
    else skip selfcheck "not in this build"; fi
    part bench "${T_BENCH:-120}" bench.json "${CLI[@]}" bench --json
    part sweep-e4 "${T_E4:-60}" sweep-e4.json "${CLI[@]}" sweep --preset e4 --n 64:8192:8 --quiet
    part sweep-e6 "${T_E6:-75}" sweep-e6.json "${CLI[@]}" sweep --preset e6 --quiet
    : > "$OUT/gpt2.jsonl"
    # seq 512 x batch 8 needs about 5 GiB, over the default budget (4 GiB, for a browser tab's GPU).
    part gpt2 "${T_GPT2:-35}" gpt2.jsonl "${CLI[@]}" gpt2 --model gpt2 --random --steps 5 --seq 128 --batch 4 --memory-budget-mib 16384 --json
    part gpt2-large "${T_GPT2_LARGE:-50}" gpt2.jsonl "${CLI[@]}" gpt2 --model gpt2 --random --steps 5 --seq 512 --batch 8 --memory-budget-mib 16384 --json
    if py=$(torch_python); then part torch "${T_TORCH:-80}" torch.json "$py" "$PACK/torch_peer.py"
    else skip torch "no python3 with torch"; fi
    footer
    exit $FAILED ;;
  *)
    echo "usage: bash run.sh [selfcheck|quick|cli ARGS...]   (no argument: every part)" >&2
    exit 2 ;;
esac

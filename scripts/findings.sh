#!/usr/bin/env bash
# Reproduces the figures and numbers of docs/findings.md from the command line.
#
#   bash scripts/findings.sh            run every sweep (E3-E6) and write docs/figures/<exp>/{result.json,runs.csv,*.png,log.txt}
#   bash scripts/findings.sh --replot   re-render the PNGs from the saved result.json files (no training)
#   bash scripts/findings.sh --bench    the speed measurements (docs/figures/timing/): the batched engine's setup
#                                       and step cost per width to n = 8192, and the old 2 x 9 x 5 E4 sweep with
#                                       one run per batch and with the per-run engine (projected)
#   ONLY="e3 e6" bash scripts/findings.sh   a subset (e3 e3-wide e4 e5 e6)
#   E4_MAX_N=2048 E6_MAX_N=4096 ...    stop E4 / E6 at a smaller width (default 4096 / 8192): the merged result
#                                       and the figures then cover the widths that ran, and say so
#   RESUME=1 ...                        keep the parts (one sweep per width, or per width and seed) that already
#                                       have a result.json, and skip those another copy is running (a .running
#                                       file in the part's directory; delete it if that copy was killed): a long
#                                       run can be stopped and resumed, and two or three copies share the parts;
#                                       the copy that finishes the last part writes the merged result
#
# How long: on this project's SwiftShader machine (2 shared cores, Dawn in Node), a 200-step run costs about
# 30, 110 and 220 CPU-ms per step at n = 1024, 4096 and 8192 (docs/figures/timing/width.json), so E6 (540
# runs to n = 8192) takes about 3.5 CPU-hours and E4 (910 runs to n = 4096) about 1.5, the rest minutes:
# 3-6 hours of wall time on two idle cores, more on a busy machine. On a GPU the whole script takes minutes.
# The long sweeps run under `nice -n 10`. Each part's log.txt has its command, runs/s, CPU seconds, fitted
# slopes and the load average; the PNGs are rendered by headless Chromium (CHROMIUM_PATH, default /usr/bin/chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-docs/figures}
cli() { nice -n 10 npm run --silent cli -- "$@"; }
helper() { nice -n 10 node --import tsx --import ./scripts/register-wgsl.mjs scripts/findings.ts "$@"; }
mode=${1:-run}
load() { cut -d' ' -f1-3 /proc/loadavg; }

sweep() { # name, then sweep flags; PNG=0 keeps only the data (a part of a merged result)
  local name=$1; shift
  local png=(--png "$OUT/$name")
  [ "${PNG:-1}" = 0 ] && png=()
  mkdir -p "$OUT/$name"
  if [ "$mode" = "--replot" ]; then
    if [ ${#png[@]} -gt 0 ]; then cli sweep --from "$OUT/$name/result.json" "${png[@]}" --quiet > /dev/null; fi
  elif [ "${RESUME:-0}" = 1 ] && [ -s "$OUT/$name/result.json" ]; then
    echo "== $name: kept ($OUT/$name/result.json)"
  elif [ "${RESUME:-0}" = 1 ] && [ -e "$OUT/$name/.running" ]; then
    echo "== $name: another copy is running it (pid $(cat "$OUT/$name/.running"))"
  else
    echo "== $name: $*"
    echo $$ > "$OUT/$name/.running"
    { echo "# npm run --silent cli -- sweep $* --out $OUT/$name/result.json ${png[*]} --csv"; echo "# load average before: $(load); started $(date -u +%FT%TZ)"; } > "$OUT/$name/log.txt"
    cli sweep "$@" --out "$OUT/$name/result.json.part" "${png[@]}" --csv --quiet > "$OUT/$name/runs.csv" 2> >(grep -v -e 'Vulkan' -e 'InitializeImpl' -e 'While initializing' -e '^$' -e '^\[webgpu\]' >> "$OUT/$name/log.txt")
    mv "$OUT/$name/result.json.part" "$OUT/$name/result.json"
    rm -f "$OUT/$name/.running"
    echo "# load average after: $(load); ended $(date -u +%FT%TZ)" >> "$OUT/$name/log.txt"
    cat "$OUT/$name/log.txt"
  fi
}

merge() { # name, then the parts' directories: one result over their widths and seeds, with figures
  local name=$1; shift
  local part
  for part in "$@"; do
    if [ "$mode" != "--replot" ] && [ ! -s "$OUT/$part/result.json" ]; then echo "== $name: not merged yet ($part is not finished)"; return 1; fi
  done
  mkdir -p "$OUT/$name"
  if [ "$mode" != "--replot" ]; then helper merge "$OUT" "$name" "$@" | tee "$OUT/$name/log.txt"; fi
  cli sweep --from "$OUT/$name/result.json" --png "$OUT/$name" --csv --quiet > "$OUT/$name/runs.csv" 2> /dev/null
}

[ "$mode" = "--bench" ] && ONLY=${ONLY:-none}
E6_ETA_8192=$(node -e 'console.log(Array.from({ length: 8 }, (_, i) => 2 ** (i - 14)).join(","))')

for e in ${ONLY:-e3 e3-wide e4 e5 e6}; do
  case $e in
    e3) sweep e3 --preset e3 ;;                                         # 5 seeds, n 128 .. 1024
    e3-wide) sweep e3-wide --preset e3 --n 128,256,512,1024,2048,4096 ;;
    e4) # 5 seeds x 2 inits x 13 etas per width; one part per width (per width and seed at 4096)
        parts=()
        for n in 64 128 256 512 1024 2048; do
          if [ "$n" -le "${E4_MAX_N:-4096}" ]; then PNG=0 sweep "e4-n$n" --preset e4 --n "$n"; parts+=("e4-n$n"); fi
        done
        if [ "${E4_MAX_N:-4096}" -ge 4096 ]; then
          for sd in 1 2 3 4 5; do PNG=0 sweep "e4-n4096-s$sd" --preset e4 --n 4096 --seeds "$sd"; parts+=("e4-n4096-s$sd"); done
        fi
        # The tables only from a merge of every part (an older result would give stale ones).
        if merge e4 "${parts[@]}"; then helper bands "$OUT" e4 | tee "$OUT/e4/bands.md"; fi ;;
    e5) sweep e5 --preset e5
        sweep e5-eta0.1 --preset e5 --eta 0.1 ;;
    e6) # 3 seeds x 6 ratios x 10 etas (2^-13 .. 2^-4) per width; one part per width and seed above n = 1024.
        # At n = 8192 (the costliest width) eta runs from 2^-14 to 2^-7: widened below, where lambda = 32's
        # optimum reaches the grid's edge, and cut above, where every run at n = 1024 and 4096 ended at least
        # 5x above its lambda's best (docs/findings.md, E6). The merged result marks the cut points "not run".
        parts=(e6-n1024)
        PNG=0 sweep e6-n1024 --preset e6 --n 1024
        for n in 4096 8192; do
          [ "$n" -le "${E6_MAX_N:-8192}" ] || continue
          eta=(); if [ "$n" = 8192 ]; then eta=(--eta "$E6_ETA_8192"); fi
          for sd in 1 2 3; do PNG=0 sweep "e6-n$n-s$sd" --preset e6 --n "$n" --seeds "$sd" "${eta[@]}"; parts+=("e6-n$n-s$sd"); done
        done
        if merge e6 "${parts[@]}"; then helper e6-table "$OUT" e6 | tee "$OUT/e6/tables.md"; fi
        # λ = 32, the grid's largest, was the best at n = 4096: one step beyond it, against λ = 1 on the same seeds.
        if [ "${E6_MAX_N:-8192}" -ge 4096 ]; then PNG=0 sweep e6-n4096-lambda64 --preset e6 --n 4096 --lambda 1,64; fi ;;
    none) ;;
    *) echo "unknown experiment $e" >&2; exit 2 ;;
  esac
done

if [ "$mode" = "--bench" ]; then
  mkdir -p "$OUT/timing"
  echo "== batched engine per width: setup of a batch and cost of a step (16 runs per batch)"
  helper bench-width "$OUT" 1024 4096 8192 | tee "$OUT/timing/width.txt"
  # The speed section's comparison on the sweep it was measured on: E4 as it was (2 inits x 5 widths x 9
  # etas to n = 1024, one seed). "Before batching", two ways: (1) the batched engine with one run per batch,
  # (2) the per-run engine the playground uses for one run (ToySession, O(m n^2) per step), whose whole grid
  # would take about an hour here: its cost per run is measured at each width and projected.
  E4_OLD=(--preset e4 --seeds 1 --n 64,128,256,512,1024 --eta 1e-4:1:9)
  sweep timing/e4-old "${E4_OLD[@]}"
  echo "== the same with one run per batch"
  { echo "# load average before: $(load)"
    cli sweep "${E4_OLD[@]}" --max-batch 1 --quiet --csv 2>&1 > /dev/null | grep -e runs/s -e slope
    echo "# load average after: $(load)"; } | tee "$OUT/timing/e4-max-batch-1.txt"
  echo "== its n = 64 row, shared dispatches and one run per batch"
  for mb in 18 1; do
    { echo "# --max-batch $mb, load average before: $(load)"
      cli sweep "${E4_OLD[@]}" --n 64 --max-batch $mb --quiet --csv 2>&1 > /dev/null | grep runs/s; }
  done | tee "$OUT/timing/e4-n64.txt"
  echo "== per-run engine on its n = 64 and 128 rows (checks the projection below)"
  { echo "# load average before: $(load)"
    cli sweep "${E4_OLD[@]}" --n 64,128 --engine sequential --quiet --csv 2>&1 > /dev/null | grep runs/s; } | tee "$OUT/timing/e4-sequential-n64-128.txt"
  echo "== per-run engine: one run per width, 2 and 22 steps"
  helper bench-sequential "$OUT" 2>&1 | grep '^{'
  helper project "$OUT" | tee "$OUT/timing/projection.txt"
fi

#!/usr/bin/env bash
# Reproduces the figures and numbers of docs/findings.md from the command line.
#
#   bash scripts/findings.sh            run every sweep (E3-E6) and write docs/figures/<exp>/{result.json,runs.csv,*.png,log.txt}
#   bash scripts/findings.sh --replot   re-render the PNGs from the saved result.json files (no training)
#   bash scripts/findings.sh --bench    also time the E4 sweep with one run per batch (--max-batch 1) and the
#                                       per-run engine's step cost per width (docs/figures/timing/)
#   ONLY="e3 e5" bash scripts/findings.sh   a subset (e3 e3-seeds e3-wide e4 e4-seeds e5 e6)
#
# On SwiftShader (2 cores) the full run takes tens of minutes; on a GPU, seconds. Each sweep's log.txt has
# its runs/s and fitted slopes; the PNGs are rendered by headless Chromium (CHROMIUM_PATH, default /usr/bin/chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-docs/figures}
cli() { npm run --silent cli -- "$@"; }
mode=${1:-run}

sweep() { # name, then sweep flags; PNG=0 keeps only the data (the seeds behind a combined result)
  local name=$1; shift
  local png=(--png "$OUT/$name")
  [ "${PNG:-1}" = 0 ] && png=()
  mkdir -p "$OUT/$name"
  if [ "$mode" = "--replot" ]; then
    if [ ${#png[@]} -gt 0 ]; then cli sweep --from "$OUT/$name/result.json" "${png[@]}" --quiet > /dev/null; fi
  else
    echo "== $name: $*"
    { echo "# npm run --silent cli -- sweep $* --out $OUT/$name/result.json ${png[*]} --csv"; echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg)"; } > "$OUT/$name/log.txt"
    cli sweep "$@" --out "$OUT/$name/result.json" "${png[@]}" --csv --quiet > "$OUT/$name/runs.csv" 2> >(grep -v -e 'Vulkan' -e 'InitializeImpl' -e 'While initializing' -e '^$' -e '^\[webgpu\]' >> "$OUT/$name/log.txt")
    echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/$name/log.txt"
    cat "$OUT/$name/log.txt"
  fi
}

[ "$mode" = "--bench" ] && ONLY=${ONLY:-none}
combine() { # name, then the result directories of the seeds
  local name=$1; shift
  node --import tsx scripts/findings.ts combine "$OUT" "$name" "$@" | tee "$OUT/$name.txt"
  mkdir -p "$OUT/$name" && mv "$OUT/$name.txt" "$OUT/$name/log.txt"
  cli sweep --from "$OUT/$name/result.json" --png "$OUT/$name" --quiet > /dev/null 2>&1
}

for e in ${ONLY:-e3 e3-seeds e3-wide e4 e4-seeds e5 e6}; do
  case $e in
    e3) sweep e3 --preset e3 ;;
    e3-seeds) for sd in 2 3 4 5; do PNG=0 sweep "e3-seed$sd" --preset e3 --seed "$sd"; done
              combine e3-mean e3 e3-seed2 e3-seed3 e3-seed4 e3-seed5 ;;
    e3-wide) sweep e3-wide --preset e3 --n 128,256,512,1024,2048,4096 ;;
    e4) sweep e4 --preset e4 ;;
    e4-seeds) for sd in 2 3; do PNG=0 sweep "e4-seed$sd" --preset e4 --seed "$sd"; done
              combine e4-mean e4 e4-seed2 e4-seed3
              node --import tsx scripts/findings.ts bands "$OUT" e4 e4-seed2 e4-seed3 | tee "$OUT/e4-mean/bands.md" ;;
    e5) sweep e5 --preset e5
        sweep e5-eta0.1 --preset e5 --eta 0.1 ;;
    e6) sweep e6 --preset e6 ;;
    none) ;;
    *) echo "unknown experiment $e" >&2; exit 2 ;;
  esac
done

if [ "$mode" = "--bench" ]; then
  # "Before batching", two ways: (1) the batched engine with one run per batch (its kernels, no shared
  # dispatches), on the full E4 grid and on its n = 64 row alone, where launch overhead matters most;
  # (2) the per-run engine the playground uses for one run (ToySession, O(m n^2) per step), whose full E4
  # grid would take about an hour here: its cost per run is measured at each width with 2 and 22 steps
  # (setup + per-step) and projected onto E4 by scripts/findings.ts.
  mkdir -p "$OUT/timing"
  echo "== E4 with one run per batch"
  { echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
    cli sweep --preset e4 --max-batch 1 --quiet --csv 2>&1 > /dev/null | grep -e runs/s -e slope
    echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"; } | tee "$OUT/timing/e4-max-batch-1.txt"
  echo "== E4's n = 64 row, shared dispatches and one run per batch"
  for mb in 18 1; do
    { echo "# --max-batch $mb, load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
      cli sweep --preset e4 --n 64 --max-batch $mb --quiet --csv 2>&1 > /dev/null | grep runs/s; }
  done | tee "$OUT/timing/e4-n64.txt"
  echo "== per-run engine on E4's n = 64 and 128 rows (checks the projection below)"
  { echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
    cli sweep --preset e4 --n 64,128 --engine sequential --quiet --csv 2>&1 > /dev/null | grep runs/s; } | tee "$OUT/timing/e4-sequential-n64-128.txt"
  echo "== per-run engine: one run per width, 2 and 22 steps"
  node --import tsx --import ./scripts/register-wgsl.mjs scripts/findings.ts bench-sequential "$OUT" 2>&1 | grep '^{'
  node --import tsx scripts/findings.ts project "$OUT" | tee "$OUT/timing/projection.txt"
fi

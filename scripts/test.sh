#!/usr/bin/env bash
# The one test command (README, `npm test`, .ci/run): installs what a fresh machine lacks, then runs
# the type check, the unit and kernel tests (Vitest on Dawn + SwiftShader) and the end-to-end tests
# (playwright-core driving Debian's Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
echo "== typecheck"; npx tsc --noEmit -p .
echo "== unit and kernel tests"; npx vitest run
if [ -d tests/e2e ] && ls tests/e2e/*.test.mjs >/dev/null 2>&1; then
  # The built page, served on 127.0.0.1, in Debian's Chromium with SwiftShader's WebGPU; one file at a
  # time (one software GPU, two cores). Screenshots land in tests/artifacts/ (git-ignored).
  echo "== end-to-end tests"; npx vite build --logLevel warn && node --test --test-concurrency=1 --test-timeout=300000 tests/e2e/
fi

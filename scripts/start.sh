#!/usr/bin/env bash
# `npm start`: install the npm packages if they are missing (serving the page needs no browser and no
# Debian packages), build the app, serve it on 127.0.0.1:5173 (or the next free port) and print the URL.
# 127.0.0.1 counts as a secure context, so browsers offer WebGPU to the page.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "installing npm packages"
  npm ci --no-audit --no-fund
fi
echo "building"
npx vite build --logLevel warn
HOST="${HOST:-127.0.0.1}"
port="${PORT:-5173}"
free() { node -e 'const s=require("net").createServer().once("error",()=>process.exit(1)).listen(+process.argv[2],process.argv[1],()=>s.close())' "$HOST" "$1"; }
for _ in $(seq 1 50); do free "$port" && break; port=$((port + 1)); done
echo
echo "  LoRA Playground: http://$HOST:$port/"
echo "  (open it in Chrome or another browser with WebGPU; Ctrl-C stops the server)"
echo
exec npx vite preview --host "$HOST" --port "$port" --strictPort

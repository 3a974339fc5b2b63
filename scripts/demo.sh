#!/usr/bin/env bash
# `npm run demo`: everything a newcomer needs to see Hejie run on one machine.
# Installs dependencies if missing, makes sure PostgreSQL and Redis answer (starting or
# installing local ones), migrates, builds, starts the API and the worker with demo settings,
# seeds a small city through the public API, and prints the URLs. Ctrl-C stops both processes.
set -euo pipefail
cd "$(dirname "$0")/.."

export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/hejie}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
export PORT="${PORT:-3000}"

if [ ! -x node_modules/.bin/nest ]; then
  echo "installing dependencies (npm install)…"
  npm install --no-audit --no-fund --loglevel=error
fi

bash scripts/os-packages.sh demo
bash scripts/services.sh

# Demo secrets and provider keys, generated once and kept out of git in .demo/.
mkdir -p .demo
if [ ! -f .demo/env ]; then
  node -e '
    const c = require("node:crypto");
    const pair = () => c.generateKeyPairSync("rsa", { modulusLength: 2048,
      publicKeyEncoding: { type: "spki", format: "pem" }, privateKeyEncoding: { type: "pkcs8", format: "pem" } });
    const fs = require("node:fs");
    const alipay = pair(), wechat = pair();
    fs.writeFileSync(".demo/alipay-private.pem", alipay.privateKey);
    fs.writeFileSync(".demo/wechatpay-private.pem", wechat.privateKey);
    const q = (s) => JSON.stringify(s.replace(/\n/g, "\\n"));
    fs.writeFileSync(".demo/env", [
      `JWT_SECRET=${c.randomBytes(32).toString("hex")}`,
      `PII_KEY=${c.randomBytes(32).toString("base64")}`,
      `RECEIPT_HMAC_SECRET=${c.randomBytes(16).toString("hex")}`,
      `WECHATPAY_APIV3_KEY=${c.randomBytes(16).toString("hex")}`,
      `ALIPAY_PUBLIC_KEY=${q(alipay.publicKey)}`,
      `WECHATPAY_PLATFORM_PUBLIC_KEY=${q(wechat.publicKey)}`,
    ].join("\n") + "\n");
  '
fi
# /metrics needs a bearer token (API.md Operations); added to older .demo/env files too.
if ! grep -q '^METRICS_TOKEN=' .demo/env; then
  echo "METRICS_TOKEN=$(node -p 'require("node:crypto").randomBytes(24).toString("hex")')" >> .demo/env
fi
set -a
# shellcheck disable=SC1091
. .demo/env
set +a
export AUTH_DEV_LOGIN=true
# The demo signs anyone in with one click: it listens on loopback only (the API's own default,
# for deployments behind a proxy or in a container, is HOST=0.0.0.0).
export HOST="${HOST:-127.0.0.1}"
# Short clocks so a visitor can watch deadlines fire; override them to see the real ones.
export MERCHANT_RESPONSE_SLA="${MERCHANT_RESPONSE_SLA:-10m}"
export RESOLUTION_SLA="${RESOLUTION_SLA:-1h}"
export SWEEP_INTERVAL="${SWEEP_INTERVAL:-15s}"
# Signed trail checkpoints (docs/TRAIL.md): an Ed25519 key kept in .demo/, a checkpoint a minute.
if [ ! -f .demo/trail-signing.pem ]; then
  node -e 'const c = require("node:crypto"); require("node:fs").writeFileSync(".demo/trail-signing.pem",
    c.generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }))'
fi
TRAIL_SIGNING_KEY="$(cat .demo/trail-signing.pem)"
export TRAIL_SIGNING_KEY
export CHECKPOINT_INTERVAL="${CHECKPOINT_INTERVAL:-1m}"

echo "migrating…"
npm run --silent migration:run > .demo/migrate.log 2>&1 || { cat .demo/migrate.log; exit 1; }

if [ ! -f dist/apps/api/main.js ] || [ -n "$(find apps libs migrations -newer dist/apps/api/main.js -name '*.ts' -print -quit)" ]; then
  echo "building…"
  npm run --silent build > .demo/build.log 2>&1 || { cat .demo/build.log; exit 1; }
fi
# The dashboards (apps/web → dist/web, served at /app/) on their own when only they changed.
if [ ! -f dist/web/index.html ] || [ -n "$(find apps/web -newer dist/web/index.html -type f -not -path '*/node_modules/*' -print -quit)" ]; then
  echo "building the dashboards…"
  npm run --silent build:web > .demo/build-web.log 2>&1 || { cat .demo/build-web.log; exit 1; }
fi

pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

# Exactly the command lines of `npm run start:api` / `start:worker` (package.json: heap limit,
# MALLOC_ARENA_MAX, semi-space size), so the demo runs as shipped; `exec env` keeps $! the node pid.
start_cmd() { node -p "require('./package.json').scripts['start:$1']"; }
(eval "exec env $(start_cmd api)") > .demo/api.log 2>&1 &
pids+=($!)
(eval "exec env $(start_cmd worker)") > .demo/worker.log 2>&1 &
pids+=($!)

for _ in $(seq 1 60); do
  # Node's fetch rather than curl, which a fresh Debian may not have.
  if node -e 'fetch(process.argv[1]).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' \
    "http://127.0.0.1:${PORT}/health/ready" 2>/dev/null; then break; fi
  if ! kill -0 "${pids[0]}" 2>/dev/null; then echo "the API did not start:"; tail -20 .demo/api.log; exit 1; fi
  sleep 0.5
done

node -r ts-node/register/transpile-only -r tsconfig-paths/register scripts/seed-demo.ts

cat <<EOM

Hejie is running on ${HOST}:${PORT}.
  Dashboards     http://localhost:${PORT}/app/   (demo sign-in: one click per identity)
  API            http://localhost:${PORT}/v1
  API docs       http://localhost:${PORT}/docs
  Health         http://localhost:${PORT}/health/ready
  Metrics        curl -H "Authorization: Bearer \$(sed -n 's/^METRICS_TOKEN=//p' .demo/env)" http://localhost:${PORT}/metrics
  Logs           .demo/api.log, .demo/worker.log
Demo sign-in (AUTH_DEV_LOGIN=true):
  curl -s -X POST localhost:${PORT}/v1/auth/dev-token -H 'content-type: application/json' \\
       -d '{"role":"consumer","sub":"alipay:2088000000000001"}'
Press Ctrl-C to stop.
EOM
wait

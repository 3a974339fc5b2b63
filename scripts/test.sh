#!/usr/bin/env bash
# The README's test command (`npm test`): dependencies, OS packages, services, lint, type check,
# then Jest on a fresh database. Extra arguments go to Jest (e.g. `npm test -- test/receipts`).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x node_modules/.bin/jest ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "installing dependencies (npm install)…"
  npm install --no-audit --no-fund --loglevel=error
fi

# The Debian packages the suite needs (scripts/os-packages.txt: fonts, pdftotext, chromium), then
# PostgreSQL and Redis.
bash scripts/os-packages.sh test
bash scripts/services.sh

echo "lint…"
npm run --silent lint
echo "type check…"
npm run --silent typecheck

mkdir -p reports
# Jest's JSON report is what .ci/run counts; the human summary goes to the terminal.
exec node_modules/.bin/jest --json --outputFile=reports/jest.json "$@"

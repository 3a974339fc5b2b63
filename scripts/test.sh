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

# The dashboards' client types once, then lint and the type check side by side (two processes of
# one core each: 25 s instead of 35 here, measured); --ignore-scripts skips their prelint/pretypecheck
# (gen:types again). Each one's output is printed whole, after both ended.
npm run --silent gen:types
echo "lint and type check…"
checks=$(mktemp -d)
npm run --silent --ignore-scripts lint > "$checks/lint" 2>&1 & lint_pid=$!
npm run --silent --ignore-scripts typecheck > "$checks/typecheck" 2>&1 & typecheck_pid=$!
lint_status=0; wait "$lint_pid" || lint_status=$?
typecheck_status=0; wait "$typecheck_pid" || typecheck_status=$?
cat "$checks/lint" "$checks/typecheck"
rm -rf "$checks"
[ "$lint_status" -eq 0 ] || { echo "lint failed"; exit "$lint_status"; }
[ "$typecheck_status" -eq 0 ] || { echo "type check failed"; exit "$typecheck_status"; }

mkdir -p reports
# Jest's JSON report is what .ci/run counts; the human summary goes to the terminal.
exec node_modules/.bin/jest --json --outputFile=reports/jest.json "$@"

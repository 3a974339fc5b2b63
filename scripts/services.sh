#!/usr/bin/env bash
# scripts/services.sh: make sure the PostgreSQL in DATABASE_URL (default
# postgres://postgres@127.0.0.1:5432/hejie) and the Redis in REDIS_URL (default
# redis://127.0.0.1:6379) answer, starting and if need be installing local ones.
# The logic is in scripts/services.ts (what it does, in order, is at its top); the README's
# "Services" section says where the files go and how to remove them.
set -euo pipefail
cd "$(dirname "$0")/.."
for dep in pg ts-node; do
  [[ -d node_modules/$dep ]] || { echo "services.sh: node_modules/$dep is missing; run npm install first" >&2; exit 1; }
done
exec node -r ts-node/register/transpile-only scripts/services.ts

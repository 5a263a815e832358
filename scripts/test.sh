#!/usr/bin/env bash
# `npm test`: provision system packages, type-check every package, run every vitest suite,
# and finish with one "N passed, N failed" line.
set -euo pipefail
cd "$(dirname "$0")/.."

node -e 'const [a,b]=process.versions.node.split(".").map(Number); if (a<20||(a===20&&b<19)) { console.error("Atelier needs Node >= 20.19, this is "+process.versions.node); process.exit(1) }'

bash scripts/provision.sh nats-server:nats-server chromium:chromium

echo "typecheck: tsc --noEmit"
npx tsc -p tsconfig.json --noEmit
npx tsc -p packages/web/tsconfig.json --noEmit

mkdir -p .tmp
report=.tmp/vitest-report.json
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@" || status=$?

node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : ""));
' "$report" || true
exit $status

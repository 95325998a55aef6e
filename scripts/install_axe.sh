#!/usr/bin/env bash
# axe-core for the browser accessibility tests (tests/browser/test_accessibility.py), from the
# npm registry into var/node/ (git-ignored), never from a CDN. `make test` runs this before
# pytest. A failed install does not stop the run: those tests then skip, or fail naming this
# script under ARTEMIS_REQUIRE_SERVICES=1 (CI), so the cause is in the report either way.
set -uo pipefail
cd "$(dirname "$0")/.."

VERSION=4.14.1  # tests/browser/axe.py reads axe.min.js from this install
PREFIX=var/node
INSTALLED="$PREFIX/node_modules/axe-core/package.json"

if [ -f "$INSTALLED" ] && grep -q "\"version\": \"$VERSION\"" "$INSTALLED"; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "scripts/install_axe.sh: npm not found; the accessibility tests cannot run" >&2
  exit 0
fi
mkdir -p "$PREFIX"
if ! npm install --prefix "$PREFIX" --no-audit --no-fund --silent "axe-core@$VERSION"; then
  echo "scripts/install_axe.sh: npm install axe-core@$VERSION failed; the accessibility tests cannot run" >&2
fi
exit 0

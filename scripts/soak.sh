#!/usr/bin/env bash
# Soak: mixed load through a release build of calzino for a set time, then leak checks (docs/reliability.md).
#
#   bash scripts/soak.sh [SECONDS] [WORKERS]      (default 1800 s, 12 workers)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-1800}"
workers="${2:-12}"
swift build -c release --product calzino 2>&1 | grep -E "error|Compiling calzino|Build" || true
python3 Tests/Scripts/soak.py .build/release/calzino "$seconds" "$workers"

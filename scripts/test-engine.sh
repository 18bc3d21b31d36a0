#!/usr/bin/env bash
# Runs the as-pect specs and prints their result as a plain "N passed, N failed"
# line: as-pect's own summary is coloured and not a line CI can read.
set -uo pipefail
log=$(mktemp)
npx asp --summary 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
line=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E '^\s*\[Tests\]:' | tail -1)
pass=$(sed -nE 's/.*\[Tests\]: *([0-9]+) \/ ([0-9]+).*/\1/p' <<<"$line")
total=$(sed -nE 's/.*\[Tests\]: *([0-9]+) \/ ([0-9]+).*/\2/p' <<<"$line")
rm -f "$log"
if [ -z "$total" ]; then echo; echo "as-pect printed no summary (compile error?)"; exit 1; fi
printf '\nengine: %s passed, %s failed\n' "$pass" "$((total - pass))"
if [ "$total" -eq 0 ]; then echo "as-pect ran no tests"; exit 1; fi
exit "$rc"

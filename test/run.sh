#!/usr/bin/env bash
# `npm test`'s ava part, in two passes. test/lib is pure (no I/O, no clocks,
# CPU only), so its files run two at a time on the two cores. The rest runs
# agents on wall-clock rounds and one file at a time (ava's configured
# concurrency 1, docs/reliability.md). Both passes always run, so a failure
# in the first hides nothing in the second; the exit status fails if either did.
set -u
cd "$(dirname "$0")/.."
# Every test file belongs to one of the passes: a new directory must be added here.
stray=$(find test -name '*.test.ts' -not -path 'test/lib/*' -not -path 'test/agent/*' -not -path 'test/lab/*' -path 'test/*/*')
if [ -n "$stray" ]; then echo "test/run.sh: test files in no pass: $stray" >&2; exit 2; fi
npx ava --concurrency 2 'test/lib/**/*.test.ts'; lib=$?
npx ava 'test/agent/**/*.test.ts' 'test/lab/**/*.test.ts' 'test/*.test.ts'; rest=$?
[ "$lib" -eq 0 ] && [ "$rest" -eq 0 ]

#!/usr/bin/env bash
# House rule: the C sources of the service follow .clang-format (the test
# suites are left to their authors' layout).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
files=$(find api -name '*.[ch]')
if ! clang-format --dry-run --Werror $files 2>/tmp/jf-format.$$; then
    grep -E '^[^ ].*(warning|error)' /tmp/jf-format.$$ | head -20 >&2
    rm -f /tmp/jf-format.$$
    echo "run: clang-format -i \$(find api -name '*.[ch]')" >&2
    exit 1
fi
rm -f /tmp/jf-format.$$
echo "formatting: $(echo "$files" | wc -l) files follow .clang-format"

#!/usr/bin/env bash
# House rule (as curl's checksrc): no strcpy, strcat, sprintf, vsprintf,
# gets or atoi/atol anywhere in the C sources, the tests' included — each
# has a bounded or checked replacement (snprintf, jf_buf, strtol).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
hits=$(grep -rnE '\b(strcpy|strcat|sprintf|vsprintf|gets|atoi|atol)\(' \
    --include='*.c' --include='*.h' "$ROOT/api" "$ROOT/tests" || true)
if [ -n "$hits" ]; then
    echo "banned functions used:" >&2
    echo "$hits" >&2
    exit 1
fi
echo "banned functions: none"

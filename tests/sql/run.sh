#!/usr/bin/env bash
# The SQL definitions tested directly: each tests/sql/*.sql runs in the test
# database (inside a transaction it rolls back) and its output must equal
# expected/<name>.out. JF_SQL_ACCEPT=1 writes the outputs as the new
# expectations (then read the diff before committing it).
set -euo pipefail
: "${JF_TEST_DB_ADMIN:?run through scripts/test}"
DIR=$(cd "$(dirname "$0")" && pwd)
status=0
for f in "$DIR"/*.sql; do
    name=$(basename "$f" .sql)
    out=$(psql "$JF_TEST_DB_ADMIN" -X -q -f "$f" 2>&1) || { echo "$name: failed: $out" >&2; status=1; continue; }
    if [ "${JF_SQL_ACCEPT:-0}" = 1 ]; then
        printf '%s\n' "$out" >"$DIR/expected/$name.out"
    elif ! diff -u "$DIR/expected/$name.out" <(printf '%s\n' "$out") >&2; then
        echo "$name: output differs from expected/$name.out" >&2
        status=1
    else
        echo "$name: as expected"
    fi
done
exit $status

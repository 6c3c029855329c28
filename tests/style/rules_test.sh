#!/usr/bin/env bash
# The rule book (docs/domain.md) gives every rule an ID; the code cites it
# where the rule lives and the tests cite it on the rows that prove it (as
# sqlite's evidence marks). Fails when a rule has no test, when an ID is
# defined twice, or when anything cites an ID the book does not have.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BOOK=$ROOT/docs/domain.md
ID='R-[0-9A-Z]+-[0-9A-Z]+(-[0-9A-Z]+)*'
status=0

defined=$(grep -oE "^- \*\*$ID\*\*" "$BOOK" | grep -oE "$ID")
dups=$(sort <<<"$defined" | uniq -d)
if [ -n "$dups" ]; then
    echo "rule IDs defined twice in docs/domain.md:" $dups >&2
    status=1
fi

# Where tests live: the C suites, the shell and SQL checks, the clients'.
tests=("$ROOT/tests")
for c in "$ROOT"/clients/*/tests; do [ -d "$c" ] && tests+=("$c"); done
cited_in_tests=$(grep -rhoE --exclude-dir=node_modules "\b$ID\b" "${tests[@]}" | sort -u)
untested=$(comm -23 <(sort -u <<<"$defined") <(echo "$cited_in_tests"))
if [ -n "$untested" ]; then
    echo "rules with no test citing them:" $untested >&2
    status=1
fi

# Every ID cited anywhere must be the book's (the book also names the
# earlier IDs that applied migrations, which never change, still carry).
known=$(grep -ohE "\b$ID\b" "$BOOK" | sort -u)
cited=$(grep -rhoE --exclude-dir=node_modules --include='*.c' --include='*.h' --include='*.sql' \
    --include='*.sh' --include='*.md' --include='*.ts' --include='*.js' --include='*.vue' \
    "\b$ID\b" "$ROOT/api" "$ROOT/db" "$ROOT/docs" "$ROOT/tests" "$ROOT/clients" 2>/dev/null | sort -u)
unknown=$(comm -13 <(echo "$known") <(echo "$cited"))
if [ -n "$unknown" ]; then
    echo "cited rule IDs the rule book does not define:" $unknown >&2
    status=1
fi
[ $status -eq 0 ] && echo "rule IDs: $(wc -w <<<"$defined") defined, each with a test"
exit $status

#!/bin/bash
# run-suite.sh SUITE LOG — runs one Check suite for `make check`.
#
# The suite runs in a private mount namespace over a private copy of /etc,
# so the tests that create users (useradd) and groups change the copy, never
# the host's user database; the copy and the namespace go away with the
# suite. Its output goes to LOG; a passing suite prints one line, a failing
# one prints its whole log, so expected error lines of passing tests do not
# scroll past as if they were failures. Exit status: the suite's.
set -u
suite=$1 log=$2
name=${suite#*/tests/}
mkdir -p "$(dirname "$log")"
start=$(date +%s)
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null; then
        etc=$(mktemp -d "${TMPDIR:-/tmp}/tickd-etc.XXXXXX")
        cp -a /etc "$etc/etc"
        unshare --mount --propagation private \
                sh -c 'mount --bind "$1" /etc && shift && exec "$@"' sh "$etc/etc" "$suite" >"$log" 2>&1
        status=$?
        rm -rf "$etc"
else
        "$suite" >"$log" 2>&1
        status=$?
fi
secs=$(( $(date +%s) - start ))
summary=$(grep -E '^[0-9]+%: Checks: ' "$log" | tail -n 1)
if [ $status -eq 0 ]; then
        printf 'PASS %-32s %4ss  %s\n' "$name" "$secs" "$summary"
else
        printf 'FAIL %-32s %4ss  exit %s  %s\n' "$name" "$secs" "$status" "$summary"
        sed 's/^/    /' "$log"
fi
exit $status

#!/bin/sh
#
# stress-tests.sh -- run the test suite again and again with busy loops
# beside it, to shake out tests that depend on timing (a wait for one
# thing, then a read of another that another thread writes a moment
# later).  CI runs the suite once, unloaded; a race that fails one run in
# twenty shows here first.  "make test-stress" builds what the suite needs
# and runs this.
#
# Usage: sh tools/stress-tests.sh ?RUNS? ?BUSY-LOOPS?   (defaults 3 and 2)
# Each run's output is kept in build/stress/run-N.log.  Exits non-zero when
# a run failed.
#
runs=${1:-3}
busy=${2:-2}
cd "$(dirname "$0")/.." || exit 1
mkdir -p build/stress
pids=""
trap 'kill $pids 2>/dev/null' EXIT
trap 'exit 130' INT TERM
failed=0
i=0
while [ "$i" -lt "$runs" ]; do
    i=$((i + 1))
    pids=""
    j=0
    while [ "$j" -lt "$busy" ]; do
        sh -c 'while :; do :; done' &
        pids="$pids $!"
        j=$((j + 1))
    done
    tclsh tests/all.tcl > "build/stress/run-$i.log" 2>&1
    status=$?
    kill $pids 2>/dev/null
    pids=""
    echo "run $i: $(tail -n 1 "build/stress/run-$i.log")"
    grep '^tests that failed:' "build/stress/run-$i.log"
    [ "$status" -eq 0 ] || failed=1
done
exit $failed

#!/usr/bin/env bash
# The test command: configure, build and run netcore's test suite with clang,
# AddressSanitizer and UndefinedBehaviorSanitizer, warnings as errors.
#
#   tests/run.sh                  everything except long soaks and benchmarks
#   tests/run.sh -L soak-long     only the long soaks (any ctest arguments replace
#   tests/run.sh -R test_core     the default label selection)
#
# Environment:
#   NETCORE_TEST_BUILD_DIR  build directory (default: build-test in the repository)
#   NETCORE_TEST_CC         C compiler (default: clang)
#   NETCORE_TEST_JOBS       parallel build jobs and ctest jobs (default: all cores)
#
# Criterion runs each test in a child process, and a sanitizer report printed
# by a child does not always fail its test, so the full ctest log is scanned
# for sanitizer reports afterwards; any report fails the run.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${NETCORE_TEST_BUILD_DIR:-$root/build-test}
cc=${NETCORE_TEST_CC:-clang}
jobs=${NETCORE_TEST_JOBS:-$(nproc 2>/dev/null || echo 2)}

if (($# > 0)); then
    selection=("$@")
else
    selection=(-LE '^(soak-long|bench)$')
fi

# Leaks are errors; the first error stops the process with a stack trace.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:abort_on_error=1:print_stacktrace=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:abort_on_error=1:print_stacktrace=1}
# No terminal and no questions: CI machines and `ssh host tests/run.sh` alike.
exec </dev/null

# A fresh Debian machine gets the packages first (nothing happens when they are there).
"$root/tests/install-deps.sh"

echo "== configure $build_dir ($cc, sanitizers on)"
cmake -S "$root" -B "$build_dir" \
    -DCMAKE_C_COMPILER="$cc" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DNETCORE_SANITIZE=ON \
    -DNETCORE_WERROR=ON \
    -DNETCORE_BUILD_TESTS=ON

echo "== build with $jobs jobs"
cmake --build "$build_dir" --parallel "$jobs"

log=$build_dir/ctest-output.log
rm -f "$log"
echo "== ctest ${selection[*]} (log: $log)"
set +e
ctest --test-dir "$build_dir" --output-on-failure --output-log "$log" \
    --no-tests=error --parallel "$jobs" "${selection[@]}"
ctest_status=$?
set -e

# --output-log keeps only failing tests' output; LastTest.log, which ctest
# always writes, holds every test's full output, so both are scanned.
sanitizer_pattern='ERROR: (LeakSanitizer|AddressSanitizer)|runtime error'
reports=0
for file in "$log" "$build_dir/Testing/Temporary/LastTest.log"; do
    [[ -f $file ]] || continue
    count=$(grep -cE "$sanitizer_pattern" "$file" || true)
    if ((count > 0)); then
        echo
        echo "== sanitizer reports in $file:"
        grep -nE "$sanitizer_pattern" "$file" | head -n 20
        reports=$((reports + count))
    fi
done

status=0
echo
if ((reports > 0)); then
    echo "FAILED: $reports sanitizer report line(s) in the test output (see above)"
    status=1
elif ((ctest_status != 0)); then
    echo "FAILED: ctest exited with status $ctest_status"
    status=$ctest_status
else
    echo "OK: all selected tests passed, no sanitizer reports"
fi
# ctest's closing lines last: pass rate, failed tests, label times, total time.
echo "== ctest summary"
if [[ -f $log ]]; then
    sed -n '/tests passed, .* tests failed out of/,$p' "$log"
fi
exit "$status"

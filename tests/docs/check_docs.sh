#!/bin/sh
# Runs Doxygen over the public headers with the configured Doxyfile and fails
# when it reports anything: the warnings log must be empty.
#   check_docs.sh <doxygen> <dir holding the configured Doxyfile>
#   check_docs.sh --self-test <doxygen> <dir holding the configured Doxyfile>
# The self-test runs the same check over a header with one undocumented
# function and passes only if the check refuses it, so the check can fail.
set -u

# check <doxygen> <Doxyfile> <output dir>: 0 when the reference built cleanly.
check() {
    log=$3/warnings.log
    rm -f "$log"
    mkdir -p "$3"
    "$1" "$2"
    status=$?
    if [ -s "$log" ]; then
        echo "Doxygen warnings ($(wc -l <"$log") lines):"
        cat "$log"
        return 1
    fi
    if [ "$status" -ne 0 ]; then
        echo "doxygen exited with status $status"
        return 1
    fi
    if [ ! -f "$3/html/index.html" ]; then
        echo "no $3/html/index.html written"
        return 1
    fi
    return 0
}

if [ "${1:-}" = "--self-test" ]; then
    doxygen=$2
    dir=$3/self-test
    rm -rf "$dir"
    mkdir -p "$dir/include"
    cat >"$dir/include/undocumented.h" <<'HEADER'
/** @file
 * @brief A header with one function nobody documented. */
int netcore_self_test_undocumented(int value);
HEADER
    # Later assignments override earlier ones: same settings, other input.
    cp "$3/Doxyfile" "$dir/Doxyfile"
    cat >>"$dir/Doxyfile" <<CONFIG
INPUT = $dir/include
USE_MDFILE_AS_MAINPAGE =
STRIP_FROM_PATH = $dir/include
STRIP_FROM_INC_PATH = $dir/include
OUTPUT_DIRECTORY = $dir/out
WARN_LOGFILE = $dir/out/warnings.log
CONFIG
    if check "$doxygen" "$dir/Doxyfile" "$dir/out" >"$dir/check.log" 2>&1; then
        echo "self-test failed: the check accepted an undocumented function"
        cat "$dir/check.log"
        exit 1
    fi
    if ! grep -q netcore_self_test_undocumented "$dir/check.log"; then
        echo "self-test failed: the check refused, but not for the undocumented function"
        cat "$dir/check.log"
        exit 1
    fi
    echo "self-test passed: an undocumented function fails the check"
    exit 0
fi

if check "$1" "$2/Doxyfile" "$2"; then
    echo "API reference built without warnings: $2/html/index.html"
    exit 0
fi
exit 1

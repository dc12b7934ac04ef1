#!/bin/sh
# Builds netcore in Release (no sanitizers), runs every tests/bench/*_bench
# program and writes docs/figures.json and docs/figures.md; see
# docs/benchmarks.md ("Gathering every figure"). Arguments go to figures.py:
#   tests/bench/figures.sh             full run (9 runs per program)
#   tests/bench/figures.sh --quick     fast check, output in build-bench/
#   tests/bench/figures.sh --help      every option
exec python3 "$(dirname "$0")/figures.py" "$@"

#!/bin/sh
# Static analysis over src/: clang-tidy with the checked-in .clang-tidy, then cppcheck. Any
# finding fails. Usage: scripts/lint.sh BUILD_DIR (a directory for the compile database).
set -eu
cd "$(dirname "$0")/.."
build=${1:-build-lint}

cmake -S . -B "$build" -DCMAKE_EXPORT_COMPILE_COMMANDS=ON -DCMAKE_C_COMPILER=clang >/dev/null
echo "lint: clang-tidy $(clang-tidy --version | sed -n 's/.*version \([0-9.]*\).*/\1/p' | head -1)"
run-clang-tidy -p "$build" -quiet -j "$(nproc)" "$(pwd)/src/" >"$build/clang-tidy.log" 2>&1 || {
    grep -E '(error|warning): ' "$build/clang-tidy.log" | sort -u
    echo "lint: clang-tidy found problems (full log: $build/clang-tidy.log)" >&2
    exit 1
}
echo "lint: cppcheck $(cppcheck --version | cut -d' ' -f2)"
# unusedFunction is left to the linker and the tests; missingIncludeSystem: system headers are
# not cppcheck's to read.
cppcheck --quiet --error-exitcode=1 --std=c11 --enable=warning,performance,portability \
    --inline-suppr --suppress=missingIncludeSystem -D__GNUC__ -D_GNU_SOURCE -Isrc \
    -j "$(nproc)" src
echo "lint: clean"

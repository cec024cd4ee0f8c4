#!/usr/bin/env bash
# Fuzz one parser with libFuzzer, outside the package build.
#
#   scripts/fuzz.sh TARGET SECONDS [extra libFuzzer flags...]
#   scripts/fuzz.sh list                 # the targets
#   scripts/fuzz.sh build TARGET         # build only
#   scripts/fuzz.sh run TARGET INPUT...  # run the target once on each INPUT (reproduce a crash)
#
# TARGET is a file Fuzz/<TARGET>.swift exporting LLVMFuzzerTestOneInput. The library
# (Sources/Recurrent/**/*.swift, with Sources/RecurrentPlot as its own module and
# Sources/CRecurrentKernels compiled by clang) is built once, with -sanitize=fuzzer,address and
# -enable-testing, into .build/fuzz/lib, and rebuilt when a source changes; each target is a small
# module on top of it (`@testable import Recurrent`). Files are globbed, never listed.
#
# The corpus lives in .build/fuzz/corpus/TARGET (kept between runs), seeded from Fuzz/seeds/TARGET
# and, for the file formats, the test fixtures. Crashes, leaks and time-outs are written to
# .build/fuzz/findings/TARGET/; copy each one to Tests/RecurrentTests/Fixtures/regressions/TARGET/
# once fixed, where `swift test` replays it (FuzzRegressionTests). The run's log is
# .build/fuzz/logs/TARGET-<date>.log; its last lines give executions, coverage and corpus size.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
out="$root/.build/fuzz"
lib="$out/lib"
mkdir -p "$lib" "$out/bin" "$out/logs"

SWIFTC="${SWIFTC:-swiftc}"
CLANG="${CLANG:-$(dirname "$(command -v "$SWIFTC")")/clang}"
OPT="${FUZZ_OPT:--O}"

usage() { sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 64; }

targets() { for f in Fuzz/*.swift; do basename "$f" .swift; done; }

# Newest modification time among the library's sources and this script.
library_stamp() {
    find Sources/Recurrent Sources/RecurrentPlot Sources/CRecurrentKernels "$0" -type f \
        \( -name '*.swift' -o -name '*.c' -o -name '*.h' -o -name '*.sh' \) -printf '%T@ %p\n' | sort -n | tail -1
}

build_library() {
    local stamp
    stamp="$(library_stamp)"
    if [[ -f "$lib/stamp" && "$(cat "$lib/stamp")" == "$stamp" && -f "$lib/Recurrent.o" ]]; then return; fi
    echo "fuzz.sh: building the library (sanitizers on; a few minutes)" >&2
    rm -rf "$lib" && mkdir -p "$lib/include"
    cat > "$lib/include/module.modulemap" <<EOF
module CRecurrentKernels {
    header "$root/Sources/CRecurrentKernels/include/CRecurrentKernels.h"
    export *
}
module CZlib [system] {
    header "/usr/include/zlib.h"
    link "z"
    export *
}
EOF
    mkdir -p "$lib/kernels"
    for c in Sources/CRecurrentKernels/*.c; do
        "$CLANG" -c -O2 -fsanitize=address -I Sources/CRecurrentKernels/include "$c" -o "$lib/kernels/$(basename "$c" .c).o"
    done
    local plot=() recurrent=()
    while IFS= read -r -d '' f; do plot+=("$f"); done < <(find Sources/RecurrentPlot -name '*.swift' -print0 | sort -z)
    while IFS= read -r -d '' f; do recurrent+=("$f"); done < <(find Sources/Recurrent -name '*.swift' -print0 | sort -z)
    "$SWIFTC" $OPT -wmo -parse-as-library -sanitize=address -module-name RecurrentPlot \
        -emit-module -emit-module-path "$lib/RecurrentPlot.swiftmodule" -c "${plot[@]}" -o "$lib/RecurrentPlot.o"
    "$SWIFTC" $OPT -wmo -parse-as-library -sanitize=fuzzer,address -enable-testing -module-name Recurrent \
        -I "$lib" -I "$lib/include" \
        -emit-module -emit-module-path "$lib/Recurrent.swiftmodule" -c "${recurrent[@]}" -o "$lib/Recurrent.o"
    echo "$stamp" > "$lib/stamp"
}

build_target() {
    local target="$1" source="Fuzz/$1.swift" binary="$out/bin/$1"
    [[ -f "$source" ]] || { echo "fuzz.sh: no target '$target' (Fuzz/$target.swift); targets: $(targets | tr '\n' ' ')" >&2; exit 64; }
    build_library
    if [[ -x "$binary" && "$binary" -nt "$source" && "$binary" -nt "$lib/stamp" ]]; then return; fi
    echo "fuzz.sh: building $target" >&2
    "$SWIFTC" $OPT -parse-as-library -sanitize=fuzzer,address -module-name "Fuzz$target" \
        -I "$lib" -I "$lib/include" "$source" "$lib/Recurrent.o" "$lib/RecurrentPlot.o" "$lib"/kernels/*.o \
        -o "$binary" 2> >(grep -v "Cannot export local symbol" >&2)
}

# Fills the corpus folder from the committed seeds and the fixtures that fit the target.
seed_corpus() {
    local target="$1" corpus="$out/corpus/$1"
    mkdir -p "$corpus"
    [[ -d "Fuzz/seeds/$target" ]] && cp -n Fuzz/seeds/"$target"/* "$corpus"/ 2>/dev/null || true
    local fixtures=Tests/RecurrentTests/Fixtures
    case "$target" in
        SafeTensors) cp -n "$fixtures"/*.safetensors "$corpus"/ 2>/dev/null || true ;;
        NumPy) cp -n "$fixtures"/*.npy "$corpus"/ 2>/dev/null || true ;;
    esac
    [[ -d "$fixtures/regressions/$target" ]] && cp -n "$fixtures/regressions/$target"/* "$corpus"/ 2>/dev/null || true
    return 0
}

case "${1:-}" in
    ""|-h|--help) usage ;;
    list) targets; exit 0 ;;
    build) [[ $# -eq 2 ]] || usage; build_target "$2"; echo "$out/bin/$2"; exit 0 ;;
    run)
        [[ $# -ge 3 ]] || usage
        build_target "$2"
        target="$2"; shift 2
        SWIFT_BACKTRACE=enable=no exec "$out/bin/$target" -runs=1 "$@" ;;
esac

[[ $# -ge 2 && "$2" =~ ^[0-9]+$ ]] || usage
target="$1" seconds="$2"
shift 2
build_target "$target"
seed_corpus "$target"
findings="$out/findings/$target"
mkdir -p "$findings"
dict=()
[[ -f "Fuzz/dict/$target.dict" ]] && dict=("-dict=Fuzz/dict/$target.dict")
log="$out/logs/$target-$(date +%Y%m%d-%H%M%S).log"
echo "fuzz.sh: $target for ${seconds}s, corpus $out/corpus/$target, log $log" >&2
# The Swift runtime's backtracer would hold a crashing process for minutes: off.
set +e
SWIFT_BACKTRACE=enable=no ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}" \
    "$out/bin/$target" -max_total_time="$seconds" -rss_limit_mb="${FUZZ_RSS_MB:-2048}" -timeout="${FUZZ_TIMEOUT:-10}" \
    -artifact_prefix="$findings/" -print_final_stats=1 "${dict[@]}" "$@" "$out/corpus/$target" 2>&1 | tee "$log" | grep -E "^#|ERROR|crash-|leak-|timeout-|oom-|stat::" | tail -40
status=${PIPESTATUS[0]}
set -e
echo "fuzz.sh: exit $status; findings in $findings: $(ls "$findings" | wc -l)" >&2
exit "$status"

#!/usr/bin/env bash
# Size and start-up time of the built bundle (packaging/build.sh first). Runs only the frozen executable.
# smoke_test.sh runs it at the end; on its own:
#
#   bash packaging/measure_startup.sh [path/to/dist/veerdesk]
#   VEERDESK_MEASURE_RUNS=5 bash packaging/measure_startup.sh   # runs per figure (default 3)
#
# Prints the bundle's size and file count, the load average before and after, and for each figure the median
# and range (min-max) of the wall times, in seconds:
#   --version, cold-ish  the bundle's files are dropped from the page cache before each run (`dd iflag=nocache`
#                        on this bundle's files only); the disk or the host may still cache them, hence "-ish"
#   --version, warm      every bundle file read once beforehand, so all of it is in the page cache
#   window               `open --screenshot S --offscreen`: start, show the main window, grab it, save, exit
#                        (cold-ish and warm, as above)
#   window, sample       warm, with resources/samples/sample-log.tif and its layout opened first
#   digitize             headless `digitize` of the bundled sample with the bundled weights, --device cpu
#                        (weights from $VEERDESK_SMOKE_WEIGHTS when none are bundled; else not measured)
# Exits non-zero when a measured command fails.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUNDLE="$(cd "${1:-$ROOT/dist/veerdesk}" 2>/dev/null && pwd)" || { echo "no bundle at ${1:-$ROOT/dist/veerdesk}"; exit 2; }
EXE="$BUNDLE/veerdesk"
RES="$BUNDLE/_internal/resources"
RUNS="${VEERDESK_MEASURE_RUNS:-3}"
[ -x "$EXE" ] || { echo "no bundle at $BUNDLE (run packaging/build.sh)"; exit 2; }
WORK="$(mktemp -d "${TMPDIR:-/tmp}/veerdesk-measure.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
export QT_QPA_PLATFORM=offscreen
unset PYTHONPATH PYTHONHOME VIRTUAL_ENV
cd "$WORK"

failures=0
now() { date +%s.%N; }
load() { sed 's/.*load average: //' <<<"$(uptime)"; }
drop_cache() { find "$BUNDLE" -type f -exec sh -c 'for f; do dd if="$f" iflag=nocache count=0 status=none; done' _ {} +; }
warm_cache() { find "$BUNDLE" -type f -exec cat {} + >/dev/null; }
resident_mb() {  # how much of the bundle is in the page cache (needs util-linux fincore)
    command -v fincore >/dev/null || { echo "?"; return; }
    find "$BUNDLE" -type f -exec fincore -b -n -o RES {} + 2>/dev/null | awk '{ s += $1 } END { printf "%.0f", s / 1048576 }'
}

# measure LABEL PREPARE CMD...: run CMD $RUNS times (PREPARE before each), print median and range
measure() {
    local label="$1" prepare="$2" i t0 times=()
    shift 2
    for ((i = 0; i < RUNS; i++)); do
        $prepare
        t0=$(now)
        if ! "$@" >"run.log" 2>&1; then
            echo "FAIL  $label: $* -> $(tail -3 run.log)"
            failures=$((failures + 1))
            return
        fi
        times+=("$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }')")
    done
    printf '%s\n' "${times[@]}" | sort -g | awk -v label="$label" -v all="${times[*]}" '
        { v[NR] = $1 }
        END {
            m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
            printf "%-20s median %7.2f s   range %.2f-%.2f s   (%d runs: %s)\n", label, m, v[1], v[NR], NR, all
        }'
}
none() { :; }

echo "bundle: $BUNDLE: $(du -sh "$BUNDLE" | cut -f1), $(find "$BUNDLE" -type f | wc -l) files" \
     "(_internal/torch $(du -sh "$BUNDLE/_internal/torch" 2>/dev/null | cut -f1))"
echo "load average before (1, 5, 15 min): $(load); $(nproc) CPUs"

drop_cache
echo "page cache after dropping: $(resident_mb) MB of the bundle resident"
measure "--version, cold-ish" drop_cache "$EXE" --version
measure "window, cold-ish" drop_cache "$EXE" open --screenshot shot.png --offscreen
warm_cache
echo "page cache after reading every file: $(resident_mb) MB of the bundle resident"
measure "--version, warm" none "$EXE" --version
measure "window, warm" none "$EXE" open --screenshot shot.png --offscreen

SAMPLE="$RES/samples/sample-log.tif"
SAMPLE_LAYOUT="$RES/samples/sample-log.layout.json"
if [ -f "$SAMPLE" ] && [ -f "$SAMPLE_LAYOUT" ]; then
    measure "window, sample" none "$EXE" open "$SAMPLE" --layout "$SAMPLE_LAYOUT" --screenshot shot.png --offscreen
    weights=()
    if ! ls "$RES"/models/*.safetensors >/dev/null 2>&1; then
        [ -n "${VEERDESK_SMOKE_WEIGHTS:-}" ] && weights=(--weights "$VEERDESK_SMOKE_WEIGHTS")
    fi
    if ls "$RES"/models/*.safetensors >/dev/null 2>&1 || [ "${#weights[@]}" -gt 0 ]; then
        measure "digitize, sample" none "$EXE" digitize "$SAMPLE" --layout "$SAMPLE_LAYOUT" -o sample.las \
            --device cpu --report report.json "${weights[@]}"
    else
        echo "digitize: not measured (no bundled weights; set VEERDESK_SMOKE_WEIGHTS=FILE.safetensors)"
    fi
else
    echo "window, sample / digitize: not measured (no bundled sample)"
fi
echo "load average after (1, 5, 15 min): $(load)"
[ "$failures" -eq 0 ] || { echo "measure: $failures command(s) failed"; exit 1; }

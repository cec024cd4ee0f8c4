#!/usr/bin/env bash
# Long training runs that outlive their process: one idempotent command per run.
#
#   scripts/longrun.sh new DIR [train options...]   record a run (options + the current commit, or LONGRUN_COMMIT), then run it
#   scripts/longrun.sh run DIR...                   start or resume each run, whichever applies, one after another
#   scripts/longrun.sh stop DIR...                  Ctrl-C the running ones (they save a checkpoint and exit)
#   scripts/longrun.sh status [DIR...]              step, last evaluation, state (default: experiments/longruns/*)
#
# DIR/run.conf (committed) holds COMMIT (the commit whose binary trains this run) and ARGS (the
# `recurrent train` options). The binary is built once from that commit into
# ${RECURRENT_LONGRUN_CACHE:-$HOME/.cache/recurrent-longrun}/COMMIT/recurrent, so it stays the
# same while the source changes, and is rebuilt from git on a new machine. The run's checkpoint
# (DIR/model.safetensors + DIR/model.state.safetensors), its JSON Lines log (DIR/log.jsonl, appended
# across resumes) and its console output (DIR/train.log) are small: commit them with the code.
# A run that finished gets DIR/DONE, one that diverged DIR/DIVERGED (exit status 3 kept in the log).
# Runs use one thread (results are bit-identical for any count) and `nice` (THREADS, NICE override);
# RECURRENT_LONGRUN_BINARY runs a given binary instead of the run's commit (for tests).
set -uo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
cache="${RECURRENT_LONGRUN_CACHE:-$HOME/.cache/recurrent-longrun}"
threads="${THREADS:-1}"
niceness="${NICE:-19}"
if [ -d /opt/swift/usr/bin ]; then export PATH="/opt/swift/usr/bin:$PATH"; fi

die() { echo "longrun: $*" >&2; exit 1; }

# The release binary of COMMIT, built from a clean export of that commit (never the work tree).
binary_for() {
    local commit="$1" bin="$cache/$1/recurrent"
    # Tests run the binary they just built instead of building the run's commit.
    if [ -n "${RECURRENT_LONGRUN_BINARY:-}" ]; then echo "$RECURRENT_LONGRUN_BINARY"; return 0; fi
    if [ -x "$bin" ]; then echo "$bin"; return 0; fi
    mkdir -p "$cache/$commit"
    (
        flock 9
        if [ ! -x "$bin" ]; then
            local src="$cache/$commit/src"
            rm -rf "$src" && mkdir -p "$src"
            git -C "$repo" archive "$commit" | tar -x -C "$src" || exit 1
            echo "longrun: building $commit (release) in $src" >&2
            (cd "$src" && swift build -c release --product recurrent >&2) || exit 1
            cp "$src/.build/release/recurrent" "$bin.tmp" && mv "$bin.tmp" "$bin"
        fi
    ) 9>"$cache/$commit/.build-lock" || die "could not build the binary of $commit"
    echo "$bin"
}

run_one() {
    local dir="$1"
    [ -f "$dir/run.conf" ] || die "$dir/run.conf: no such run (create it with: scripts/longrun.sh new $dir OPTIONS)"
    if [ -e "$dir/DONE" ]; then echo "longrun: $dir finished already"; return 0; fi
    if [ -e "$dir/DIVERGED" ]; then echo "longrun: $dir diverged (see $dir/train.log); not restarted"; return 0; fi
    local COMMIT ARGS
    # shellcheck disable=SC1091
    source "$dir/run.conf"
    local bin
    bin="$(binary_for "$COMMIT")" || return 1
    exec 8>"$dir/.lock"
    if ! flock -n 8; then echo "longrun: $dir is already running (lock $dir/.lock)"; return 0; fi
    local cmd
    if [ -f "$dir/model.state.safetensors" ]; then   # the training state is the resumable unit (the model file may be one save behind)
        cmd=("$bin" train --resume "$dir/model.safetensors" --log "$dir/log.jsonl" --threads "$threads")
    else
        # shellcheck disable=SC2206
        cmd=("$bin" train $ARGS --checkpoint-dir "$dir" --name model --log "$dir/log.jsonl" --threads "$threads")
    fi
    local cpu
    cpu="$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)"
    echo "== $(date -u +%FT%TZ) $(hostname) ($(nproc) cores, ${cpu:-unknown CPU}) pid $$: ${cmd[*]}" >>"$dir/train.log"
    nice -n "$niceness" "${cmd[@]}" >>"$dir/train.log" 2>&1 &
    local child=$!
    echo "$child" >"$dir/.pid"
    trap 'kill -INT $child 2>/dev/null' INT TERM HUP
    wait "$child"; local status=$?
    while kill -0 "$child" 2>/dev/null; do wait "$child"; status=$?; done
    trap - INT TERM HUP
    rm -f "$dir/.pid"
    echo "== $(date -u +%FT%TZ) exit $status" >>"$dir/train.log"
    case "$status" in
        0) touch "$dir/DONE"; echo "longrun: $dir finished" ;;
        3) touch "$dir/DIVERGED"; echo "longrun: $dir diverged" ;;
        130) echo "longrun: $dir interrupted; checkpoint saved" ;;
        *) echo "longrun: $dir stopped with status $status (see $dir/train.log)"; return "$status" ;;
    esac
    flock -u 8
}

status_one() {
    local dir="$1" state="stopped"
    [ -e "$dir/.pid" ] && kill -0 "$(cat "$dir/.pid")" 2>/dev/null && state="running"
    [ -e "$dir/DONE" ] && state="done"
    [ -e "$dir/DIVERGED" ] && state="diverged"
    local last
    last="$(grep '"kind":"evaluation"' "$dir/log.jsonl" 2>/dev/null | tail -2 | tr '\n' ' ' | cut -c1-300)"
    echo "$dir: $state; $last"
}

main() {
    local cmd="${1:-}"; shift || true
    case "$cmd" in
        new)
            dir="${1:?usage: longrun.sh new DIR OPTIONS}"; shift
            [ -e "$dir/run.conf" ] && die "$dir/run.conf exists; use: scripts/longrun.sh run $dir"
            mkdir -p "$dir"
            commit="$(git -C "$repo" rev-parse "${LONGRUN_COMMIT:-HEAD}^{commit}")" || die "no such commit: ${LONGRUN_COMMIT:-HEAD}"
            printf 'COMMIT=%s\nARGS=%q\n' "$commit" "$*" >"$dir/run.conf"
            run_one "$dir" ;;
        run)
            for d in "$@"; do run_one "$d" || exit $?; done ;;
        stop)
            for d in "$@"; do
                [ -e "$d/.pid" ] || continue
                pid="$(cat "$d/.pid")"; kill -INT "$pid" 2>/dev/null
                while kill -0 "$pid" 2>/dev/null; do sleep 0.5; done
                echo "longrun: $d stopped"
            done ;;
        status)
            if [ $# -eq 0 ]; then set -- "$repo"/experiments/longruns/*/; fi
            for d in "$@"; do status_one "${d%/}"; done ;;
        *) sed -n '2,17p' "$0"; exit 64 ;;
    esac
}

# One line, read whole before it runs: editing this file while a run is going cannot change what it does next.
main "$@"; exit $?

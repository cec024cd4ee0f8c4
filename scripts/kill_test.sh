#!/usr/bin/env bash
# Kill tests: a checkpoint and its training state are one unit, and kill -9 at any moment loses nothing.
#
#   scripts/kill_test.sh [options]
#     --train-kills N     (a) SIGKILLs of `recurrent train` at random moments (default 200)
#     --compare-kills N   (b) SIGKILLs of `recurrent compare` (default 50)
#     --signal-stops N    (c) SIGINT / SIGTERM (every 5th: twice) sent to `train` while it saves every step (default 50)
#     --bin PATH          the binary (default: .build/release/recurrent, built if missing)
#     --work DIR          scratch folder (default: a new mktemp -d; kept on failure, removed on success)
#     --seed N            seed of the random delays (default 1)
#
# (a) Three training configurations in turn (adding T=20 saving every 2 steps; adding T=2, H=384 saving every
#     step, where a save is most of a step; charlm with carried state saving every 3 steps) are started, killed
#     after a random delay, and started again (--resume once a training state exists) until the kill quota of the
#     episode is spent; then the run finishes uninterrupted. After every kill: the training state's step never goes
#     back, the model file (if any) loads with `eval`, and a copy of the pair resumes (`train --resume COPY --steps
#     S+1` exits 0 at S+1). At the end the checkpoint (model file and training state) holds the same tensors, byte
#     for byte, as an uninterrupted run with the same seed, and no temporary file is left.
# (b) The same for `compare` (two models x two seeds, saving every 3 steps): every killed run resumes at the step
#     its training state holds, and the final runs.jsonl (every number but the wall-clock times) and each run's
#     checkpoint equal an uninterrupted compare's.
# (c) A run saving every step (the save-heavy configuration) gets SIGINT or SIGTERM at a random moment: it must exit
#     130 with its notice and a matching pair (one signal), or exit 130 at once and leave a resumable pair (two
#     signals); the continued run ends with the uninterrupted run's bits.
#
# Prints one summary line per part and a total: kills, resumed, mismatches, lost; exits 1 on any loss or mismatch.
set -uo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
train_kills=200 compare_kills=50 signal_stops=50 bin="" work="" seed=1
while [ $# -gt 0 ]; do
    case "$1" in
        --train-kills) train_kills="$2"; shift 2 ;;
        --compare-kills) compare_kills="$2"; shift 2 ;;
        --signal-stops) signal_stops="$2"; shift 2 ;;
        --bin) bin="$2"; shift 2 ;;
        --work) work="$2"; shift 2 ;;
        --seed) seed="$2"; shift 2 ;;
        -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
        *) echo "kill_test: unknown option $1 (see --help)" >&2; exit 64 ;;
    esac
done
if [ -d /opt/swift/usr/bin ]; then export PATH="/opt/swift/usr/bin:$PATH"; fi
if [ -z "$bin" ]; then
    bin="$repo/.build/release/recurrent"
    [ -x "$bin" ] || (cd "$repo" && swift build -c release --product recurrent) || { echo "kill_test: release build failed" >&2; exit 1; }
fi
[ -x "$bin" ] || { echo "kill_test: $bin is not executable" >&2; exit 1; }
work="${work:-$(mktemp -d /tmp/recurrent-kill-test.XXXXXX)}"
mkdir -p "$work"
RANDOM=$seed
failures=0

# ---------------------------------------------------------------------------------------------------------------
# Helpers in Python (standard library only): safetensors metadata and tensor bytes, compare's runs.jsonl.
cat > "$work/kt.py" <<'PY'
import json, struct, sys

def read(path):
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    body = data[8 + n:]
    return {k: (v["dtype"], v["shape"], body[v["data_offsets"][0]:v["data_offsets"][1]]) for k, v in header.items()}, meta

def timeless(r):
    for k in ("seconds", "secondsPerStep", "targetSeconds"):
        r.pop(k, None)
    for p in r.get("curve", []):
        p.pop("seconds", None)
    return r

cmd = sys.argv[1]
if cmd == "step":                       # the step a checkpoint file records
    print(read(sys.argv[2])[1].get("step", "?"))
elif cmd == "same":                     # same tensor names, dtypes, shapes and bytes
    a, b = read(sys.argv[2])[0], read(sys.argv[3])[0]
    if a != b:
        diff = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
        print("differ: " + ", ".join(diff[:8]))
        sys.exit(1)
elif cmd == "runs":                     # compare's runs.jsonl, every number but wall-clock times
    a = [timeless(json.loads(l)) for l in open(sys.argv[2]) if l.strip()]
    b = [timeless(json.loads(l)) for l in open(sys.argv[3]) if l.strip()]
    if a != b:
        print("runs.jsonl differ: %d vs %d runs; first difference in run %s" % (len(a), len(b),
              next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))))
        sys.exit(1)
PY
py() { python3 "$work/kt.py" "$@"; }

# A random delay in seconds, from 0 to $1 (milliseconds), for `sleep`.
delay() { local ms=$(( (RANDOM * 32768 + RANDOM) % ($1 + 1) )); printf '%d.%03d' $((ms / 1000)) $((ms % 1000)); }

# Temporary files of a checkpoint's atomic writes in a folder.
temporaries() { find "$1" -maxdepth 1 -name '.*.tmp-*' | wc -l; }

fail() { echo "  LOST: $*" >&2; lost=$((lost + 1)); }

# Does a copy of the pair NAME in DIR resume? Prints nothing; returns 0 when `train --resume` reaches step S+1.
resumes() {
    local dir="$1" name="$2" step="$3" scratch="$work/resume-check"
    rm -rf "$scratch" && mkdir -p "$scratch"
    cp "$dir/$name.state.safetensors" "$scratch/"
    [ -f "$dir/$name.safetensors" ] && cp "$dir/$name.safetensors" "$scratch/"
    find "$dir" -maxdepth 1 -name ".$name.*tmp-*" -exec cp {} "$scratch/" \;
    local out
    out="$("$bin" train --resume "$scratch/$name.safetensors" --steps $((step + 1)) --json 2>"$scratch/stderr")" || {
        echo "  resume check of $dir/$name at step $step failed: $(tail -2 "$scratch/stderr")" >&2; return 1; }
    case "$out" in *"\"steps\":$((step + 1)),"*|*"\"steps\": $((step + 1)),"*) return 0 ;; esac
    echo "  resume check of $dir/$name: expected step $((step + 1)) in $out" >&2
    return 1
}

# ---------------------------------------------------------------------------------------------------------------
# (a) train, SIGKILLed at random moments.
text=/usr/share/common-licenses/GPL-3
[ -f "$text" ] || { head -c 40000 "$repo/README.md" > "$work/text.txt"; text="$work/text.txt"; }
configs=(
    "compute|--task adding --length 20 --hidden 32 --batch 16 --limit 100 --checkpoint-every 2 --log-every 1|1200|700"
    "save-heavy|--task adding --length 2 --hidden 384 --batch 4 --limit 20 --checkpoint-every 1 --log-every 1|250|700"
    "charlm|--task charlm --data $text --cell lstm --hidden 32 --batch 4 --bptt 16 --limit 20000 --checkpoint-every 3 --log-every 1|600|900"
)
kills=0 resumed=0 mismatches=0 lost=0 midwrite=0 behind=0 repaired=0 cleaned=0 episodes=0
per_episode=$(( (train_kills + ${#configs[@]} * 2 - 1) / (${#configs[@]} * 2) ))   # two episodes per configuration
while [ "$kills" -lt "$train_kills" ]; do
    IFS='|' read -r label args steps max_ms <<< "${configs[$((episodes % ${#configs[@]}))]}"
    episodes=$((episodes + 1))
    dir="$work/a$episodes-$label" ref="$work/a$episodes-$label-reference"
    # shellcheck disable=SC2086
    "$bin" train $args --steps "$steps" --checkpoint-dir "$ref" --name run --json > /dev/null 2> "$ref.stderr" \
        || { echo "kill_test: the reference run of $label failed: $(tail -3 "$ref.stderr")" >&2; exit 1; }
    last=-1 episode_kills=0 done=0
    while [ "$done" -eq 0 ] && [ "$episode_kills" -lt "$per_episode" ] && [ "$kills" -lt "$train_kills" ]; do
        if [ -f "$dir/run.state.safetensors" ]; then
            cmd=("$bin" train --resume "$dir/run.safetensors" --steps "$steps" --log "$dir/log.jsonl")
        else
            # shellcheck disable=SC2206
            cmd=("$bin" train $args --steps "$steps" --checkpoint-dir "$dir" --name run --log "$dir/log.jsonl")
        fi
        "${cmd[@]}" > "$dir.out" 2> "$dir.err" &
        pid=$!
        sleep "$(delay "$max_ms")"
        if kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null; then
            wait "$pid" 2>/dev/null
            kills=$((kills + 1)) episode_kills=$((episode_kills + 1))
        else
            wait "$pid"; rc=$?
            [ "$rc" -eq 0 ] || fail "$label: exited $rc before the kill: $(tail -2 "$dir.err")"
            done=1
        fi
        grep -q "was at step\|was missing\|was unreadable" "$dir.err" && repaired=$((repaired + 1))
        grep -q "temporary file" "$dir.err" && cleaned=$((cleaned + 1))
        [ -d "$dir" ] || continue                              # killed before the folder was made
        [ "$(temporaries "$dir")" -gt 0 ] && midwrite=$((midwrite + 1))
        if [ ! -f "$dir/run.state.safetensors" ]; then
            [ "$last" -lt 0 ] || fail "$label: the training state of step $last vanished"
            continue                                          # killed before the first save completed
        fi
        step="$(py step "$dir/run.state.safetensors")"
        [ "$step" -ge "$last" ] 2>/dev/null || fail "$label: the training state went back from step $last to $step"
        last="$step"
        if [ -f "$dir/run.safetensors" ]; then
            [ "$(py step "$dir/run.safetensors")" = "$step" ] || behind=$((behind + 1))
            "$bin" eval --checkpoint "$dir/run.safetensors" > /dev/null 2> "$work/eval.err" \
                || fail "$label: eval of the model file failed: $(tail -1 "$work/eval.err")"
        fi
        if resumes "$dir" run "$step"; then resumed=$((resumed + 1)); else fail "$label: the pair at step $step does not resume"; fi
        [ "$step" -ge "$steps" ] && done=1                     # killed after its final save
    done
    # Finish uninterrupted (a run killed after its final save only has its model file put back in step).
    if [ ! -f "$dir/run.state.safetensors" ]; then
        # shellcheck disable=SC2086
        "$bin" train $args --steps "$steps" --checkpoint-dir "$dir" --name run --log "$dir/log.jsonl" > "$dir.out" 2> "$dir.err" \
            || fail "$label: the final run failed: $(tail -2 "$dir.err")"
    elif [ "$(py step "$dir/run.state.safetensors")" != "$steps" ]; then
        "$bin" train --resume "$dir/run.safetensors" --steps "$steps" --log "$dir/log.jsonl" > "$dir.out" 2> "$dir.err" \
            || fail "$label: the final resume failed: $(tail -2 "$dir.err")"
    elif [ "$(py step "$dir/run.safetensors" 2>/dev/null)" != "$steps" ]; then
        "$bin" train --resume "$dir/run.safetensors" --steps "$steps" > "$dir.out" 2> "$dir.err"   # repairs, then says it is complete
    fi
    grep -q "was at step\|was missing\|was unreadable" "$dir.err" && repaired=$((repaired + 1))
    grep -q "temporary file" "$dir.err" && cleaned=$((cleaned + 1))
    for f in run.safetensors run.state.safetensors; do
        py same "$dir/$f" "$ref/$f" > "$work/same.out" 2>&1 || { mismatches=$((mismatches + 1)); echo "  MISMATCH $label $f: $(cat "$work/same.out")" >&2; }
    done
    [ "$(temporaries "$dir")" -eq 0 ] || fail "$label: temporary files left at the end: $(ls -a "$dir")"
    echo "  (a) episode $episodes ($label): $episode_kills kills up to step $last, then finished uninterrupted at step $(py step "$dir/run.safetensors")"
done
echo "(a) train: kills $kills, resumed $resumed, mismatches $mismatches, lost $lost; $episodes episodes; kills mid-write (a .tmp- file left) $midwrite, model file one save behind $behind, repairs announced on resume $repaired, temporaries removed on resume $cleaned"
failures=$((failures + mismatches + lost))

# ---------------------------------------------------------------------------------------------------------------
# (b) compare, SIGKILLed at random moments.
if [ "$compare_kills" -gt 0 ]; then
    cargs=(compare --task adding --length 5 --models irnn,lstm --seeds 2 --steps 300 --hidden 16 --batch 8 --eval-every 20 --checkpoint-every 3)
    "$bin" "${cargs[@]}" --report "$work/b-reference" > /dev/null 2> "$work/b-reference.err" \
        || { echo "kill_test: the reference compare failed: $(tail -3 "$work/b-reference.err")" >&2; exit 1; }
    kills=0 resumed=0 mismatches=0 lost=0 midwrite=0 repaired=0 episodes=0
    while [ "$kills" -lt "$compare_kills" ]; do              # episodes: a comparison killed until it finishes
        episodes=$((episodes + 1))
        report="$work/b-killed-$episodes"
        unset laststep; declare -A laststep=()
        while :; do
            final=0
            [ "$kills" -ge "$compare_kills" ] && final=1
            "$bin" "${cargs[@]}" --report "$report" > "$report.out" 2> "$report.err" &
            pid=$!
            if [ "$final" -eq 1 ]; then wait "$pid"; rc=$?; else sleep "$(delay 900)"; rc=-1; fi
            if [ "$rc" -eq -1 ] && kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null; then
                wait "$pid" 2>/dev/null
                kills=$((kills + 1))
            else
                [ "$rc" -eq -1 ] && { wait "$pid"; rc=$?; }
                [ "$rc" -eq 0 ] || fail "compare exited $rc: $(tail -2 "$report.err")"
                final=1
            fi
            # Every run that resumed did so at the step its training state held after the previous kill.
            while read -r model seed at; do
                key="$model-seed$seed"
                if [ "${laststep[$key]:-}" = "$at" ]; then resumed=$((resumed + 1)); else fail "compare: $key resumed at $at, its training state was at ${laststep[$key]:-none}"; fi
            done < <(sed -n 's/^\([^ ]*\) seed \([0-9]*\): resuming at step \([0-9]*\)$/\1 \2 \3/p' "$report.err")
            grep -q "was at step\|was missing\|was unreadable" "$report.err" && repaired=$((repaired + 1))
            grep -qi "error" "$report.err" && fail "compare printed an error: $(grep -i error "$report.err" | head -2)"
            for run in "$report"/runs/*/; do
                [ -d "$run" ] || continue
                key="$(basename "$run")"
                [ "$(temporaries "$run")" -gt 0 ] && midwrite=$((midwrite + 1))
                if [ -f "$run/result.json" ]; then
                    laststep[$key]="finished"
                elif [ -f "$run/checkpoint.state.safetensors" ]; then
                    step="$(py step "$run/checkpoint.state.safetensors")"
                    [ "$step" -ge "${laststep[$key]:--1}" ] || fail "compare: $key went back from ${laststep[$key]} to $step"
                    laststep[$key]="$step"
                    if [ -f "$run/checkpoint.safetensors" ] && ! "$bin" eval --checkpoint "$run/checkpoint.safetensors" --task adding --length 5 > /dev/null 2> "$work/eval.err"; then
                        fail "compare: eval of $key failed: $(tail -1 "$work/eval.err")"
                    fi
                elif [ -n "${laststep[$key]:-}" ]; then
                    fail "compare: the training state of $key vanished"
                fi
            done
            [ "$final" -eq 1 ] && break
        done
        py runs "$report/runs.jsonl" "$work/b-reference/runs.jsonl" > "$work/same.out" 2>&1 || { mismatches=$((mismatches + 1)); echo "  MISMATCH compare: $(cat "$work/same.out")" >&2; }
        for run in "$work"/b-reference/runs/*/; do
            key="$(basename "$run")"
            for f in checkpoint.safetensors checkpoint.state.safetensors; do
                py same "$report/runs/$key/$f" "$run/$f" > "$work/same.out" 2>&1 || { mismatches=$((mismatches + 1)); echo "  MISMATCH compare $key/$f: $(cat "$work/same.out")" >&2; }
            done
            [ "$(temporaries "$report/runs/$key")" -eq 0 ] || fail "compare: temporary files left in $key: $(ls -a "$report/runs/$key")"
        done
        echo "  (b) episode $episodes: finished; runs.jsonl and checkpoints compared"
    done
    echo "(b) compare: kills $kills, resumed $resumed, mismatches $mismatches, lost $lost; $episodes episodes; kills mid-write (a .tmp- file left) $midwrite, repairs announced $repaired"
    failures=$((failures + mismatches + lost))
fi

# ---------------------------------------------------------------------------------------------------------------
# (c) SIGINT and SIGTERM while saving every step.
if [ "$signal_stops" -gt 0 ]; then
    args="--task adding --length 2 --hidden 384 --batch 4 --limit 20 --checkpoint-every 1 --log-every 1"
    steps=100000
    dir="$work/c-signals"
    stops=0 resumed=0 mismatches=0 lost=0 doubles=0 early=0
    for i in $(seq 1 "$signal_stops"); do
        if [ -f "$dir/run.state.safetensors" ]; then
            cmd=("$bin" train --resume "$dir/run.safetensors" --steps "$steps")
        else
            # shellcheck disable=SC2206
            cmd=("$bin" train $args --steps "$steps" --checkpoint-dir "$dir" --name run)
        fi
        "${cmd[@]}" > "$dir.out" 2> "$dir.err" &
        pid=$!
        sleep "0.05"; sleep "$(delay 550)"
        sig=INT; [ $((i % 2)) -eq 0 ] && sig=TERM
        twice=0; [ $((i % 5)) -eq 0 ] && twice=1
        kill -"$sig" "$pid" 2>/dev/null
        [ "$twice" -eq 1 ] && { sleep 0.00$((RANDOM % 10)); kill -"$sig" "$pid" 2>/dev/null; doubles=$((doubles + 1)); }
        for _ in $(seq 1 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid"; wait "$pid" 2>/dev/null; fail "SIG$sig did not stop the run within 20 s"; continue; fi
        wait "$pid"; rc=$?
        stops=$((stops + 1))
        if ! grep -q "stopping after this step" "$dir.err" && [ "$rc" -eq $((128 + $(kill -l "$sig"))) ]; then
            early=$((early + 1))                              # arrived before the handlers were installed: nothing to save yet
        elif [ "$rc" -ne 130 ]; then
            fail "SIG$sig: exit status $rc, expected 130: $(tail -2 "$dir.err")"
        fi
        [ -f "$dir/run.state.safetensors" ] || continue       # stopped before its first step
        step="$(py step "$dir/run.state.safetensors")"
        if [ "$twice" -eq 0 ] && grep -q "stopping after this step" "$dir.err"; then
            grep -q "stopping after this step and saving" "$dir.err" || fail "SIG$sig: no notice on stderr: $(tail -2 "$dir.err")"
            grep -q "interrupted at step $step of $steps by SIG" "$dir.err" || fail "SIG$sig: no 'interrupted at step $step' line: $(tail -2 "$dir.err")"
            [ "$(py step "$dir/run.safetensors")" = "$step" ] || fail "SIG$sig: the model file and training state differ in step after a clean stop"
            [ "$(temporaries "$dir")" -eq 0 ] || fail "SIG$sig: a clean stop left temporary files"
        fi
        if resumes "$dir" run "$step"; then resumed=$((resumed + 1)); else fail "SIG$sig: the pair at step $step does not resume"; fi
    done
    if [ -f "$dir/run.state.safetensors" ]; then
        total=$(( $(py step "$dir/run.state.safetensors") + 3 ))
        "$bin" train --resume "$dir/run.safetensors" --steps "$total" > "$dir.out" 2> "$dir.err" || fail "the final resume failed: $(tail -2 "$dir.err")"
        # shellcheck disable=SC2086
        "$bin" train $args --steps "$total" --checkpoint-dir "$work/c-reference" --name run > /dev/null 2>&1
        for f in run.safetensors run.state.safetensors; do
            py same "$dir/$f" "$work/c-reference/$f" > "$work/same.out" 2>&1 || { mismatches=$((mismatches + 1)); echo "  MISMATCH signals $f: $(cat "$work/same.out")" >&2; }
        done
    fi
    echo "(c) signals: stops $stops (SIGINT $(( (signal_stops + 1) / 2 )), SIGTERM $((signal_stops / 2)), of which $doubles with a second signal, $early before the handlers were installed), resumed $resumed, mismatches $mismatches, lost $lost"
    failures=$((failures + mismatches + lost))
fi

if [ "$failures" -eq 0 ]; then
    echo "kill_test: passed (work folder $work removed)"
    rm -rf "$work"
    exit 0
fi
echo "kill_test: FAILED: $failures losses or mismatches; see $work" >&2
exit 1

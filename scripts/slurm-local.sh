#!/usr/bin/env bash
# A sweep on a real Slurm cluster of one node (this machine), checked bit for bit against the
# same grid run by a plain local `recurrent compare`.
#
#   scripts/slurm-local.sh            (as root: it starts munged, slurmctld and slurmd)
#
# 1. Brings up Slurm from Debian's packages (slurm-wlm, munge; installed with apt-get if
#    missing): munged, then slurmctld and slurmd on localhost with a configuration under
#    $SLURM_LOCAL_DIR (default /tmp/recurrent-slurm-local; /etc/slurm is not touched: the
#    commands get it through SLURM_CONF).
# 2. Plans a grid of 3 models x 2 lengths x 2 seeds (tiny H, a few hundred steps) and submits
#    it with `compare --slurm --submit`: the array (at most 2 tasks at once, one CPU each) and
#    the merge job that waits for it.
# 3. Cancels one task midway (scancel: SIGTERM, the run saves and exits), checks that its
#    checkpoint is short of the total, requeues it (scontrol requeue) and waits for the array.
# 4. Waits for the merge job (`compare --merge`), runs the same grid locally, and checks that
#    every checkpoint (model file and training state) is the same bytes and that the reports'
#    numbers and runs.jsonl agree (timings aside).
# Stops the daemons it started (by their pid files) on exit. Exit status 0 when all holds.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${RECURRENT_BINARY:-$ROOT/.build/release/recurrent}
WORK=${SLURM_LOCAL_DIR:-/tmp/recurrent-slurm-local}
STEPS=${SLURM_LOCAL_STEPS:-400}
say() { printf '%s  %s\n' "$(date -u +%H:%M:%S)" "$*"; }
fail() { say "FAIL: $*"; exit 1; }

[ "$(id -u)" = 0 ] || fail "run as root (it starts munged, slurmctld and slurmd)"
if [ ! -x "$BIN" ]; then say "building $BIN"; (cd "$ROOT" && swift build -c release); fi
BIN=$(readlink -f "$BIN")
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    say "installing slurm-wlm and munge"
    DEBIAN_FRONTEND=noninteractive apt-get install -y slurm-wlm munge >/dev/null
fi
START=$(date +%s)

# --- 1. A one-node cluster --------------------------------------------------------------
rm -rf "$WORK"
mkdir -p "$WORK"/{state,spool,log}
HOST=$(hostname -s)
CPUS=$(nproc)
export SLURM_CONF=$WORK/slurm.conf
cat > "$SLURM_CONF" <<EOF
ClusterName=recurrent-local
SlurmctldHost=$HOST
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$WORK/state
SlurmdSpoolDir=$WORK/spool
SlurmctldPidFile=$WORK/slurmctld.pid
SlurmdPidFile=$WORK/slurmd.pid
SlurmctldLogFile=$WORK/log/slurmctld.log
SlurmdLogFile=$WORK/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MaxArraySize=10000
NodeName=$HOST CPUs=$CPUS RealMemory=4000 State=UNKNOWN
PartitionName=local Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF

STARTED_MUNGE=0
cleanup() {
    for pidfile in "$WORK/slurmd.pid" "$WORK/slurmctld.pid"; do
        [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
    done
    if [ "$STARTED_MUNGE" = 1 ] && [ -f /run/munge/munged.pid ]; then kill "$(cat /run/munge/munged.pid)" 2>/dev/null || true; fi
}
trap cleanup EXIT

if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    mkdir -p /run/munge && chown munge:munge /run/munge
    su -s /bin/sh munge -c /usr/sbin/munged
    STARTED_MUNGE=1
    sleep 1
    munge -n | unmunge >/dev/null || fail "munged does not answer"
fi
slurmctld -c -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
for _ in $(seq 60); do
    state=$(sinfo -h -o %T 2>/dev/null | head -1 || true)
    [ "$state" = idle ] && break
    sleep 1
done
[ "$state" = idle ] || fail "the node is not idle after 60 s (sinfo: '$state'; see $WORK/log/)"
say "slurm up: node $HOST, $CPUS CPUs ($(slurmctld -V))"

# --- 2. Plan and submit ---------------------------------------------------------------------
cd "$WORK"
GRID=(compare --task adding --models irnn,lstm,gru --length 20,40 --seeds 2 --hidden 8 --batch 16
      --steps "$STEPS" --eval-every 100 --log-every 10 --checkpoint-every 20)
"$BIN" "${GRID[@]}" --report sweep --slurm --max-parallel 2 --submit | tee "$WORK/submit.txt"
JOB=$(sed -n 's/^submitted job array \([0-9]*\) and its merge job \([0-9]*\).*/\1/p' "$WORK/submit.txt")
MERGE=$(sed -n 's/^submitted job array \([0-9]*\) and its merge job \([0-9]*\).*/\2/p' "$WORK/submit.txt")
[ -n "$JOB" ] && [ -n "$MERGE" ] || fail "compare --submit did not submit the array and its merge job"
RUNS=$(wc -l < sweep/manifest.jsonl)
say "submitted array $JOB ($RUNS tasks, at most 2 at once) and merge job $MERGE"

# --- 3. Cancel one task midway, requeue it ------------------------------------------------
VICTIM=7                                          # lstm, T = 40, seed 2
KEY=$(sed -n "$((VICTIM + 1))p" sweep/manifest.jsonl | sed 's/.*"key":"\([^"]*\)".*/\1/')
LOG=sweep/runs/$KEY/log.jsonl
for _ in $(seq 1200); do
    step=$( { [ -f "$LOG" ] && grep -o '"step":[0-9]*' "$LOG" | tail -1 | cut -d: -f2; } || true)
    [ -n "${step:-}" ] && [ "$step" -ge $((STEPS / 4)) ] && break
    sleep 0.1
done
[ -n "${step:-}" ] || fail "task $VICTIM ($KEY) never started"
scancel "${JOB}_$VICTIM"
for _ in $(seq 120); do
    squeue -h -j "${JOB}_$VICTIM" -t running,completing 2>/dev/null | grep -q . || break
    sleep 0.5
done
saved=$(grep -ao '"step":"[0-9]*"' "sweep/runs/$KEY/checkpoint.safetensors" | head -1 | tr -dc 0-9)
say "cancelled task $VICTIM ($KEY) at step ${step}; its checkpoint is at step ${saved:-none} of $STEPS"
[ -n "$saved" ] && [ "$saved" -lt "$STEPS" ] || fail "the cancelled run was not cut short (checkpoint step '${saved:-none}'): raise SLURM_LOCAL_STEPS"
[ ! -f "sweep/runs/$KEY/result.json" ] || fail "the cancelled run has a result"
[ ! -f "sweep/runs/$KEY/lock" ] || say "note: the cancelled run left its lock (a requeue takes it over)"
scontrol requeue "${JOB}_$VICTIM"
# Slurm holds a requeued job for about two minutes before it is eligible again; start it now.
scontrol update jobid="${JOB}_$VICTIM" StartTime=now 2>/dev/null || true
say "requeued task $VICTIM"
for _ in $(seq 3600); do
    squeue -h -j "$JOB" 2>/dev/null | grep -q . || break
    sleep 1
done
squeue -h -j "$JOB" 2>/dev/null | grep -q . && fail "the array has not finished after an hour"
grep -q "resuming at step" sweep/logs/"${JOB}_$VICTIM".log || fail "the requeued task did not resume (sweep/logs/${JOB}_$VICTIM.log)"
say "array done; task $VICTIM resumed: $(grep -o 'resuming at step [0-9]*' sweep/logs/"${JOB}_$VICTIM".log | tail -1)"

# --- 4. Merge, the same grid locally, compare ---------------------------------------------
for _ in $(seq 120); do
    squeue -h -j "$MERGE" 2>/dev/null | grep -q . || break
    sleep 1
done
[ -f sweep/report.md ] || fail "the merge job wrote no report (sweep/logs/merge-$MERGE.log)"
grep -q "Unfinished runs" sweep/report.md && fail "the merge job's report lists unfinished runs"
say "merge job $MERGE wrote sweep/report.md: $(tail -1 sweep/logs/merge-"$MERGE".log)"
"$BIN" "${GRID[@]}" --report local --threads 1 2>/dev/null
files=0
for f in local/runs/*/*.safetensors; do
    cmp -s "$f" "sweep/${f#local/}" || fail "$f and sweep/${f#local/} differ"
    files=$((files + 1))
done
[ "$files" = $((RUNS * 2)) ] || fail "compared $files checkpoint files, expected $((RUNS * 2))"
say "all $files checkpoint files (model and training state of $RUNS runs) are the same bytes"
# The reports: every number but the timings (seconds, ms / step) and the command line.
numbers() {
    sed -e '/^Command:/d' -e '/^Machine:/d' "$1/report.md" |
        awk -F'|' 'BEGIN { OFS = "|" }
            /^\| model \| parameters/ { t = 1 } /^\| model \| seed/ { t = 2 }
            t == 1 && NF > 8 { $7 = ""; $8 = "" }
            t == 2 && NF > 8 { $5 = "" }
            { print }'
}
diff <(numbers local) <(numbers sweep) > "$WORK/report.diff" || fail "the reports differ (beyond timings): $WORK/report.diff"
# Every number of every run (the curves too) but the timings.
untimed() { sed -E 's/"(seconds|secondsPerStep|targetSeconds)":[^,}]*//g' "$1/runs.jsonl"; }
diff <(untimed local) <(untimed sweep) > "$WORK/runs.diff" || fail "runs.jsonl differ (beyond timings): $WORK/runs.diff"
say "the reports and runs.jsonl agree (every number but the timings); total $(( $(date +%s) - START )) s"
say "PASS"

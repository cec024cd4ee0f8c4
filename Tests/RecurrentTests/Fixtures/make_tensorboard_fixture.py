#!/usr/bin/env python3
"""Regenerate Tests/RecurrentTests/Fixtures/tensorboard_read.json: what TensorBoard's own
reader finds in the event files our Swift writer produced (tensorboard_run/).

The event files are written by the Swift test TensorBoardTrainingLogTests (fixed clocks and
hostname, so the bytes never change); it checks that they are still byte-identical, and that
this JSON holds exactly the events and merged scalar curves we wrote. To regenerate both:

    TENSORBOARD_FIXTURE_OUT=$PWD/Tests/RecurrentTests/Fixtures/tensorboard_run \
        swift test --filter theFixtureIsWhatOurWriterWritesTodayByteForByte
    python3 Tests/RecurrentTests/Fixtures/make_tensorboard_fixture.py

Needs: pip install tensorboard (run with 2.21.0). `swift test` never runs this script.

Two readings are recorded:
- "files": every event of each file as TensorBoard's LegacyEventFileLoader parses it
  (TFRecord framing and CRCs checked by TensorBoard, protobuf decoded by protobuf), in order;
- "scalars": the curves of EventAccumulator over the run folder, after it merged the two
  files (the second is a resumed run; its SessionLog.START drops the first process's
  orphaned points), as [step, wall_time, value].
"""
import json
from pathlib import Path

import tensorboard
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.backend.event_processing.event_file_loader import LegacyEventFileLoader
from tensorboard.compat.proto import event_pb2

HERE = Path(__file__).parent
RUN = HERE / "tensorboard_run"
OUT = HERE / "tensorboard_read.json"


def event_json(event):
    out = {"wall_time": event.wall_time, "step": event.step}
    kind = event.WhichOneof("what")
    if kind == "file_version":
        out["file_version"] = event.file_version
    elif kind == "session_log":
        out["session_log"] = event_pb2.SessionLog.SessionStatus.Name(event.session_log.status)
    elif kind == "summary":
        out["scalars"] = [{"tag": v.tag, "value": v.simple_value} for v in event.summary.value
                          if v.WhichOneof("value") == "simple_value"]
    else:
        out["other"] = kind
    return out


def main():
    files = sorted(p for p in RUN.iterdir() if "tfevents" in p.name)
    reading = {
        "tensorboard_version": tensorboard.__version__,
        "files": [{"name": p.name, "events": [event_json(e) for e in LegacyEventFileLoader(str(p)).Load()]}
                  for p in files],
    }
    accumulator = EventAccumulator(str(RUN), size_guidance={"scalars": 0})   # 0: keep every point
    accumulator.Reload()
    reading["scalars"] = {tag: [[s.step, s.wall_time, s.value] for s in accumulator.Scalars(tag)]
                          for tag in sorted(accumulator.Tags()["scalars"])}
    OUT.write_text(json.dumps(reading, indent=1, sort_keys=True) + "\n")
    print(f"wrote {OUT}: {len(files)} files, {len(reading['scalars'])} tags")


if __name__ == "__main__":
    main()

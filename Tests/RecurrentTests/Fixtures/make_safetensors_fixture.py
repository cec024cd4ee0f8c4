#!/usr/bin/env python3
"""Regenerate Tests/RecurrentTests/Fixtures/python_written.safetensors.

The fixture is written by the reference implementation (Hugging Face
`safetensors`, numpy API) so that the Swift reader is checked against an
independent writer. SafeTensorsTests.swift asserts these exact values, and that
Swift re-serialises the file to identical bytes; change both together.

Usage: python3 Tests/RecurrentTests/Fixtures/make_safetensors_fixture.py   (needs: pip install safetensors numpy)
"""
from pathlib import Path

import numpy as np
from safetensors.numpy import save_file

OUT = Path(__file__).parent / "python_written.safetensors"

tensors = {
    # 0.1 is not exactly representable: checks correct rounding on both sides.
    "rnn.weight_ih_l0": np.array([[0.5, -1.25, 2.0], [0.1, -0.0, 3e-8]], dtype=np.float32),
    "b": np.array([0.1, -2.5, 1e300], dtype=np.float64),
    # 2**53 + 1 is not representable as a double: checks exact integer decoding.
    "idx": np.array([-3, 2**53 + 1], dtype=np.int64),
}

if __name__ == "__main__":
    OUT.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(OUT), metadata={"cell": "rnn"})
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")

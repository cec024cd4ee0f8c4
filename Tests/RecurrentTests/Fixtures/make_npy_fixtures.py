#!/usr/bin/env python3
"""Writes the tiny .npy fixtures read by NumPyTests.swift (run once; the outputs are committed).

    cd Tests/RecurrentTests/Fixtures && python3 make_npy_fixtures.py

Uses only numpy.save / numpy.lib.format.write_array, so the files are exactly what NumPy writes.
"""
import numpy as np
from numpy.lib import format as npformat


def save(name, array):
    np.save(name, array)


save("f4_2x3.npy", (np.arange(6, dtype="<f4").reshape(2, 3) * 0.5 - 1).astype("<f4"))
save("f8_4.npy", np.array([0.1, -2.5, 1e300, 3.0], dtype="<f8"))
save("i8_2x2.npy", np.array([[1, -2], [3, -4]], dtype="<i8"))
save("i4_3.npy", np.array([7, -8, 9], dtype="<i4"))
save("u1_2x2x2.npy", np.arange(8, dtype="|u1").reshape(2, 2, 2))
save("f8_scalar.npy", np.array(3.5, dtype="<f8"))
save("f4_be_2x2.npy", np.array([[1.5, -2.0], [3.25, 4.0]], dtype=">f4"))
save("f4_fortran_2x3.npy", np.asfortranarray(np.arange(6, dtype="<f4").reshape(2, 3)))
for version in [(2, 0), (3, 0)]:
    with open("f4_v%d.npy" % version[0], "wb") as f:
        npformat.write_array(f, np.arange(6, dtype="<f4").reshape(2, 3) * 0.5 - 1, version=version)

# A user data set: 4 sequences of 3 steps with 2 features, and three kinds of targets.
save("seq_inputs.npy", (np.arange(24, dtype="<f4").reshape(4, 3, 2) / 10).astype("<f4"))
save("seq_classes.npy", np.array([2, 0, 1, 2], dtype="<i8"))
save("seq_classes_per_step.npy", np.array([[0, 1, -1], [1, 1, 0], [-1, -1, 2], [2, 0, 1]], dtype="<i8"))
save("seq_values.npy", np.array([[0.5], [1.5], [-1.0], [2.0]], dtype="<f4"))

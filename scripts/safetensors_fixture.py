"""Writes tests/fixtures/python.safetensors and tests/fixtures/python_types.safetensors
with Python's safetensors package.

Run from the repository root (the bytes depend only on the package's layout rules):

    pip install safetensors==0.8.0 numpy
    python3 scripts/safetensors_fixture.py

tests/safetensors_test.ts loads the file and compares its values with the ones below, and
checks that saveSafetensors writes the same tensors to the same bytes. The names cover
Python's order (by dtype, then by name in UTF-8 bytes, which is code point order, not
JavaScript's UTF-16 order: "zｗ" U+FF57 before "z😀" U+1F600); the values cover the
special ones (NaN, ±Infinity, -0, the smallest subnormal, the largest float32). The second
file holds one tensor of each of the library's other types (F16, I32, U32, BOOL) beside an
F32 one, so it checks the order across dtypes too (F32, U32, I32, F16, BOOL).
"""
import numpy as np
from safetensors.numpy import save

tensors = {
    "weight": np.array(
        [[1.5, -2.0, 0.0], [-0.0, 3.4028234663852886e38, 1e-45]], dtype=np.float32
    ),
    "bias": np.array([np.nan, np.inf, -np.inf], dtype=np.float32),
    "step": np.array(7.0, dtype=np.float32),
    "z\U0001F600": np.array([0.25], dtype=np.float32),
    "z\uFF57": np.array([0.1], dtype=np.float32),
    "10": np.array([10.0], dtype=np.float32),
    "9": np.array([9.0], dtype=np.float32),
}
with open("tests/fixtures/python.safetensors", "wb") as f:
    f.write(save(tensors, metadata={"format": "np"}))

types = {
    "a_bool": np.array([True, False, True]),
    "b_f16": np.array([1.5, -0.0, 65504.0, 2.0**-24, np.inf, np.nan], dtype=np.float16),
    "c_i32": np.array([[-(2**31), -1], [0, 2**31 - 1]], dtype=np.int32),
    "d_u32": np.array([0, 2**32 - 1, 7], dtype=np.uint32),
    "e_f32": np.array([0.5], dtype=np.float32),
}
with open("tests/fixtures/python_types.safetensors", "wb") as f:
    f.write(save(types))

"""The OpenCL kernel, run on Debian's POCL CPU driver: bit-exact with the spec's vectors and the
native core, including the whole-label minimum the writer uses for the VRF nonce."""

from __future__ import annotations

import pytest

from appliance.peers.opencl import OpenCLLabels, devices
from appliance.post.labels import compute_batch
from appliance.post.params import commitment

COM = commitment(bytes([1]) * 32, bytes([2]) * 32)


@pytest.fixture(scope="module")
def ocl() -> OpenCLLabels:
    if not devices():
        pytest.fail("no OpenCL device: install pocl-opencl-icd (scripts/apt/peers.txt)")
    return OpenCLLabels()


def test_spec_vectors(ocl: OpenCLLabels) -> None:
    # post.md section 2, verified there against the scrypt-jane C sources post-rs links
    assert ocl.full_labels(COM, 8192, 0, 2).hex() == (
        "34c860b656ada7e741788e9ca64f77e0c1d541e12cbada6c652b2b68679987e9"
        "2ee450904065b50166d91563d1b4f995179a9ea350c6759e0f98a629f2312a1a"
    )
    assert ocl.full_labels(COM, 16, 1, 2).hex() == (
        "b2a36089b7ce430e63733576700d0d981a6eb0e0f2b7b4d655df29b6a1277ffc"
        "9c65051a50a8cc036c7d15512293df1a76c1e4597d86dfc6e895d3d693f04708"
    )


@pytest.mark.parametrize(("n", "start", "count"), [(16, 0, 700), (512, (1 << 64) - 40, 40), (2, 12345, 3)])
def test_batches_match_the_native_core(ocl: OpenCLLabels, n: int, start: int, count: int) -> None:
    gpu, cpu = ocl.compute_batch(COM, n, start, count), compute_batch(COM, n, start, count)
    assert gpu == cpu


def test_small_scratch_splits_launches(ocl: OpenCLLabels) -> None:
    small = OpenCLLabels(max_scratch=16 * 128 * 7)  # 7 labels per launch at N = 16
    assert small.compute_batch(COM, 16, 3, 50) == ocl.compute_batch(COM, 16, 3, 50)
    with pytest.raises(ValueError, match="power of two"):
        ocl.full_labels(COM, 24, 0, 1)

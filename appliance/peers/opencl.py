"""PoST labels on an OpenCL device (a PC's GPU, or POCL's CPU driver in CI) through pyopencl:
the kernel in ``kernels/scrypt_jane.cl``, one label per work item, launched in batches sized to
the device's memory (each label needs N x 128 bytes of scratch while it runs).

``OpenCLLabels.compute_batch`` has the shape of ``appliance.post.labels.compute_batch`` so the
helper uses either engine; its minimum is the smallest whole 32-byte label of the batch (ties:
the earliest index), as the writer expects.
"""

from __future__ import annotations

from importlib import resources

import numpy as np
import pyopencl as cl

from appliance.post.labels import LabelBatch

FULL = 32


class OpenCLUnavailable(RuntimeError):
    """No OpenCL platform or device is usable here; the message says what was found."""


def devices() -> list[str]:
    try:
        return [f"{p.name}: {d.name}" for p in cl.get_platforms() for d in p.get_devices()]
    except cl.Error:
        return []


class OpenCLLabels:
    """A compiled kernel on one device (the first, or the one whose name contains ``device``)."""

    def __init__(self, device: str | None = None, max_scratch: int = 512 << 20) -> None:
        try:
            found = [d for p in cl.get_platforms() for d in p.get_devices()]
        except cl.Error as exc:
            raise OpenCLUnavailable(f"no OpenCL platform: {exc}") from exc
        if device:
            found = [d for d in found if device.lower() in d.name.lower()]
        if not found:
            raise OpenCLUnavailable(f"no OpenCL device{' matching ' + device if device else ''}")
        self.device = found[0]
        self.name = self.device.name
        self.context = cl.Context([self.device])
        self.queue = cl.CommandQueue(self.context)
        source = resources.files("appliance.peers").joinpath("kernels/scrypt_jane.cl").read_text()
        self.program = cl.Program(self.context, source).build()
        self.kernel = cl.Kernel(self.program, "labels")
        limit = min(max_scratch, self.device.max_mem_alloc_size, self.device.global_mem_size // 2)
        self._scratch_limit = int(limit)

    def _batch_size(self, scrypt_n: int) -> int:
        return max(1, min(1 << 16, self._scratch_limit // (scrypt_n * 128)))

    def full_labels(self, commitment: bytes, scrypt_n: int, start: int, count: int) -> bytes:
        """The whole 32-byte labels of [start, start + count)."""
        if len(commitment) != 32 or scrypt_n < 2 or scrypt_n & (scrypt_n - 1):
            raise ValueError("commitment must be 32 bytes and scrypt N a power of two >= 2")
        mf = cl.mem_flags
        com = cl.Buffer(
            self.context, mf.READ_ONLY | mf.COPY_HOST_PTR, hostbuf=np.frombuffer(commitment, np.uint8)
        )
        step = self._batch_size(scrypt_n)
        scratch = cl.Buffer(self.context, mf.READ_WRITE, size=min(step, count) * scrypt_n * 128)
        out = bytearray()
        at = start
        while at < start + count:
            take = min(step, start + count - at)
            result = np.empty(take * FULL, np.uint8)
            dest = cl.Buffer(self.context, mf.WRITE_ONLY, size=result.nbytes)
            self.kernel(self.queue, (take,), None, com, np.uint64(at), np.uint32(scrypt_n), scratch, dest)
            cl.enqueue_copy(self.queue, result, dest)
            out += result.tobytes()
            at += take
        self.queue.finish()
        return bytes(out)

    def compute_batch(
        self, commitment: bytes, scrypt_n: int, start: int, count: int, threads: int = 1
    ) -> LabelBatch:
        """Labels of [start, start + count) and their minimum whole label (``threads`` is unused)."""
        del threads
        full = np.frombuffer(self.full_labels(commitment, scrypt_n, start, count), np.uint8).reshape(
            count, FULL
        )
        labels = full[:, :16].tobytes()
        keys = full.view(">u8").reshape(count, 4)  # big-endian words: lexicographic = numeric order
        order = np.lexsort((np.arange(count), keys[:, 3], keys[:, 2], keys[:, 1], keys[:, 0]))
        best = int(order[0])
        return LabelBatch(start, labels, start + best, full[best].tobytes())

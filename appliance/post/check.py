"""Sampled data check: recompute a fraction of the labels on disk and report exactly which file and
byte offset hold a bad one (post-rs ``verify_pos``), plus the VRF nonce recorded in the metadata."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from appliance.post import native
from appliance.post.layout import LABEL_SIZE, check_files, file_label_range, file_name, read_labels
from appliance.post.metadata import read_metadata
from appliance.post.params import commitment
from appliance.post.verifier import VerifyError, verify_vrf_nonce
from appliance.post.writer import datadir_scrypt_n


@dataclass(frozen=True)
class BadLabel:
    file: str
    offset: int
    index: int
    expected: str
    found: str


@dataclass
class CheckReport:
    checked: int = 0
    files: int = 0
    bad: list[BadLabel] = field(default_factory=list)
    vrf_nonce_ok: bool | None = None
    vrf_error: str | None = None

    @property
    def ok(self) -> bool:
        return not self.bad and self.vrf_nonce_ok is not False


def _sample(count: int, fraction: float, rng: random.Random) -> list[int]:
    """Offsets (label numbers within a file) to check: at least one per non-empty file."""
    want = min(count, max(1, round(count * fraction / 100.0))) if count else 0
    return sorted(rng.sample(range(count), want))


def check_data(
    datadir: Path | str,
    fraction: float = 0.1,
    *,
    from_file: int | None = None,
    to_file: int | None = None,
    scrypt_n: int | None = None,
    threads: int = 1,
    seed: int | None = None,
) -> CheckReport:
    """Recomputes ``fraction`` percent of the labels of files [from_file, to_file] (inclusive)."""
    if not 0 < fraction <= 100:
        raise ValueError(f"fraction must be a percentage in (0, 100], got {fraction}")
    meta = read_metadata(datadir)
    check_files(datadir, meta)
    scrypt_n = scrypt_n or datadir_scrypt_n(datadir)
    first = 0 if from_file is None else from_file
    last = meta.num_files - 1 if to_file is None else to_file
    if not 0 <= first <= last < meta.num_files:
        raise ValueError(f"file range {first}..{last} is outside 0..{meta.num_files - 1}")
    com = commitment(meta.node_id, meta.commitment_atx_id)
    rng = random.Random(seed)
    report = CheckReport()
    jobs: list[tuple[int, int]] = []
    for file_index in range(first, last + 1):
        start, end = file_label_range(meta, file_index)
        jobs += [(file_index, start + offset) for offset in _sample(end - start, fraction, rng)]
        report.files += 1

    def one(job: tuple[int, int]) -> BadLabel | None:
        file_index, index = job
        expected, _ = native.labels(com, scrypt_n, index, 1)
        found = read_labels(datadir, meta, index, 1)
        if found == expected:
            return None
        offset = (index - file_label_range(meta, file_index)[0]) * LABEL_SIZE
        return BadLabel(file_name(file_index), offset, index, expected.hex(), found.hex())

    with ThreadPoolExecutor(max(1, threads), thread_name_prefix="post-check") as pool:
        results = list(pool.map(one, jobs))
    report.checked = len(jobs)
    report.bad = [bad for bad in results if bad is not None]
    if meta.nonce is not None:
        try:
            verify_vrf_nonce(meta.node_id, meta.commitment_atx_id, meta.nonce, meta.total_labels, scrypt_n)
            report.vrf_nonce_ok = True
        except VerifyError as exc:
            report.vrf_nonce_ok = False
            report.vrf_error = str(exc)
    return report

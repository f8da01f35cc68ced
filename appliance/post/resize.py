"""Resizing a dataset this box is still initializing, keeping the labels already written.

A label depends only on the commitment and its index, so changing ``NumUnits`` leaves every label
below the new size valid: growing keeps them all, shrinking keeps the first ``new total``. What
does change is the VRF nonce search, whose threshold is ``PowDifficulty(total labels)`` (spec
post.md §2): post-rs keeps the smallest full label below the running difficulty as the nonce
(spacemeshos/post-rs ``src/initialize.rs``, ``CpuInitializer::initialize_to``, commit a2d155a2),
so the minimum kept in the init state must be the minimum below the *new* threshold over the
labels kept. :func:`plan_resize` works it out first —
reusing the recorded minimum when it is provably still the answer, otherwise re-scanning the kept
labels (their 16-byte prefixes on disk, with the few candidates recomputed in full) — and refuses,
changing nothing, when the kept data cannot be read. :func:`apply_resize` then writes the init
state before the metadata, so a power cut in between leaves a consistent, smaller dataset.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from appliance.post.labels import full_label
from appliance.post.layout import file_label_range, file_name
from appliance.post.metadata import PostMetadata, read_metadata, write_metadata
from appliance.post.params import commitment, vrf_threshold
from appliance.post.writer import STATE_FILE, InitError, InitState, read_init_state
from appliance.system.files import atomic_write_json


class ResizeError(InitError):
    """The dataset cannot be resized keeping its labels; nothing was changed."""


@dataclass(frozen=True)
class ResizePlan:
    meta: PostMetadata  # the metadata after the resize
    state: InitState  # the init state after the resize
    kept: int  # labels kept
    dropped: int  # labels written beyond the new size (shrinking)
    rescanned: bool  # whether the VRF minimum had to be searched again


def _min_below(datadir: Path, meta: PostMetadata, keep: int, threshold: bytes, key: bytes,
               scrypt_n: int) -> tuple[int, bytes] | None:
    """The smallest full label below ``threshold`` among labels [0, keep), read from the files."""
    prefix = np.frombuffer(threshold[:16], dtype=">u8")
    best: tuple[int, bytes] | None = None
    for file_index in range(-(-keep // meta.labels_per_file)):
        first, end = file_label_range(meta, file_index)
        count = min(end, keep) - first
        path = datadir / file_name(file_index)
        try:
            raw = np.fromfile(path, dtype=">u8", count=count * 2)
        except OSError as exc:
            raise ResizeError(f"cannot read {path} to keep its labels: {exc.strerror or exc}") from exc
        if raw.size != count * 2:
            raise ResizeError(f"{path} is shorter than the {count} labels recorded as written")
        pairs = raw.reshape(-1, 2)
        # a full label below the threshold has a 16-byte prefix at or below the threshold's
        hit = (pairs[:, 0] < prefix[0]) | ((pairs[:, 0] == prefix[0]) & (pairs[:, 1] <= prefix[1]))
        for offset in np.flatnonzero(hit):
            index = first + int(offset)
            label = full_label(key, scrypt_n, index)
            if label < threshold and (best is None or label < best[1]):
                best = (index, label)
    return best


def plan_resize(datadir: Path | str, num_units: int) -> ResizePlan:
    """What resizing ``datadir`` to ``num_units`` keeps; raises :class:`ResizeError` (nothing changed)."""
    datadir = Path(datadir)
    meta = read_metadata(datadir)
    state = read_init_state(datadir)
    if state is None:
        raise ResizeError(f"{datadir} has no {STATE_FILE}: the data was not written by this box")
    new_meta = replace(meta, num_units=num_units, nonce=None, nonce_value=None, last_position=None)
    new_meta.validate()
    keep = min(state.position, new_meta.total_labels)
    threshold = vrf_threshold(new_meta.total_labels)
    recorded = state.vrf_label
    shrinking = new_meta.total_labels < meta.total_labels
    rescanned = False
    if recorded is not None and state.vrf_index is not None and state.vrf_index < keep:
        # the minimum over every label written that was below the old threshold is also the
        # minimum over the kept ones; it counts only if it is below the new threshold too
        found: tuple[int, bytes] | None = (state.vrf_index, recorded) if recorded < threshold else None
    elif shrinking and keep:
        # the recorded minimum lies beyond the new end, or none was below the old threshold:
        # labels between the old and the new threshold were never recorded, so look again
        found = _min_below(datadir, meta, keep, threshold, commitment(meta.node_id, meta.commitment_atx_id),
                           state.scrypt_n)
        rescanned = True
    else:
        found = None
    new_state = replace(state, position=keep, vrf_index=found[0] if found else None,
                        vrf_label=found[1] if found else None)
    return ResizePlan(new_meta, new_state, keep, state.position - keep, rescanned)


def apply_resize(datadir: Path | str, plan: ResizePlan) -> None:
    """Writes the plan: the init state first (a power cut then leaves the old size with fewer
    labels, which the writer recovers), the metadata last. The writer truncates and removes what
    lies beyond the new end when it next opens the data."""
    datadir = Path(datadir)
    atomic_write_json(datadir / STATE_FILE, plan.state.to_json())
    vrf = plan.state.vrf_label
    write_metadata(datadir, replace(plan.meta, last_position=plan.state.position, nonce=plan.state.vrf_index,
                                    nonce_value=vrf[:16] if vrf is not None else None))

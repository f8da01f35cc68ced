"""Time for the smesher: layers, epochs, PoET rounds and ATX grading, all from configuration.

Every deadline of the smeshing cycle (node.md §1.2) is derived here, so the state machine asks
questions ("when must the challenge be registered for publish epoch N?") instead of doing
arithmetic. The wall clock comes from a :class:`TimeSource` that also says whether it is *synced*:
single-board computers have no RTC, and acting on a wrong clock means missed or early deadlines.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import math
import time
from dataclasses import dataclass
from typing import Protocol


class ClockError(ValueError):
    pass


@dataclass(frozen=True)
class ClockConfig:
    genesis: float  # unix seconds of layer 0
    layer_duration: float  # seconds
    layers_per_epoch: int
    phase_shift: float  # PoET round start offset within the epoch (seconds)
    cycle_gap: float  # seconds between PoET round end and the next round start
    grace_period: float  # how long before round start the challenge is fixed
    network_delay: float  # ATX grading unit (mainnet 30 min)

    def __post_init__(self) -> None:
        if self.layer_duration <= 0 or self.layers_per_epoch <= 0:
            raise ClockError("layer duration and layers per epoch must be positive")
        if (
            not 0 < self.cycle_gap < self.epoch_duration
            or not 0 <= self.phase_shift < 2 * self.epoch_duration
        ):
            raise ClockError("cycle gap must be within an epoch and phase shift non-negative")
        if self.grace_period < 0 or self.network_delay < 0:
            raise ClockError("grace period and network delay must not be negative")

    @property
    def epoch_duration(self) -> float:
        return self.layer_duration * self.layers_per_epoch


class LayerClock:
    """Pure arithmetic over a :class:`ClockConfig` (no reading of the wall clock)."""

    def __init__(self, config: ClockConfig) -> None:
        self.config = config

    def epoch_start(self, epoch: int) -> float:
        return self.config.genesis + epoch * self.config.epoch_duration

    def layer_start(self, layer: int) -> float:
        return self.config.genesis + layer * self.config.layer_duration

    def layer_at(self, t: float) -> int:
        return max(0, math.floor((t - self.config.genesis) / self.config.layer_duration))

    def epoch_at(self, t: float) -> int:
        return self.layer_at(t) // self.config.layers_per_epoch

    def first_layer(self, epoch: int) -> int:
        return epoch * self.config.layers_per_epoch

    # --- the PoET round of an ATX with PublishEpoch = N (go-spacemesh activation/nipost.go)
    def poet_round_start(self, publish_epoch: int) -> float:
        """Registration deadline: the challenge must be at the PoETs before this."""
        return self.epoch_start(publish_epoch - 1) + self.config.phase_shift

    def challenge_fix_time(self, publish_epoch: int) -> float:
        return self.poet_round_start(publish_epoch) - self.config.grace_period

    def poet_round_end(self, publish_epoch: int) -> float:
        return self.epoch_start(publish_epoch) + self.config.phase_shift - self.config.cycle_gap

    def poet_proof_deadline(self, publish_epoch: int) -> float:
        return self.epoch_start(publish_epoch + 1) - self.config.cycle_gap

    def publish_deadline(self, publish_epoch: int) -> float:
        """Hard deadline: after this the ATX cannot count for target epoch N+1."""
        return self.epoch_start(publish_epoch + 1)

    def good_deadline(self, publish_epoch: int) -> float:
        """An ATX received before this is graded "good" (2 h before the target epoch on mainnet)."""
        return self.epoch_start(publish_epoch + 1) - 4 * self.config.network_delay

    def grade(self, publish_epoch: int, received_at: float) -> str:
        target = self.epoch_start(publish_epoch + 1)
        if received_at < target - 4 * self.config.network_delay:
            return "good"
        if received_at < target - 3 * self.config.network_delay:
            return "acceptable"
        return "evil"

    def first_registrable_epoch(self, now: float) -> int:
        """The smallest publish epoch whose challenge can still be fixed and registered in time."""
        epoch = max(1, self.epoch_at(now))
        while self.challenge_fix_time(epoch) <= now:
            epoch += 1
        return epoch

    # --- PoET server side (poet server/config.go)
    def open_round_id(self, now: float) -> int:
        return (
            math.floor((now - self.config.genesis - self.config.phase_shift) / self.config.epoch_duration) + 1
        )

    def round_start_by_id(self, round_id: int) -> float:
        return self.config.genesis + self.config.phase_shift + round_id * self.config.epoch_duration

    def round_end_by_id(self, round_id: int) -> float:
        return self.round_start_by_id(round_id) + self.config.epoch_duration - self.config.cycle_gap


class TimeSource(Protocol):
    def now(self) -> float: ...

    def synced(self) -> bool: ...


class _Timex(ctypes.Structure):
    _fields_ = [  # struct timex prefix; the pad covers the rest the kernel writes
        ("modes", ctypes.c_uint),
        ("offset", ctypes.c_long),
        ("freq", ctypes.c_long),
        ("maxerror", ctypes.c_long),
        ("esterror", ctypes.c_long),
        ("status", ctypes.c_int),
        ("_pad", ctypes.c_byte * 256),
    ]


STA_UNSYNC = 0x0040
TIME_ERROR = 5


class SystemTime:
    """The host clock; synced when the kernel says so (adjtimex, as ``timedatectl`` reports NTP sync).

    ``assume_synced`` is for development hosts without an NTP daemon (the devnet).
    """

    def __init__(self, assume_synced: bool = False) -> None:
        self.assume_synced = assume_synced

    def now(self) -> float:
        return time.time()

    def synced(self) -> bool:
        if self.assume_synced:
            return True
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
            tx = _Timex()
            state = libc.adjtimex(ctypes.byref(tx))
        except (OSError, AttributeError):
            return False
        return state != TIME_ERROR and not (tx.status & STA_UNSYNC)


class ManualTime:
    """A controllable time source (tests, the devnet's clock-jump fault): real time plus an offset."""

    def __init__(self, offset: float = 0.0, synced: bool = True) -> None:
        self.offset = offset
        self._synced = synced

    def now(self) -> float:
        return time.time() + self.offset

    def synced(self) -> bool:
        return self._synced

    def set_synced(self, value: bool) -> None:
        self._synced = value

    def jump(self, seconds: float) -> None:
        self.offset += seconds

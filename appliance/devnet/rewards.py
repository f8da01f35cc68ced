"""Layer rewards as the network pays them, for the devnet's gateway (what the box shows as "earned").

The rules are go-spacemesh's and spacemeshos/economics', not ours:

* subsidy of a layer — ``rewards.TotalSubsidyAtLayer`` (economics ``rewards/rewards.go`` @
  30c2cdd79ef9db6cc31e3bbbb118a3fbf3d299f3): the accumulated issuance ``TotalSubsidy * (1 -
  exp(-lambda * (n + 1)))`` with ``lambda = ln 2 / half-life`` chosen so that ten years of layers
  issue ``TenYearTarget - TotalVaulted``, computed in decimal128 (34 digits, half-even) and truncated
  to whole smidge; a layer's subsidy is the difference of two accumulations (constants in
  ``constants/constants.go``).
* the block's reward weights — go-spacemesh ``blocks/utils.go`` ``rewardInfoAndHeight`` @
  cc65f271f3e21b519532f2924ab227ccf352c2de: each ATX with a proposal in the layer weighs
  ``atx.weight / eligibility_count * len(eligibility_proofs)``.
* the split — go-spacemesh ``genvm/rewards.go`` ``addRewards`` (same commit): ``total = subsidy +
  fees``; each coinbase gets ``floor(total * weight / sum(weights))`` and ``floor(subsidy * ...)`` as
  its layer reward; the remainder is burnt.
* layers are counted from the first effective genesis, ``2 * layers_per_epoch - 1``
  (``common/types/layer.go`` ``FirstEffectiveGenesis``); earlier layers carry no block, so no reward.

The devnet has no transactions, so fees are 0.
"""

from __future__ import annotations

import decimal
from dataclasses import dataclass
from fractions import Fraction

ONE_SMESH = 1_000_000_000  # smidge
TOTAL_VAULTED = ONE_SMESH * 150_000_000
TEN_YEAR_TARGET = ONE_SMESH * 600_000_000
TOTAL_ISSUANCE = ONE_SMESH * 2_400_000_000
TOTAL_SUBSIDY = TOTAL_ISSUANCE - TOTAL_VAULTED
ONE_YEAR = 105_120  # layers: 365 days of 5-minute layers

# ericlagergren/decimal's Context128: 34 significant digits, round half to even.
_CTX = decimal.Context(prec=34, rounding=decimal.ROUND_HALF_EVEN, Emax=6144, Emin=-6143)


def _constants() -> decimal.Decimal:
    c = _CTX
    one = decimal.Decimal(1)
    log_two = c.ln(decimal.Decimal(2))
    ten_years = decimal.Decimal(10 * ONE_YEAR + 1)  # one extra layer: the effective genesis layer
    issuance_frac = c.subtract(one, c.divide(decimal.Decimal(TEN_YEAR_TARGET - TOTAL_VAULTED),
                                             decimal.Decimal(TOTAL_SUBSIDY)))
    half_life = c.multiply(-ten_years, c.divide(log_two, c.ln(issuance_frac)))
    return -c.divide(log_two, half_life)  # NegLambda


_NEG_LAMBDA = _constants()


def accumulated_subsidy(layers_after_genesis: int) -> int:
    """``TotalAccumulatedSubsidyAtLayer``: smidge issued up to and including this layer."""
    c = _CTX
    count = decimal.Decimal(layers_after_genesis + 1)  # layer 0 already issues
    multiplier = c.subtract(decimal.Decimal(1), c.exp(c.multiply(_NEG_LAMBDA, count)))
    return int(c.multiply(decimal.Decimal(TOTAL_SUBSIDY), multiplier))  # Uint64(): truncates


def subsidy_at_layer(layers_after_genesis: int) -> int:
    """``TotalSubsidyAtLayer``: the smidge issued in this one layer."""
    prev = accumulated_subsidy(layers_after_genesis - 1) if layers_after_genesis > 0 else 0
    return accumulated_subsidy(layers_after_genesis) - prev


def first_effective_genesis(layers_per_epoch: int) -> int:
    return 2 * layers_per_epoch - 1


@dataclass(frozen=True)
class Eligible:
    """One proposal of a layer's block: who made it and with how much weight."""

    smesher_id: bytes
    coinbase: bytes
    atx_weight: int
    eligibility_count: int  # slots of the ATX in the epoch (ballot's epoch data)
    proofs: int  # eligibility proofs in this layer's ballot

    @property
    def weight(self) -> Fraction:
        return Fraction(self.atx_weight, self.eligibility_count) * self.proofs


@dataclass(frozen=True)
class Reward:
    layer: int
    smesher_id: bytes
    coinbase: bytes
    total_reward: int  # smidge, subsidy + share of fees
    layer_reward: int  # smidge, the subsidy part


def layer_rewards(layer: int, layers_per_epoch: int, block: list[Eligible], fees: int = 0) -> list[Reward]:
    """What each proposer of ``layer`` is paid (``addRewards``); empty before the effective genesis."""
    genesis = first_effective_genesis(layers_per_epoch)
    if layer < genesis or not block:
        return []
    subsidy = subsidy_at_layer(layer - genesis)
    total = subsidy + fees
    total_weight = sum((e.weight for e in block), Fraction(0))
    if total_weight == 0:
        return []
    out = []
    for e in sorted(block, key=lambda e: e.smesher_id):
        relative = e.weight / total_weight
        out.append(Reward(layer, e.smesher_id, e.coinbase,
                          total * relative.numerator // relative.denominator,
                          subsidy * relative.numerator // relative.denominator))
    return out


class LayerLedger:
    """The rewards the devnet has paid: a layer's block is final once the layer is over, so each
    ended layer is computed once (from the gateway's accepted proposals and ATXs) and kept."""

    def __init__(self, layers_per_epoch: int) -> None:
        self.layers_per_epoch = layers_per_epoch
        self._paid: dict[int, list[Reward]] = {}

    def settle(self, proposals: dict, atxs: dict, ballots: dict, current_layer: int) -> None:
        """``proposals``: (smesher id, layer) → the gateway's decoded proposal (``.ballot``);
        ``atxs``: ATX id → the gateway's record (``.atx.coinbase``, ``.weight``); ``ballots``:
        ballot id → record (``.eligibility_count`` on reference ballots). Only an epoch's first
        ballot carries the eligibility count; the others take it from the ballot they reference."""
        blocks: dict[int, list[Eligible]] = {}
        for (smesher, layer), proposal in proposals.items():
            if layer >= current_layer or layer in self._paid:
                continue
            ballot = proposal.ballot
            rec = atxs.get(ballot.atx_id)
            if ballot.epoch_data is not None:
                count = ballot.epoch_data[2]
            else:
                ref = ballots.get(ballot.ref_ballot)
                count = ref.eligibility_count if ref is not None else None
            if rec is None or not count:
                continue  # the gateway accepted only proposals with both; nothing to pay otherwise
            blocks.setdefault(layer, []).append(Eligible(
                smesher, rec.atx.coinbase, rec.weight, count, len(ballot.eligibilities)))
        for layer, block in blocks.items():
            self._paid[layer] = layer_rewards(layer, self.layers_per_epoch, block)

    def of(self, smesher_id: bytes) -> list[Reward]:
        return [r for layer in sorted(self._paid) for r in self._paid[layer] if r.smesher_id == smesher_id]

"""The chains the box knows by name: ``mainnet`` and the built-in ``devnet``.

Mainnet's numbers are go-spacemesh's ``config/mainnet.go`` (spacemeshos/go-spacemesh @
cc65f271f3e21b519532f2924ab227ccf352c2de): ``NetworkHRP``, ``Genesis``, ``LayerDuration``,
``LayersPerEpoch``, ``LayerAvgSize``, ``TickSize``, ``ATXGradeDelay``, the ``POET`` and ``POST``
sections and ``Tortoise.MinimalActiveSetWeight``. Scrypt N is the init option every mainnet dataset
is made with (``activation/post.go`` ``DefaultPostSetupOpts`` → post's ``DefaultInitOpts``: N=8192,
r=p=1). This is the one place in ``appliance/`` that writes these numbers.
"""

from __future__ import annotations

from appliance.chain.params import U32_MAX, ChainParams, golden_atx_of

_MAINNET_GENESIS = 1689321600.0  # GenesisTime 2023-07-14T08:00:00Z
_MAINNET_EXTRA = "00000000000000000001a6bc150307b5c1998045752b3c87eccf3c013036f3cc"

MAINNET = ChainParams(
    name="mainnet",
    hrp="sm",
    genesis_time=_MAINNET_GENESIS,
    genesis_extra_data=_MAINNET_EXTRA,
    golden_atx=golden_atx_of(_MAINNET_GENESIS, _MAINNET_EXTRA),
    layer_duration=300.0,  # 5 min
    layers_per_epoch=4032,
    phase_shift=240 * 3600.0,  # POET PhaseShift 240 h
    cycle_gap=12 * 3600.0,  # POET CycleGap 12 h
    grace_period=3600.0,  # POET GracePeriod 1 h
    network_delay=30 * 60.0,  # ATXGradeDelay 30 min
    labels_per_unit=1 << 32,
    scrypt_n=8192,
    k1=26,
    k2=37,
    k3=1,
    pow_difficulty=bytes.fromhex("000dfb23b0979b4b000000000000000000000000000000000000000000000000"),
    min_num_units=4,
    max_num_units=U32_MAX,
    tick_size=9_331_200,
    layer_avg_size=50,
    min_active_set_weight=1_000_000,
    # go-spacemesh v1.8 switched mainnet to ATX v2 from publish epoch 45 (``config/mainnet.go``
    # ``AtxVersions``; the handler picks the decoder by publish epoch, ``activation/handler.go``
    # ``determineVersion``). The v1.7.6 snapshot fetched here (cc65f271) predates that release, so
    # this value comes from the v1.8 release, not from that snapshot.
    atx_v2_from_epoch=45,
)

_DEVNET_EXTRA = "smeshbox-devnet"

#: The built-in devnet (``appliance.devnet``): seconds-long epochs, tiny PoST, an easy k2pow. Its
#: genesis is set when a devnet starts (``Devnet.chain``); 0 here.
DEVNET = ChainParams(
    name="devnet",
    hrp="stest",
    genesis_time=0.0,
    genesis_extra_data=_DEVNET_EXTRA,
    golden_atx=golden_atx_of(0, _DEVNET_EXTRA),
    layer_duration=1.0,
    layers_per_epoch=10,
    phase_shift=6.0,
    cycle_gap=4.0,
    grace_period=1.0,
    network_delay=0.5,
    labels_per_unit=256,
    scrypt_n=2,
    k1=8,
    k2=12,
    k3=1,
    pow_difficulty=b"\xff" * 32,
    min_num_units=1,
    max_num_units=U32_MAX,
    tick_size=1000,
    layer_avg_size=1,
    min_active_set_weight=50,
    # the devnet speaks today's mainnet: ATX v2 from the first publish epoch
    atx_v2_from_epoch=1,
)

PRESETS: dict[str, ChainParams] = {c.name: c for c in (MAINNET, DEVNET)}

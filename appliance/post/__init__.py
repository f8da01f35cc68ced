"""PoST data, proving and verifying — bit-compatible with spacemeshos/post-rs (shared/spec/post.md).

Modules, each with one job:
  native      thin wrappers over the C core (the only importer of ``_native``)
  params      difficulties, AES keys, index packing, the K3 random-values iterator
  metadata    postdata_metadata.json          layout    postdata_<i>.bin geometry and readers
  labels      labels as a pure function        writer    durable, resumable label writer
  initializer threaded init with progress      k2pow     the RandomX context and pow search
  proof       Proof / ProofConfig and JSON     prover    proof generation
  verifier    proof and VRF-nonce checks        check     sampled data check
  bench       measured speeds (and ETAs)       cli       ``python -m appliance post ...``
"""

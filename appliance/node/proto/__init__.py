"""Generated gRPC code of the spacemeshos/api protos the box speaks, vendored unmodified under
``spacemesh/v1/`` with the repository's MIT licence
(spacemeshos/api @ 17a6abbeffb7a5da55bb56d4248cad509f6d76cf): ``post.proto``/``post_types.proto``
(the post-service channel) and ``activation.proto`` (the node's public ``ActivationService.Highest``,
the commitment ATX for new data). Regenerate with ``.venv/bin/python scripts/gen_protos.py``."""

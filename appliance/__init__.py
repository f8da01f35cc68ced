"""Smeshbox: the appliance that earns Spacemesh rewards. Domains are subpackages (post, drives,
node, web, discovery, hw, system, ota, devnet); this package only carries the version."""

__version__ = "0.1.0"

"""spacemeshos/api protos (generated; see appliance.node.proto)."""

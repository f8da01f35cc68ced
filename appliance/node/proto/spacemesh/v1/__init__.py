"""spacemesh.v1 messages and services (generated; see appliance.node.proto)."""

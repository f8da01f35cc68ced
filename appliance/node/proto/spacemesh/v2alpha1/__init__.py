"""spacemesh.v2alpha1 messages and services (generated; see appliance.node.proto)."""

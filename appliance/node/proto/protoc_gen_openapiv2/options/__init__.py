"""protoc-gen-openapiv2/options (generated; see appliance.node.proto)."""

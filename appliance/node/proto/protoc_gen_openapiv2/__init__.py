"""grpc-gateway's protoc-gen-openapiv2 options, which spacemesh/v2alpha1 imports (generated)."""

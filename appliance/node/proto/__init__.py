"""Generated gRPC code for the go-spacemesh post-service channel (``post.proto``; regenerate with
``python -m grpc_tools.protoc -I. --python_out=. --grpc_python_out=. appliance/node/proto/post.proto``)."""

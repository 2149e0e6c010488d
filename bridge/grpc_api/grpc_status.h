// The one place absl::Status becomes grpc::Status on the gRPC edge.
#ifndef REFIR_BRIDGE_GRPC_API_GRPC_STATUS_H_
#define REFIR_BRIDGE_GRPC_API_GRPC_STATUS_H_

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace refir::bridge {

// Same code (absl and gRPC share the canonical codes) and message.
grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_GRPC_API_GRPC_STATUS_H_

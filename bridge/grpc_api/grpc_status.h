// The one place absl::Status becomes grpc::Status on the gRPC edge: every
// status a gRPC call or stream ends with goes through ToGrpcStatus.
#ifndef REFIR_BRIDGE_GRPC_API_GRPC_STATUS_H_
#define REFIR_BRIDGE_GRPC_API_GRPC_STATUS_H_

#include "absl/status/status.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/server_callback.h"
#include "grpcpp/support/status.h"

namespace refir::bridge {

// Same code (absl and gRPC share the canonical codes) and message.
grpc::Status ToGrpcStatus(const absl::Status& status);

// Finishes a unary callback call with `status` (mapped by ToGrpcStatus).
grpc::ServerUnaryReactor* FinishUnary(grpc::CallbackServerContext* context,
                                      const absl::Status& status);

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_GRPC_API_GRPC_STATUS_H_

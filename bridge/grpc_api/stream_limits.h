// Limits shared by the gRPC services: batch sizes and message byte caps.
#ifndef REFIR_BRIDGE_GRPC_API_STREAM_LIMITS_H_
#define REFIR_BRIDGE_GRPC_API_STREAM_LIMITS_H_

#include <cstddef>

namespace refir::bridge {

struct StreamLimits {
  // Events per DeliveryBatch / ListEvents page when the client asks for 0.
  int default_batch = 100;
  // Largest max_batch / page_size a client may ask for.
  int max_batch = 1000;
  // Serialized event bytes per message, kept well under gRPC's default 4 MiB
  // receive limit in clients (a single larger event is still sent alone).
  size_t max_message_bytes = 2 * 1024 * 1024;
  // SubscribeInit defaults (for 0) and ranges.
  int default_ack_deadline_seconds = 30;
  int max_ack_deadline_seconds = 600;
  int default_max_outstanding = 1000;
  int max_max_outstanding = 10000;
  int default_max_delivery_attempts = 5;
  int max_max_delivery_attempts = 100;
  int default_heartbeat_seconds = 15;
  int max_heartbeat_seconds = 300;
};

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_GRPC_API_STREAM_LIMITS_H_

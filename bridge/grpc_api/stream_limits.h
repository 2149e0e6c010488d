// Limits shared by the gRPC services: batch sizes, message byte caps and
// the bounds on what a client may send (see the Limits section of docs/api.md).
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
  // Longest SubscribeInit.client_id.
  size_t max_client_id_bytes = 256;
  // Most ack ids in one Settle (acks plus nacks) or one ExtendDeadline.
  int max_ack_ids_per_message = 10000;
  // Serialized bytes of replies (confirm, settle results) queued on one
  // stream before it stops reading requests until the client reads.
  size_t max_queued_reply_bytes = 1024 * 1024;
  // ListConsumerGroups page size when the client asks for 0, and the most
  // it may ask for; a page also stops before max_group_page_bytes.
  int default_group_page_size = 100;
  int max_group_page_size = 1000;
  size_t max_group_page_bytes = 1024 * 1024;
};

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_GRPC_API_STREAM_LIMITS_H_

#include "bridge/delivery/settle_result.h"

#include <string>

namespace refir::bridge {

void AddUnknownAckId(absl::string_view ack_id, v1::SettleResult* result) {
  if (result->unknown_ack_ids_size() >= kMaxListedAckIds || ack_id.size() > kMaxListedAckIdBytes) {
    result->set_unknown_ack_ids_not_listed(result->unknown_ack_ids_not_listed() + 1);
    return;
  }
  result->add_unknown_ack_ids(std::string(ack_id));
}

void AddExpiredAckId(absl::string_view ack_id, v1::SettleResult* result) {
  if (result->expired_ack_ids_size() >= kMaxListedAckIds || ack_id.size() > kMaxListedAckIdBytes) {
    result->set_expired_ack_ids_not_listed(result->expired_ack_ids_not_listed() + 1);
    return;
  }
  result->add_expired_ack_ids(std::string(ack_id));
}

}  // namespace refir::bridge

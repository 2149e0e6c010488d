// Fuzzes WebhookConverter::Convert with arbitrary bodies and webhook-id
// headers. Beyond "never crashes": a converted event keeps the body
// byte-exact and has an id, and every refusal is INVALID_ARGUMENT.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/time/time.h"
#include "bridge/convert/webhook_converter.h"

namespace {

using refir::bridge::WebhookConverter;
using refir::bridge::WebhookRequest;

const WebhookConverter& Converter() {
  static const WebhookConverter converter;
  return converter;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);
  WebhookRequest request;
  request.source = "refir";
  request.content_type = "application/json";
  request.received_at = absl::FromUnixSeconds(1700000000);
  // A first byte of 'H' makes the rest up to the first newline a webhook-id.
  if (!input.empty() && input[0] == 'H') {
    const size_t newline = input.find('\n');
    const size_t end = newline == std::string::npos ? input.size() : newline;
    request.headers.emplace_back("webhook-id", input.substr(1, end - 1));
    input.erase(0, newline == std::string::npos ? input.size() : newline + 1);
  }
  request.body = input;

  absl::StatusOr<refir::bridge::v1::Event> event = Converter().Convert(request);
  if (!event.ok()) {
    if (event.status().code() != absl::StatusCode::kInvalidArgument) std::abort();
    return 0;
  }
  if (event->body() != request.body || event->id().empty() || event->type().empty()) std::abort();
  // The event must survive the wire.
  std::string wire;
  if (!event->SerializeToString(&wire)) std::abort();
  refir::bridge::v1::Event parsed;
  if (!parsed.ParseFromString(wire) || parsed.body() != request.body) std::abort();
  return 0;
}

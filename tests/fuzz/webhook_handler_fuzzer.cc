// Fuzzes the webhook handler (routing, limits, content type, verification,
// JSON depth, conversion, dedup key) over an in-memory journal. Beyond
// "never crashes": every answer is a known status with a JSON body, a
// refusal carries an "error", and 200 is given exactly when an event was
// appended.
//
// Input layout: byte 0 picks the path, byte 1 the method and content type;
// the rest up to the first '\n' is a webhook-id header (when byte 1 is odd),
// and what follows is the body.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/time/time.h"
#include "bridge/http_edge/webhook_handler.h"
#include "nlohmann/json.hpp"
#include "tests/common/fake_journal.h"

namespace {

using refir::bridge::HttpReply;
using refir::bridge::MappingKind;
using refir::bridge::SourceConfig;
using refir::bridge::WebhookHandler;
using refir::bridge::WebhookRequest;
using refir::bridge::testing::FakeJournal;

std::vector<SourceConfig> Sources() {
  SourceConfig refir;  // the default: /webhook, typed, dedup by webhook-id
  SourceConfig generic;
  generic.name = "generic";
  generic.path = "/generic";
  generic.mapping = MappingKind::kGeneric;
  generic.type_field = "/kind";
  generic.dedup.by = refir::bridge::DedupBy::kJsonField;
  generic.dedup.json_field = "/id";
  generic.limits.max_json_depth = 4;
  generic.limits.max_body_bytes = 512;
  // Keeps what it cannot parse as "generic.unparsed".
  generic.invalid_body = refir::bridge::InvalidBody::kKeep;
  SourceConfig token;
  token.name = "token";
  token.path = "/token";
  token.verification.kind = refir::bridge::VerificationKind::kToken;
  token.verification.secrets = {"fuzz-token-secret"};
  token.verification.token_header = "authorization";
  return {refir, generic, token};
}

const absl::flat_hash_set<int>& KnownStatuses() {
  static const absl::flat_hash_set<int> statuses = {200, 400, 401, 403, 404,
                                                    405, 413, 415, 429, 503};
  return statuses;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  static const char* const kPaths[] = {"/webhook", "/generic", "/token", "/nope", "/webhook/"};
  static const char* const kMethods[] = {"POST", "POST", "POST", "GET", "PUT", "DELETE"};
  static const char* const kContentTypes[] = {"application/json", "application/cloudevents+json",
                                              "text/plain", ""};
  // A fresh handler and journal per input: rate limits and dedup state do
  // not leak between inputs.
  FakeJournal journal;
  auto handler = WebhookHandler::Create(Sources(), &journal);
  if (!handler.ok()) std::abort();

  WebhookRequest request;
  request.path = kPaths[data[0] % 5];
  request.method = kMethods[(data[1] >> 1) % 6];
  request.content_type = kContentTypes[(data[1] >> 4) % 4];
  request.received_at = absl::FromUnixSeconds(1700000000);
  request.client_ip = "127.0.0.1";
  request.remote_addr = "127.0.0.1:40000";
  std::string rest(reinterpret_cast<const char*>(data + 2), size - 2);
  if ((data[1] & 1) != 0) {
    const size_t newline = rest.find('\n');
    const size_t end = newline == std::string::npos ? rest.size() : newline;
    request.headers.emplace_back("webhook-id", rest.substr(0, end));
    rest.erase(0, newline == std::string::npos ? rest.size() : newline + 1);
  }
  if (!request.content_type.empty())
    request.headers.emplace_back("Content-Type", request.content_type);
  request.headers.emplace_back("Authorization", "Bearer fuzz-token-secret");
  request.body = rest;
  request.content_length = request.body.size();

  const HttpReply reply = (*handler)->Handle(request);
  if (!KnownStatuses().contains(reply.status)) std::abort();
  const nlohmann::json body =
      nlohmann::json::parse(reply.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object()) std::abort();
  // The keeping source never refuses a body for its type or content.
  if (request.path == std::string("/generic") &&
      (reply.status == 415 || reply.error == "invalid_json" || reply.error == "json_too_deep")) {
    std::abort();
  }
  if (reply.status == 200) {
    if (journal.appended.size() != 1 || !body.contains("sequence")) std::abort();
    if (journal.appended[0].body() != request.body) std::abort();
  } else {
    if (!journal.appended.empty() || !body.contains("error")) std::abort();
  }
  return 0;
}

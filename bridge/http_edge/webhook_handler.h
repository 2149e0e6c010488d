// WebhookHandler: the pure request -> reply logic of the webhook sources.
// Each configured source has its own path, IP allowlist, rate limits, body
// and JSON-depth limits, verifier and mapping. Knows nothing of sockets or of
// the HTTP library, so it is unit-testable.
//
// Order of the checks. Admit, before the body is read:
//   1. path (404), method (405), IP allowlist (403);
//   2. the client's failed-verification bucket (429 when this client IP has
//      failed verification too often lately; only looked at, not spent);
//   3. the client's per_client_rate bucket (429; spent);
//   4. Content-Length (413) and Content-Type (415; not for a source with
//      invalid_body "keep");
//   5. the source's rate bucket (429; a token is reserved).
// Process, once the body is read:
//   6. body size (413; the reserved token is given back);
//   7. verification (401): on failure the source's token is given back and
//      one token of the client's failed-verification bucket is spent, so
//      forged requests never use up the real sender's budget and a client
//      that keeps failing gets 429 at step 2;
//   8. JSON depth, conversion, dedup key, durable append (the token stays
//      spent: the request was the source's). With invalid_body "keep", a
//      body that is not a JSON object (another Content-Type, too deep, not
//      JSON, another JSON value) is stored byte-exact as
//      "<source>.unparsed" instead of refused; its dedup key is the
//      webhook-id / svix-id for json_field sources.

#ifndef REFIR_BRIDGE_HTTP_EDGE_WEBHOOK_HANDLER_H_
#define REFIR_BRIDGE_HTTP_EDGE_WEBHOOK_HANDLER_H_

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "bridge/convert/webhook_converter.h"
#include "bridge/convert/webhook_request.h"
#include "bridge/http_edge/dedup_key.h"
#include "bridge/http_edge/http_reply.h"
#include "bridge/journal/journal.h"
#include "bridge/sources/ip_allowlist.h"
#include "bridge/sources/rate_limiter.h"
#include "bridge/sources/source_config.h"
#include "bridge/verify/webhook_verifier.h"

namespace refir::bridge {

using VerifierFactory =
    std::function<absl::StatusOr<std::unique_ptr<WebhookVerifier>>(const VerifierConfig&)>;

class WebhookHandler {
 public:
  // Builds one verifier per source with `make_verifier` (tests inject
  // fakes). Fails naming the source when a verifier or allowlist cannot be
  // built, or when there are no sources. `journal` must outlive the handler.
  static absl::StatusOr<std::unique_ptr<WebhookHandler>> Create(
      const std::vector<SourceConfig>& sources, Journal* journal,
      const VerifierFactory& make_verifier = MakeWebhookVerifier);
  ~WebhookHandler();

  // Handles one request whose body has been read: Admit, then Process.
  // 200 only once the event is durable in the journal.
  HttpReply Handle(const WebhookRequest& request);

  // The checks that need no body (path/method, allowlist, rate limits,
  // Content-Length against the source's limit, content type), so the edge
  // can refuse a request before reading its body. A reply means refused;
  // nullopt means go on with Process. Takes rate-limit tokens (Process
  // gives the source's back when verification fails). Stamps the
  // name of the source serving the path on `request`.
  std::optional<HttpReply> Admit(WebhookRequest* request);

  // The rest, for a request Admit let through: body size, verification,
  // JSON depth, conversion, dedup key, append. Stamps the source's name on
  // `request` (which is left intact for the access log).
  HttpReply Process(WebhookRequest* request);

  // For a request Admit let through whose body could not be read (too
  // large, cut off, timed out): gives back the source rate token Admit
  // reserved, as the request was never shown to be the source's.
  void Abandon(const WebhookRequest& request);

  // Body limit of the source at `path`; 0 when no source serves it.
  size_t BodyLimit(const std::string& path) const;
  // The largest body limit of any source (the HTTP library's global cap).
  size_t MaxBodyLimit() const;
  // Every source's path, in configuration order (tests only).
  std::vector<std::string> PathsForTesting() const;
  // Every source's name, in configuration order.
  std::vector<std::string> SourceNames() const;

  // After this, every request is answered 503 + Retry-After (draining).
  void StartDraining() { draining_.store(true); }
  bool draining() const { return draining_.load(); }

 private:
  struct Source;
  explicit WebhookHandler(Journal* journal);
  const Source* Find(const std::string& path) const;

  Journal* const journal_;
  std::vector<std::unique_ptr<Source>> sources_;
  absl::flat_hash_map<std::string, const Source*> by_path_;
  std::atomic<bool> draining_{false};
};

// True for application/json and application/<anything>+json, parameters and
// case ignored.
bool IsJsonContentType(absl::string_view content_type);

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_HTTP_EDGE_WEBHOOK_HANDLER_H_

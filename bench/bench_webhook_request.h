// The WebhookRequest the bridge's webhook path hands to the converter for
// one bench body (bench/ingest_body.json), for the bench tools that convert
// bodies themselves, without HTTP.
#ifndef REFIR_BENCH_BENCH_WEBHOOK_REQUEST_H_
#define REFIR_BENCH_BENCH_WEBHOOK_REQUEST_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/time/clock.h"
#include "bridge/convert/webhook_request.h"

namespace refir::bridge::bench {

// A POST of `body` to /webhook from 127.0.0.1 with `headers`, received now.
inline WebhookRequest BenchWebhookRequest(
    std::string body, std::vector<std::pair<std::string, std::string>> headers) {
  WebhookRequest request;
  request.path = "/webhook";
  request.source = "refir";
  request.body = std::move(body);
  request.content_type = "application/json";
  request.headers = std::move(headers);
  request.client_ip = "127.0.0.1";
  request.remote_addr = "127.0.0.1:40000";
  request.received_at = absl::Now();
  return request;
}

}  // namespace refir::bridge::bench

#endif  // REFIR_BENCH_BENCH_WEBHOOK_REQUEST_H_

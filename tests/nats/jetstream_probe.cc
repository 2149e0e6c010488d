#include "tests/nats/jetstream_probe.h"

#include <nats/nats.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "bridge/journal/jetstream/js_options.h"
#include "bridge/journal/jetstream/nats_handles.h"

namespace refir::bridge::testing {
namespace {

using jetstream::JsContextPtr;
using jetstream::JsStreamInfoPtr;
using jetstream::NatsConnectionPtr;
using jetstream::NatsOptionsPtr;

absl::Status Failed(natsStatus status, const std::string& what) {
  const std::string text = absl::StrCat(what, ": ", natsStatus_GetText(status));
  if (status == NATS_NOT_FOUND) return absl::NotFoundError(text);
  return absl::UnavailableError(text);
}

}  // namespace

absl::StatusOr<StreamProbe> ProbeStream(const std::string& servers, const std::string& stream,
                                        absl::Duration timeout) {
  const std::vector<std::string> urls = absl::StrSplit(servers, ',', absl::SkipWhitespace());
  std::vector<const char*> url_pointers;
  for (const std::string& url : urls) url_pointers.push_back(url.c_str());

  natsOptions* raw_options = nullptr;
  natsStatus status = natsOptions_Create(&raw_options);
  NatsOptionsPtr options(raw_options);
  if (status != NATS_OK) return Failed(status, "natsOptions_Create");
  const int64_t millis = absl::ToInt64Milliseconds(timeout);
  if ((status = natsOptions_SetServers(options.get(), url_pointers.data(),
                                       static_cast<int>(url_pointers.size()))) != NATS_OK ||
      (status = natsOptions_SetTimeout(options.get(), millis)) != NATS_OK ||
      (status = natsOptions_SetAllowReconnect(options.get(), false)) != NATS_OK) {
    return Failed(status, "NATS options");
  }
  natsConnection* raw_connection = nullptr;
  status = natsConnection_Connect(&raw_connection, options.get());
  NatsConnectionPtr connection(raw_connection);
  if (status != NATS_OK) return Failed(status, absl::StrCat("connecting to ", servers));

  jsOptions js_options = jetstream::JsOptionsWithTimeout(timeout);
  jsCtx* raw_js = nullptr;
  status = natsConnection_JetStream(&raw_js, connection.get(), &js_options);
  JsContextPtr js(raw_js);
  if (status != NATS_OK) return Failed(status, "JetStream context");

  jsStreamInfo* raw_info = nullptr;
  jsErrCode js_error = static_cast<jsErrCode>(0);
  status = js_GetStreamInfo(&raw_info, js.get(), stream.c_str(), &js_options, &js_error);
  JsStreamInfoPtr info(raw_info);
  if (js_error == JSStreamNotFoundErr) return absl::NotFoundError("no stream " + stream);
  if (status != NATS_OK) {
    return Failed(status, absl::StrCat("stream info of ", stream, " (error ",
                                       static_cast<int>(js_error), ")"));
  }
  StreamProbe probe;
  if (info->Cluster != nullptr && info->Cluster->Leader != nullptr) {
    probe.leader = info->Cluster->Leader;
  }
  probe.messages = info->State.Msgs;
  probe.last_sequence = info->State.LastSeq;
  return probe;
}

}  // namespace refir::bridge::testing

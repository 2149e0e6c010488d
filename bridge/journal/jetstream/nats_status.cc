#include "bridge/journal/jetstream/nats_status.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace refir::bridge::jetstream {
namespace {

absl::StatusCode CodeFor(natsStatus status, jsErrCode js_error) {
  switch (js_error) {
    case JSNoMessageFoundErr:
    case JSStreamNotFoundErr:
    case JSConsumerNotFoundErr:
      return absl::StatusCode::kNotFound;
    case JSNotEnabledErr:
    case JSNotEnabledForAccountErr:
      return absl::StatusCode::kFailedPrecondition;
    case JSClusterNoPeersErr:
    case JSClusterNotAvailErr:  // "JetStream system temporarily unavailable"
    case JSStreamOfflineErr:
      return absl::StatusCode::kUnavailable;
    default:
      break;
  }
  switch (status) {
    case NATS_TIMEOUT:
    case NATS_NO_RESPONDERS:
    case NATS_NO_SERVER:
    case NATS_CONNECTION_CLOSED:
    case NATS_CONNECTION_DISCONNECTED:
    case NATS_STALE_CONNECTION:
    case NATS_IO_ERROR:
    case NATS_SLOW_CONSUMER:
      return absl::StatusCode::kUnavailable;
    case NATS_NOT_FOUND:
      return absl::StatusCode::kNotFound;
    case NATS_INVALID_ARG:
    case NATS_INVALID_SUBJECT:
      return absl::StatusCode::kInvalidArgument;
    case NATS_NOT_PERMITTED:
    case NATS_CONNECTION_AUTH_FAILED:
      return absl::StatusCode::kPermissionDenied;
    default:
      return absl::StatusCode::kInternal;
  }
}

}  // namespace

jsErrCode JsErrorNamedIn(absl::string_view detail) {
  // nats-server's descriptions (server/errors.json) of the errors that mean
  // "not now" rather than "never".
  if (absl::StrContains(detail, "no suitable peers for placement")) return JSClusterNoPeersErr;
  if (absl::StrContains(detail, "JetStream system temporarily unavailable")) {
    return JSClusterNotAvailErr;
  }
  return static_cast<jsErrCode>(0);
}

absl::Status NatsStatus(natsStatus status, absl::string_view what, jsErrCode js_error) {
  if (status == NATS_OK) return absl::OkStatus();
  std::string message = absl::StrCat(what, ": ", natsStatus_GetText(status));
  const char* detail = nats_GetLastError(nullptr);
  if (detail != nullptr && *detail != '\0' &&
      absl::string_view(detail) != natsStatus_GetText(status)) {
    absl::StrAppend(&message, " (", detail, ")");
    if (js_error == 0) js_error = JsErrorNamedIn(detail);
  }
  if (js_error != 0) absl::StrAppend(&message, ", JetStream error ", static_cast<int>(js_error));
  return absl::Status(CodeFor(status, js_error), message);
}

}  // namespace refir::bridge::jetstream

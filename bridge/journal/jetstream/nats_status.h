// NatsStatus: turns a cnats result (natsStatus, plus the JetStream error code
// when the server sent one) into an absl::Status whose code says what a
// caller can do: UNAVAILABLE when retrying may help (no server, no stream
// leader, timeout), NOT_FOUND, INVALID_ARGUMENT, FAILED_PRECONDITION
// (JetStream not enabled), INTERNAL otherwise.
#ifndef REFIR_BRIDGE_JOURNAL_JETSTREAM_NATS_STATUS_H_
#define REFIR_BRIDGE_JOURNAL_JETSTREAM_NATS_STATUS_H_

#include <nats/nats.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace refir::bridge::jetstream {

// OK for NATS_OK; otherwise a status whose message is "`what`: <cnats text>
// (<last error detail>)[, JetStream error N]".
absl::Status NatsStatus(natsStatus status, absl::string_view what,
                        jsErrCode js_error = static_cast<jsErrCode>(0));

// The JetStream error a server's description names, for the cnats calls
// that keep the code to themselves (js_CreateKeyValue): 0 when `detail` is
// none of the descriptions the status codes depend on.
jsErrCode JsErrorNamedIn(absl::string_view detail);

}  // namespace refir::bridge::jetstream

#endif  // REFIR_BRIDGE_JOURNAL_JETSTREAM_NATS_STATUS_H_

// JsOptionsWithTimeout: the jsOptions of a JetStream call (or context) that
// waits at most `timeout` for the server's answer; cnats's defaults
// otherwise. The one place the journal, its stores and the tests build them.
#ifndef REFIR_BRIDGE_JOURNAL_JETSTREAM_JS_OPTIONS_H_
#define REFIR_BRIDGE_JOURNAL_JETSTREAM_JS_OPTIONS_H_

#include <nats/nats.h>

#include "absl/time/time.h"

namespace refir::bridge::jetstream {

inline jsOptions JsOptionsWithTimeout(absl::Duration timeout) {
  jsOptions options;
  // Fails only for a null pointer.
  (void)jsOptions_Init(&options);
  options.Wait = absl::ToInt64Milliseconds(timeout);
  return options;
}

}  // namespace refir::bridge::jetstream

#endif  // REFIR_BRIDGE_JOURNAL_JETSTREAM_JS_OPTIONS_H_

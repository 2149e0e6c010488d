#include "bridge/journal/jetstream/end_subscription.h"

#include <cstdint>
#include <utility>

#include "bridge/journal/jetstream/js_options.h"

namespace refir::bridge::jetstream {

void EndSubscription(natsConnection* connection, jsCtx* js, const std::string& stream,
                     NatsSubscriptionPtr subscription, const std::string& consumer,
                     absl::Duration timeout) {
  if (subscription == nullptr) return;
  // An auto-unsubscribe at a count already handed out removes the
  // subscription from the connection at once, and never deletes the
  // consumer (cnats 3.4.1 src/sub.c, _unsubscribe). Below that count the
  // server sends at most one more message. Either way the UNSUB is sent;
  // its result is not needed: a closed subscription is ended already.
  (void)natsSubscription_AutoUnsubscribe(subscription.get(), 1);
  if (natsConnection_Status(connection) == NATS_CONN_STATUS_CONNECTED) {
    // One round trip: deleting the consumer, or else a flush. The reader
    // handles its answer after every message sent before it.
    bool answered = false;
    if (!consumer.empty()) {
      jsOptions options = JsOptionsWithTimeout(timeout);
      jsErrCode error = static_cast<jsErrCode>(0);
      const natsStatus deleted =
          js_DeleteConsumer(js, stream.c_str(), consumer.c_str(), &options, &error);
      // Any answer came through the reader; a timeout or a lost
      // connection is no answer.
      answered = deleted == NATS_OK || deleted == NATS_NOT_FOUND || deleted == NATS_NO_RESPONDERS ||
                 error != 0;
    }
    if (!answered) {
      (void)natsConnection_FlushTimeout(connection, absl::ToInt64Milliseconds(timeout));
    }
  }
  subscription.reset();
}

}  // namespace refir::bridge::jetstream

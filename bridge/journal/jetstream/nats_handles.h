// Owning handles for cnats objects: std::unique_ptr with the matching
// *_Destroy function, so every early return releases what was created.
#ifndef REFIR_BRIDGE_JOURNAL_JETSTREAM_NATS_HANDLES_H_
#define REFIR_BRIDGE_JOURNAL_JETSTREAM_NATS_HANDLES_H_

#include <nats/nats.h>

#include <memory>

namespace refir::bridge::jetstream {

struct NatsDestroy {
  void operator()(natsOptions* p) const { natsOptions_Destroy(p); }
  void operator()(natsConnection* p) const { natsConnection_Destroy(p); }
  void operator()(jsCtx* p) const { jsCtx_Destroy(p); }
  void operator()(natsMsg* p) const { natsMsg_Destroy(p); }
  void operator()(natsSubscription* p) const { natsSubscription_Destroy(p); }
  void operator()(jsStreamInfo* p) const { jsStreamInfo_Destroy(p); }
  void operator()(jsMsgMetaData* p) const { jsMsgMetaData_Destroy(p); }
  void operator()(kvStore* p) const { kvStore_Destroy(p); }
  void operator()(kvEntry* p) const { kvEntry_Destroy(p); }
};

using NatsOptionsPtr = std::unique_ptr<natsOptions, NatsDestroy>;
using NatsConnectionPtr = std::unique_ptr<natsConnection, NatsDestroy>;
using JsContextPtr = std::unique_ptr<jsCtx, NatsDestroy>;
using NatsMsgPtr = std::unique_ptr<natsMsg, NatsDestroy>;
// A JetStream subscription that may still receive ends through
// EndSubscription (end_subscription.h), not by dropping its handle.
using NatsSubscriptionPtr = std::unique_ptr<natsSubscription, NatsDestroy>;
using JsStreamInfoPtr = std::unique_ptr<jsStreamInfo, NatsDestroy>;
using JsMsgMetaDataPtr = std::unique_ptr<jsMsgMetaData, NatsDestroy>;
using KvStorePtr = std::unique_ptr<kvStore, NatsDestroy>;
using KvEntryPtr = std::unique_ptr<kvEntry, NatsDestroy>;

}  // namespace refir::bridge::jetstream

#endif  // REFIR_BRIDGE_JOURNAL_JETSTREAM_NATS_HANDLES_H_

// Clients for consumer-group integration tests: a Subscribe stream read by a
// background thread (so tests can wait for deliveries, settle results and
// heartbeats with timeouts), webhook posting with chosen event types, and
// helpers for the group admin RPCs.
#ifndef REFIR_BRIDGE_TESTS_INTEGRATION_GROUP_TEST_CLIENTS_H_
#define REFIR_BRIDGE_TESTS_INTEGRATION_GROUP_TEST_CLIENTS_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "refir/bridge/v1/event_stream.grpc.pb.h"

namespace refir::bridge::testing {

// One delivery as the test received it.
struct ReceivedDelivery {
  v1::Delivery delivery;
  // When the reader thread read the batch carrying it.
  absl::Time received_at;

  uint64_t sequence() const { return delivery.event().sequence(); }
  const std::string& ack_id() const { return delivery.ack_id(); }
  int attempt() const { return delivery.delivery_attempt(); }
};

std::vector<uint64_t> SequencesOf(const std::vector<ReceivedDelivery>& deliveries);
std::vector<std::string> AckIdsOf(const std::vector<ReceivedDelivery>& deliveries);

// A Subscribe stream. A reader thread reads every SubscribeResponse into
// queues; the test thread writes requests and waits on the queues. One writer
// at a time per stream.
class GroupStream {
 public:
  // `lifetime` bounds the whole call (its gRPC deadline).
  explicit GroupStream(v1::EventStream::Stub& stub, absl::Duration lifetime = absl::Seconds(120));
  ~GroupStream();

  GroupStream(const GroupStream&) = delete;
  GroupStream& operator=(const GroupStream&) = delete;

  // Sends `init` as the first message and waits for the first response: the
  // confirm, or the stream's error status when it ended instead.
  absl::StatusOr<v1::SubscribeConfirm> Open(const v1::SubscribeInit& init,
                                            absl::Duration timeout = absl::Seconds(10));
  // Writes one request; false when the stream is closed.
  bool Send(const v1::SubscribeRequest& request);

  bool Ack(const std::vector<std::string>& ack_ids);
  bool Nack(const std::vector<v1::Nack>& nacks);
  bool Flow(int max_outstanding);
  bool Extend(const std::vector<std::string>& ack_ids, int seconds);
  // Ack, then wait for its SettleResult (nullopt on timeout or stream end).
  std::optional<v1::SettleResult> AckAndWait(const std::vector<std::string>& ack_ids,
                                             absl::Duration timeout = absl::Seconds(10));

  // Waits until `count` deliveries are queued (or the stream ended, or
  // `timeout` passed) and takes up to `count` of them, oldest first.
  std::vector<ReceivedDelivery> ReadDeliveries(size_t count, absl::Duration timeout);
  // Waits up to `timeout` for at least one delivery and takes every queued one.
  std::vector<ReceivedDelivery> ReadAvailable(absl::Duration timeout);
  // True when no delivery is queued or arrives within `window` (and the
  // stream did not end). Takes nothing.
  bool NoDeliveryFor(absl::Duration window);
  // Deliveries queued and not taken yet.
  size_t QueuedDeliveries();

  std::optional<v1::SettleResult> WaitForSettleResult(absl::Duration timeout);
  std::optional<v1::Heartbeat> WaitForHeartbeat(absl::Duration timeout);

  // Waits for the server to end the stream and returns its status;
  // DEADLINE_EXCEEDED with "stream did not end" when it is still open.
  grpc::Status WaitForEnd(absl::Duration timeout);
  bool ended();
  // Half-closes, waits for the end (cancelling after `timeout`), returns the status.
  grpc::Status Close(absl::Duration timeout = absl::Seconds(5));
  void Cancel() { context_.TryCancel(); }

  // Responses other than the ones above (a second confirm, an empty oneof).
  int unexpected_responses();

 private:
  void ReadLoop();

  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::SubscribeRequest, v1::SubscribeResponse>> stream_;
  std::thread reader_;

  absl::Mutex write_mu_;
  bool write_closed_ ABSL_GUARDED_BY(write_mu_) = false;

  absl::Mutex mu_;
  std::deque<v1::SubscribeConfirm> confirms_ ABSL_GUARDED_BY(mu_);
  std::deque<ReceivedDelivery> deliveries_ ABSL_GUARDED_BY(mu_);
  std::deque<v1::SettleResult> settle_results_ ABSL_GUARDED_BY(mu_);
  std::deque<v1::Heartbeat> heartbeats_ ABSL_GUARDED_BY(mu_);
  int unexpected_ ABSL_GUARDED_BY(mu_) = 0;
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status status_ ABSL_GUARDED_BY(mu_);
};

// An init joining `group` with `client_id`; every other field unset.
v1::SubscribeInit GroupInit(const std::string& group, const std::string& client_id = "cg-test");

// POSTs one webhook whose "event" is `event_name` (for example
// "referral_created" -> type "refir.referral.created"); returns its sequence,
// 0 (and a test failure) when the bridge did not answer 200.
uint64_t PostEvent(int http_port, const std::string& event_name = "referral_created");
// POSTs `count` webhooks from `threads` threads; returns their sequences, sorted.
std::vector<uint64_t> PostEvents(int http_port, int count,
                                 const std::string& event_name = "referral_created",
                                 int threads = 1);

// GetConsumerGroup with a 10 s deadline.
grpc::Status GetGroup(v1::EventStream::Stub& stub, const std::string& name,
                      v1::ConsumerGroup* group);
// Polls GetConsumerGroup until `done` holds or `timeout` passes; returns the
// last group seen (empty when it was never found).
v1::ConsumerGroup WaitForGroup(v1::EventStream::Stub& stub, const std::string& name,
                               const std::function<bool(const v1::ConsumerGroup&)>& done,
                               absl::Duration timeout = absl::Seconds(10));
std::vector<v1::DeadLetter> ListAllDeadLetters(v1::EventStream::Stub& stub,
                                               const std::string& name);

absl::Time ToAbslTime(const google::protobuf::Timestamp& timestamp);
google::protobuf::Timestamp ToProtoTimestamp(absl::Time time);

}  // namespace refir::bridge::testing

#endif  // REFIR_BRIDGE_TESTS_INTEGRATION_GROUP_TEST_CLIENTS_H_

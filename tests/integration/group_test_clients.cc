#include "tests/integration/group_test_clients.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/integration/test_clients.h"

namespace refir::bridge::testing {

std::vector<uint64_t> SequencesOf(const std::vector<ReceivedDelivery>& deliveries) {
  std::vector<uint64_t> sequences;
  sequences.reserve(deliveries.size());
  for (const ReceivedDelivery& d : deliveries) sequences.push_back(d.sequence());
  return sequences;
}

std::vector<std::string> AckIdsOf(const std::vector<ReceivedDelivery>& deliveries) {
  std::vector<std::string> ids;
  ids.reserve(deliveries.size());
  for (const ReceivedDelivery& d : deliveries) ids.push_back(d.ack_id());
  return ids;
}

GroupStream::GroupStream(v1::EventStream::Stub& stub, absl::Duration lifetime) {
  context_.set_deadline(absl::ToChronoTime(absl::Now() + lifetime));
  stream_ = stub.Subscribe(&context_);
  reader_ = std::thread([this] { ReadLoop(); });
}

GroupStream::~GroupStream() {
  context_.TryCancel();
  reader_.join();
}

void GroupStream::ReadLoop() {
  v1::SubscribeResponse response;
  while (stream_->Read(&response)) {
    const absl::Time now = absl::Now();
    absl::MutexLock lock(&mu_);
    switch (response.kind_case()) {
      case v1::SubscribeResponse::kConfirm:
        confirms_.push_back(response.confirm());
        break;
      case v1::SubscribeResponse::kBatch:
        if (response.batch().deliveries().empty()) ++unexpected_;
        for (v1::Delivery& delivery : *response.mutable_batch()->mutable_deliveries()) {
          deliveries_.push_back(ReceivedDelivery{std::move(delivery), now});
        }
        break;
      case v1::SubscribeResponse::kSettled:
        settle_results_.push_back(response.settled());
        break;
      case v1::SubscribeResponse::kHeartbeat:
        heartbeats_.push_back(response.heartbeat());
        break;
      default:
        ++unexpected_;
        break;
    }
  }
  grpc::Status status;
  {
    absl::MutexLock lock(&write_mu_);
    write_closed_ = true;
    status = stream_->Finish();
  }
  absl::MutexLock lock(&mu_);
  status_ = status;
  ended_ = true;
}

absl::StatusOr<v1::SubscribeConfirm> GroupStream::Open(const v1::SubscribeInit& init,
                                                       absl::Duration timeout) {
  v1::SubscribeRequest request;
  *request.mutable_init() = init;
  Send(request);  // When this fails the stream ended; its status tells why.
  absl::MutexLock lock(&mu_);
  auto answered = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !confirms_.empty() || ended_ || !deliveries_.empty() || !settle_results_.empty() ||
           !heartbeats_.empty();
  };
  if (!mu_.AwaitWithTimeout(absl::Condition(&answered), timeout)) {
    return absl::DeadlineExceededError("no answer to the init");
  }
  if (!confirms_.empty()) {
    v1::SubscribeConfirm confirm = std::move(confirms_.front());
    confirms_.pop_front();
    return confirm;
  }
  if (ended_) {
    return absl::Status(static_cast<absl::StatusCode>(status_.error_code()),
                        absl::StrCat("stream ended before a confirm: ", status_.error_message()));
  }
  return absl::InternalError("the first response was not a confirm");
}

bool GroupStream::Send(const v1::SubscribeRequest& request) {
  absl::MutexLock lock(&write_mu_);
  if (write_closed_) return false;
  return stream_->Write(request);
}

bool GroupStream::Ack(const std::vector<std::string>& ack_ids) {
  v1::SubscribeRequest request;
  for (const std::string& id : ack_ids) request.mutable_settle()->add_ack_ids(id);
  return Send(request);
}

bool GroupStream::Nack(const std::vector<v1::Nack>& nacks) {
  v1::SubscribeRequest request;
  for (const v1::Nack& nack : nacks) *request.mutable_settle()->add_nacks() = nack;
  return Send(request);
}

bool GroupStream::Flow(int max_outstanding) {
  v1::SubscribeRequest request;
  request.mutable_flow()->set_max_outstanding(max_outstanding);
  return Send(request);
}

bool GroupStream::Extend(const std::vector<std::string>& ack_ids, int seconds) {
  v1::SubscribeRequest request;
  for (const std::string& id : ack_ids) request.mutable_extend()->add_ack_ids(id);
  request.mutable_extend()->set_seconds(seconds);
  return Send(request);
}

std::optional<v1::SettleResult> GroupStream::AckAndWait(const std::vector<std::string>& ack_ids,
                                                        absl::Duration timeout) {
  if (!Ack(ack_ids)) return std::nullopt;
  return WaitForSettleResult(timeout);
}

std::vector<ReceivedDelivery> GroupStream::ReadDeliveries(size_t count, absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto ready = [this, count]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return deliveries_.size() >= count || ended_;
  };
  mu_.AwaitWithTimeout(absl::Condition(&ready), timeout);
  std::vector<ReceivedDelivery> taken;
  while (taken.size() < count && !deliveries_.empty()) {
    taken.push_back(std::move(deliveries_.front()));
    deliveries_.pop_front();
  }
  return taken;
}

std::vector<ReceivedDelivery> GroupStream::ReadAvailable(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto ready = [this]()
                   ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !deliveries_.empty() || ended_; };
  mu_.AwaitWithTimeout(absl::Condition(&ready), timeout);
  std::vector<ReceivedDelivery> taken(std::make_move_iterator(deliveries_.begin()),
                                      std::make_move_iterator(deliveries_.end()));
  deliveries_.clear();
  return taken;
}

bool GroupStream::NoDeliveryFor(absl::Duration window) {
  absl::MutexLock lock(&mu_);
  auto arrived = [this]()
                     ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !deliveries_.empty() || ended_; };
  return !mu_.AwaitWithTimeout(absl::Condition(&arrived), window);
}

size_t GroupStream::QueuedDeliveries() {
  absl::MutexLock lock(&mu_);
  return deliveries_.size();
}

std::optional<v1::SettleResult> GroupStream::WaitForSettleResult(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !settle_results_.empty() || ended_;
  };
  mu_.AwaitWithTimeout(absl::Condition(&ready), timeout);
  if (settle_results_.empty()) return std::nullopt;
  v1::SettleResult result = std::move(settle_results_.front());
  settle_results_.pop_front();
  return result;
}

std::optional<v1::Heartbeat> GroupStream::WaitForHeartbeat(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto ready = [this]()
                   ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !heartbeats_.empty() || ended_; };
  mu_.AwaitWithTimeout(absl::Condition(&ready), timeout);
  if (heartbeats_.empty()) return std::nullopt;
  v1::Heartbeat heartbeat = std::move(heartbeats_.front());
  heartbeats_.pop_front();
  return heartbeat;
}

grpc::Status GroupStream::WaitForEnd(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  if (!mu_.AwaitWithTimeout(absl::Condition(&ended_), timeout)) {
    return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "stream did not end");
  }
  return status_;
}

bool GroupStream::ended() {
  absl::MutexLock lock(&mu_);
  return ended_;
}

grpc::Status GroupStream::Close(absl::Duration timeout) {
  {
    absl::MutexLock lock(&write_mu_);
    if (!write_closed_) stream_->WritesDone();
  }
  grpc::Status status = WaitForEnd(timeout);
  if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED &&
      status.error_message() == "stream did not end") {
    context_.TryCancel();
    status = WaitForEnd(absl::Seconds(10));
  }
  return status;
}

int GroupStream::unexpected_responses() {
  absl::MutexLock lock(&mu_);
  return unexpected_;
}

v1::SubscribeInit GroupInit(const std::string& group, const std::string& client_id) {
  v1::SubscribeInit init;
  init.set_consumer_group(group);
  init.set_client_id(client_id);
  return init;
}

uint64_t PostEvent(int http_port, const std::string& event_name) {
  HttpResult result = PostWebhook(
      http_port, absl::StrCat(R"({"event":")", event_name, R"(","message":"cg test"})"));
  if (result.status != 200 || !result.json.is_object() ||
      !result.json["sequence"].is_number_unsigned()) {
    ADD_FAILURE() << "POST answered " << result.status << ": " << result.body;
    return 0;
  }
  return result.json["sequence"].get<uint64_t>();
}

std::vector<uint64_t> PostEvents(int http_port, int count, const std::string& event_name,
                                 int threads) {
  threads = std::max(1, std::min(threads, count));
  absl::Mutex mu;
  std::vector<uint64_t> sequences;
  std::vector<std::thread> posters;
  for (int t = 0; t < threads; ++t) {
    const int share = count / threads + (t < count % threads ? 1 : 0);
    posters.emplace_back([&, share] {
      for (int i = 0; i < share; ++i) {
        const uint64_t sequence = PostEvent(http_port, event_name);
        absl::MutexLock lock(&mu);
        sequences.push_back(sequence);
      }
    });
  }
  for (std::thread& poster : posters) poster.join();
  std::sort(sequences.begin(), sequences.end());
  return sequences;
}

grpc::Status GetGroup(v1::EventStream::Stub& stub, const std::string& name,
                      v1::ConsumerGroup* group) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  v1::GetConsumerGroupRequest request;
  request.set_name(name);
  return stub.GetConsumerGroup(&context, request, group);
}

v1::ConsumerGroup WaitForGroup(v1::EventStream::Stub& stub, const std::string& name,
                               const std::function<bool(const v1::ConsumerGroup&)>& done,
                               absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  v1::ConsumerGroup last;
  while (true) {
    v1::ConsumerGroup group;
    if (GetGroup(stub, name, &group).ok()) {
      last = group;
      if (done(group)) return last;
    }
    if (absl::Now() >= deadline) return last;
    absl::SleepFor(absl::Milliseconds(20));  // Polling another process's state.
  }
}

std::vector<v1::DeadLetter> ListAllDeadLetters(v1::EventStream::Stub& stub,
                                               const std::string& name) {
  std::vector<v1::DeadLetter> letters;
  v1::ListDeadLettersRequest request;
  request.set_name(name);
  for (int page = 0; page < 1000; ++page) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    v1::ListDeadLettersResponse response;
    grpc::Status status = stub.ListDeadLetters(&context, request, &response);
    if (!status.ok()) {
      ADD_FAILURE() << "ListDeadLetters: " << status.error_code() << " " << status.error_message();
      return letters;
    }
    for (const v1::DeadLetter& letter : response.dead_letters()) letters.push_back(letter);
    if (response.next_page_token().empty()) return letters;
    request.set_page_token(response.next_page_token());
  }
  ADD_FAILURE() << "ListDeadLetters never reached the last page";
  return letters;
}

absl::Time ToAbslTime(const google::protobuf::Timestamp& timestamp) {
  return absl::FromUnixSeconds(timestamp.seconds()) + absl::Nanoseconds(timestamp.nanos());
}

google::protobuf::Timestamp ToProtoTimestamp(absl::Time time) {
  google::protobuf::Timestamp timestamp;
  const int64_t nanos = absl::ToUnixNanos(time);
  timestamp.set_seconds(nanos / 1000000000);
  timestamp.set_nanos(static_cast<int32_t>(nanos % 1000000000));
  return timestamp;
}

}  // namespace refir::bridge::testing

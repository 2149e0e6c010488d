#include "bridge/grpc_api/event_stream_service.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "bridge/common/proto_time.h"
#include "bridge/common/status_macros.h"
#include "bridge/delivery/start_position.h"
#include "bridge/delivery/tail_feed.h"
#include "bridge/grpc_api/grpc_status.h"
#include "bridge/grpc_api/subscribe_reactor.h"
#include "bridge/grpc_api/wire_convert.h"

namespace refir::bridge {
namespace {

// A stream that is refused before it starts: finishes at once.
class RejectedStream final : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  explicit RejectedStream(const grpc::Status& status) { Finish(status); }
  void OnDone() override { delete this; }
};

// `value` 0 means `fallback`; otherwise it must lie in [1, max].
absl::StatusOr<int> InRange(const char* field, int value, int fallback, int max) {
  if (value == 0) return fallback;
  if (value < 1 || value > max) {
    return absl::InvalidArgumentError(
        absl::StrCat("init.", field, " must be between 1 and ", max, ", got ", value));
  }
  return value;
}

// A consumer group that `access` may use: any when unrestricted; otherwise
// a well-formed name among the token's groups.
absl::Status CheckGroupAccess(const Access& access, const std::string& name) {
  if (!access.restricted()) return absl::OkStatus();
  // A malformed name is INVALID_ARGUMENT, as it is without tokens.
  REFIR_RETURN_IF_ERROR(ValidateGroupName(name));
  return access.CheckGroup(name);
}

}  // namespace

EventStreamService::EventStreamService(Journal* journal, WakeupHub* hub, ConsumerGroups* groups,
                                       StreamLimits limits, const TokenAuthorizer* authorizer,
                                       GroupForwarder* forwarder)
    : journal_(journal),
      hub_(hub),
      groups_(groups),
      limits_(limits),
      authorizer_(authorizer),
      forwarder_(forwarder) {}

std::shared_ptr<grpc::Channel> EventStreamService::ForwardTarget(
    const grpc::CallbackServerContext& context) const {
  return forwarder_ == nullptr ? nullptr : forwarder_->Target(context);
}

absl::StatusOr<std::unique_ptr<ForwardingSubscribeReactor>> EventStreamService::MakeProxy(
    const v1::SubscribeInit& init, grpc::CallbackServerContext* context, const Access& access,
    grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* downstream) {
  if (init.consumer_group().empty()) return nullptr;
  std::shared_ptr<grpc::Channel> channel = ForwardTarget(*context);
  if (channel == nullptr) return nullptr;
  // Checked here first; the serving replica checks the token again.
  REFIR_RETURN_IF_ERROR(CheckGroupAccess(access, init.consumer_group()));
  if (shutting_down_.load()) return absl::UnavailableError("bridge is shutting down");
  forwarder_->CountForwarded();
  return std::make_unique<ForwardingSubscribeReactor>(downstream, std::move(channel),
                                                      forwarder_->ForwardContext(*context));
}

absl::StatusOr<Access> EventStreamService::Authenticate(
    const grpc::CallbackServerContext& context) const {
  if (authorizer_ == nullptr) return Access::Unrestricted();
  std::vector<absl::string_view> values;
  auto [begin, end] = context.client_metadata().equal_range("authorization");
  for (auto it = begin; it != end; ++it) {
    values.emplace_back(it->second.data(), it->second.size());
  }
  return authorizer_->Authenticate(values);
}

absl::Status EventStreamService::AuthorizeGroup(const grpc::CallbackServerContext& context,
                                                const std::string& name) const {
  REFIR_ASSIGN_OR_RETURN(Access access, Authenticate(context));
  return CheckGroupAccess(access, name);
}

absl::StatusOr<FeedSetup> EventStreamService::MakeFeed(const v1::SubscribeInit& init,
                                                       Wakeable* wakeable, const std::string& peer,
                                                       const Access& access) {
  if (init.client_id().size() > limits_.max_client_id_bytes) {
    return absl::InvalidArgumentError(absl::StrCat("init.client_id is ", init.client_id().size(),
                                                   " bytes; the limit is ",
                                                   limits_.max_client_id_bytes));
  }
  // Reading events needs only a valid token (checked when the stream
  // opened); a consumer group must be one of the token's.
  if (!init.consumer_group().empty()) {
    REFIR_RETURN_IF_ERROR(CheckGroupAccess(access, init.consumer_group()));
  }
  REFIR_ASSIGN_OR_RETURN(int max_batch, InRange("max_batch", init.max_batch(),
                                                limits_.default_batch, limits_.max_batch));
  REFIR_ASSIGN_OR_RETURN(
      int ack_deadline_seconds,
      InRange("ack_deadline_seconds", init.ack_deadline_seconds(),
              limits_.default_ack_deadline_seconds, limits_.max_ack_deadline_seconds));
  REFIR_ASSIGN_OR_RETURN(int max_outstanding,
                         InRange("max_outstanding", init.max_outstanding(),
                                 limits_.default_max_outstanding, limits_.max_max_outstanding));
  REFIR_ASSIGN_OR_RETURN(
      int max_delivery_attempts,
      InRange("max_delivery_attempts", init.max_delivery_attempts(),
              limits_.default_max_delivery_attempts, limits_.max_max_delivery_attempts));
  REFIR_ASSIGN_OR_RETURN(int heartbeat_seconds,
                         InRange("heartbeat_seconds", init.heartbeat_seconds(),
                                 limits_.default_heartbeat_seconds, limits_.max_heartbeat_seconds));
  std::optional<RetryPolicy> retry_policy;
  if (init.has_retry_policy()) {
    REFIR_ASSIGN_OR_RETURN(retry_policy, RetryPolicyFromProto(init.retry_policy()));
  }
  std::optional<absl::Duration> idle_expiry;
  if (init.has_idle_expiry()) {
    REFIR_ASSIGN_OR_RETURN(idle_expiry, IdleExpiryFromProto(init.idle_expiry()));
  }
  if (shutting_down_.load()) return absl::UnavailableError("bridge is shutting down");
  FeedSetup setup;
  setup.heartbeat_interval = absl::Seconds(heartbeat_seconds);
  v1::SubscribeConfirm& confirm = setup.confirm;
  confirm.set_client_id(init.client_id());
  confirm.set_head_sequence(journal_->HeadSequence());
  confirm.set_max_batch(max_batch);
  confirm.set_heartbeat_seconds(heartbeat_seconds);
  if (init.consumer_group().empty()) {
    if (init.filter().types_size() > 0) {
      return absl::InvalidArgumentError("init.filter needs a consumer_group");
    }
    // Ephemeral streams never redeliver.
    if (retry_policy.has_value()) {
      return absl::InvalidArgumentError("init.retry_policy needs a consumer_group");
    }
    if (init.enable_ordering()) {
      return absl::InvalidArgumentError("init.enable_ordering needs a consumer_group");
    }
    if (idle_expiry.has_value()) {
      return absl::InvalidArgumentError("init.idle_expiry needs a consumer_group");
    }
    REFIR_ASSIGN_OR_RETURN(StreamPosition position, StreamPositionFromProto(init.start()));
    REFIR_ASSIGN_OR_RETURN(uint64_t start, ResolveStartSequence(*journal_, position));
    setup.feed = std::make_unique<TailFeed>(journal_, start, static_cast<size_t>(max_batch),
                                            limits_.max_message_bytes);
    confirm.set_start_sequence(start);
    return setup;
  }
  JoinRequest join;
  join.group = init.consumer_group();
  join.filter_types.assign(init.filter().types().begin(), init.filter().types().end());
  join.start = StreamPositionFromProto(init.start());
  join.max_delivery_attempts = max_delivery_attempts;
  join.retry_policy = retry_policy;
  join.enable_ordering = init.enable_ordering();
  join.idle_expiry = idle_expiry;
  MemberSettings settings;
  settings.client_id = init.client_id();
  settings.peer = peer;
  settings.max_outstanding = max_outstanding;
  settings.max_batch = max_batch;
  settings.max_batch_bytes = limits_.max_message_bytes;
  settings.ack_deadline = absl::Seconds(ack_deadline_seconds);
  settings.connected_at = absl::Now();
  settings.wakeable = wakeable;
  REFIR_ASSIGN_OR_RETURN(JoinedGroup joined, groups_->Join(join, std::move(settings), absl::Now()));
  setup.feed = std::move(joined.feed);
  confirm.set_start_sequence(joined.start_sequence);
  confirm.set_consumer_group(init.consumer_group());
  confirm.set_group_created(joined.created);
  confirm.set_ack_deadline_seconds(ack_deadline_seconds);
  confirm.set_max_outstanding(max_outstanding);
  confirm.set_max_delivery_attempts(joined.max_delivery_attempts);
  for (const std::string& type : joined.filter_types) confirm.mutable_filter()->add_types(type);
  if (joined.retry_policy.has_value()) {
    RetryPolicyToProto(*joined.retry_policy, confirm.mutable_retry_policy());
  }
  confirm.set_enable_ordering(joined.enable_ordering);
  *confirm.mutable_idle_expiry() = ToProtoDuration(joined.idle_expiry);
  return setup;
}

void EventStreamService::BeginShutdown() {
  shutting_down_.store(true);
  absl::MutexLock lock(&mu_);
  for (SubscribeReactor* stream : streams_) {
    stream->Abort(ToGrpcStatus(absl::UnavailableError("bridge is shutting down")));
  }
}

bool EventStreamService::WaitForNoStreams(absl::Time deadline) const {
  absl::MutexLock lock(&mu_);
  auto none_left = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return streams_.empty(); };
  return mu_.AwaitWithDeadline(absl::Condition(&none_left), deadline);
}

size_t EventStreamService::open_streams() const {
  absl::MutexLock lock(&mu_);
  return streams_.size();
}

grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* EventStreamService::Subscribe(
    grpc::CallbackServerContext* context) {
  absl::StatusOr<Access> access = Authenticate(*context);
  if (!access.ok()) return new RejectedStream(ToGrpcStatus(access.status()));
  absl::MutexLock lock(&mu_);
  if (shutting_down_.load()) {
    return new RejectedStream(ToGrpcStatus(absl::UnavailableError("bridge is shutting down")));
  }
  auto* stream = new SubscribeReactor(
      journal_, hub_,
      [this, access = *access](const v1::SubscribeInit& init, Wakeable* wakeable,
                               const std::string& peer) {
        return MakeFeed(init, wakeable, peer, access);
      },
      context->peer(), limits_,
      [this](SubscribeReactor* done) {
        absl::MutexLock done_lock(&mu_);
        streams_.erase(done);
      },
      forwarder_ == nullptr
          ? ProxyFactory()
          : [this, context, access = *access](
                const v1::SubscribeInit& init,
                grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>*
                    downstream) { return MakeProxy(init, context, access, downstream); });
  streams_.insert(stream);
  return stream;
}

grpc::ServerUnaryReactor* EventStreamService::ListEvents(grpc::CallbackServerContext* context,
                                                         const v1::ListEventsRequest* request,
                                                         v1::ListEventsResponse* response) {
  // Any valid token may read events (see docs/operations.md).
  if (absl::Status auth = Authenticate(*context).status(); !auth.ok()) {
    return FinishUnary(context, auth);
  }
  return FinishUnary(context, DoListEvents(*request, response));
}

grpc::ServerUnaryReactor* EventStreamService::GetEvent(grpc::CallbackServerContext* context,
                                                       const v1::GetEventRequest* request,
                                                       v1::Event* response) {
  if (absl::Status auth = Authenticate(*context).status(); !auth.ok()) {
    return FinishUnary(context, auth);
  }
  return FinishUnary(context, DoGetEvent(*request, response));
}

absl::Status EventStreamService::DoListEvents(const v1::ListEventsRequest& request,
                                              v1::ListEventsResponse* response) {
  const int page_size = request.page_size() == 0 ? limits_.default_batch : request.page_size();
  if (page_size < 1 || page_size > limits_.max_batch) {
    return absl::InvalidArgumentError(absl::StrCat(
        "page_size must be between 1 and ", limits_.max_batch, ", got ", request.page_size()));
  }
  uint64_t from = std::max<uint64_t>(request.start_sequence(), 1);
  if (!request.page_token().empty()) {
    if (!absl::SimpleAtoi(request.page_token(), &from) || from == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("page_token is not one this server issued: \"", request.page_token(), "\""));
    }
  }
  const uint64_t head = journal_->HeadSequence();
  std::vector<v1::Event> events;
  if (from <= head) {
    REFIR_ASSIGN_OR_RETURN(
        events, journal_->Read(from, static_cast<size_t>(page_size), limits_.max_message_bytes));
  }
  uint64_t next = from;
  response->mutable_events()->Reserve(static_cast<int>(events.size()));
  for (v1::Event& event : events) {
    next = event.sequence() + 1;
    *response->add_events() = std::move(event);
  }
  response->set_next_page_token(absl::StrCat(next));
  response->set_head_sequence(std::max(head, journal_->HeadSequence()));
  return absl::OkStatus();
}

absl::Status EventStreamService::DoGetEvent(const v1::GetEventRequest& request,
                                            v1::Event* response) {
  switch (request.key_case()) {
    case v1::GetEventRequest::kId: {
      if (request.id().empty()) return absl::InvalidArgumentError("id must not be empty");
      REFIR_ASSIGN_OR_RETURN(*response, journal_->GetById(request.id()));
      return absl::OkStatus();
    }
    case v1::GetEventRequest::kSequence: {
      if (request.sequence() == 0) return absl::InvalidArgumentError("sequence must be >= 1");
      REFIR_ASSIGN_OR_RETURN(*response, journal_->GetBySequence(request.sequence()));
      return absl::OkStatus();
    }
    case v1::GetEventRequest::KEY_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError("set id or sequence");
}

}  // namespace refir::bridge

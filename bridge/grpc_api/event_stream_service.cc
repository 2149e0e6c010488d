#include "bridge/grpc_api/event_stream_service.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "bridge/common/status_macros.h"
#include "bridge/grpc_api/grpc_status.h"
#include "bridge/grpc_api/subscribe_reactor.h"

namespace refir::bridge {
namespace {

// A stream that is refused before it starts: finishes at once.
class RejectedStream final
    : public grpc::ServerBidiReactor<v1::SubscribeRequest, v1::SubscribeResponse> {
 public:
  explicit RejectedStream(const grpc::Status& status) { Finish(status); }
  void OnDone() override { delete this; }
};

}  // namespace

EventStreamService::EventStreamService(Journal* journal, WakeupHub* hub, StreamLimits limits)
    : journal_(journal), hub_(hub), limits_(limits) {}

void EventStreamService::BeginShutdown() {
  absl::MutexLock lock(&mu_);
  shutting_down_ = true;
  for (SubscribeReactor* stream : streams_) {
    stream->Abort(grpc::Status(grpc::StatusCode::UNAVAILABLE, "bridge is shutting down"));
  }
}

size_t EventStreamService::open_streams() const {
  absl::MutexLock lock(&mu_);
  return streams_.size();
}

grpc::ServerBidiReactor<v1::SubscribeRequest, v1::SubscribeResponse>*
EventStreamService::Subscribe(grpc::CallbackServerContext* context) {
  absl::MutexLock lock(&mu_);
  if (shutting_down_) {
    return new RejectedStream(
        grpc::Status(grpc::StatusCode::UNAVAILABLE, "bridge is shutting down"));
  }
  auto* stream = new SubscribeReactor(journal_, hub_, limits_, context->peer(),
                                      [this](SubscribeReactor* done) {
                                        absl::MutexLock done_lock(&mu_);
                                        streams_.erase(done);
                                      });
  streams_.insert(stream);
  return stream;
}

grpc::ServerUnaryReactor* EventStreamService::ListEvents(grpc::CallbackServerContext* context,
                                                         const v1::ListEventsRequest* request,
                                                         v1::ListEventsResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(DoListEvents(*request, response)));
  return reactor;
}

grpc::ServerUnaryReactor* EventStreamService::GetEvent(grpc::CallbackServerContext* context,
                                                       const v1::GetEventRequest* request,
                                                       v1::Event* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(DoGetEvent(*request, response)));
  return reactor;
}

absl::Status EventStreamService::DoListEvents(const v1::ListEventsRequest& request,
                                              v1::ListEventsResponse* response) {
  const int page_size = request.page_size() == 0 ? limits_.default_batch : request.page_size();
  if (page_size < 1 || page_size > limits_.max_batch) {
    return absl::InvalidArgumentError(absl::StrCat("page_size must be between 1 and ",
                                                   limits_.max_batch, ", got ",
                                                   request.page_size()));
  }
  uint64_t from = std::max<uint64_t>(request.start_sequence(), 1);
  if (!request.page_token().empty()) {
    if (!absl::SimpleAtoi(request.page_token(), &from) || from == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("page_token is not one this server issued: \"", request.page_token(),
                       "\""));
    }
  }
  const uint64_t head = journal_->HeadSequence();
  std::vector<v1::Event> events;
  if (from <= head) {
    REFIR_ASSIGN_OR_RETURN(events, journal_->Read(from, static_cast<size_t>(page_size),
                                                  limits_.max_message_bytes));
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

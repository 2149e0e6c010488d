// The consumer-group admin RPCs of EventStreamService: request validation,
// page sizes and page tokens, and the mapping of domain results (from
// ConsumerGroups) to response messages. On a standby, each is forwarded to
// the replica serving the groups once the caller's token passed here.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "bridge/common/status_macros.h"
#include "bridge/grpc_api/event_stream_service.h"
#include "bridge/grpc_api/grpc_status.h"
#include "bridge/grpc_api/wire_convert.h"

namespace refir::bridge {
namespace {

// ListDeadLetters page size when the client asks for 0, and the most.
constexpr int kDefaultDeadLetterPageSize = 100;
constexpr int kMaxDeadLetterPageSize = 1000;

// A dead-letter page token is the last sequence of the previous page.
absl::StatusOr<uint64_t> ParseDeadLetterPageToken(const std::string& token) {
  uint64_t after = 0;
  if (!token.empty() && !absl::SimpleAtoi(token, &after)) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_token is not one this server issued: \"", token, "\""));
  }
  return after;
}

}  // namespace

absl::Status EventStreamService::DoListConsumerGroups(const Access& access,
                                                      const v1::ListConsumerGroupsRequest& request,
                                                      v1::ListConsumerGroupsResponse* response) {
  const int page_size =
      request.page_size() == 0 ? limits_.default_group_page_size : request.page_size();
  if (page_size < 1 || page_size > limits_.max_group_page_size) {
    return absl::InvalidArgumentError(absl::StrCat("page_size must be between 1 and ",
                                                   limits_.max_group_page_size, ", got ",
                                                   request.page_size()));
  }
  // A group page token is the last name of the previous page.
  const std::string& after = request.page_token();
  if (!after.empty() && !ValidateGroupName(after).ok()) {
    return absl::InvalidArgumentError("page_token is not one this server issued");
  }
  // Only the groups the caller's token may use.
  REFIR_ASSIGN_OR_RETURN(
      GroupPage page,
      groups_->ListGroups(after, static_cast<size_t>(page_size), limits_.max_group_page_bytes,
                          [&access](const std::string& name) { return access.AllowsGroup(name); }));
  if (page.more && !page.groups.empty()) {
    response->set_next_page_token(page.groups.back().name());
  }
  response->mutable_groups()->Reserve(static_cast<int>(page.groups.size()));
  for (v1::ConsumerGroup& group : page.groups) *response->add_groups() = std::move(group);
  return absl::OkStatus();
}

absl::Status EventStreamService::DoListDeadLetters(const v1::ListDeadLettersRequest& request,
                                                   v1::ListDeadLettersResponse* response) {
  const int page_size = request.page_size() == 0 ? kDefaultDeadLetterPageSize : request.page_size();
  if (page_size < 1 || page_size > kMaxDeadLetterPageSize) {
    return absl::InvalidArgumentError(absl::StrCat(
        "page_size must be between 1 and ", kMaxDeadLetterPageSize, ", got ", request.page_size()));
  }
  REFIR_ASSIGN_OR_RETURN(uint64_t after, ParseDeadLetterPageToken(request.page_token()));
  // One more than the page, to know whether another page follows.
  REFIR_ASSIGN_OR_RETURN(
      std::vector<DeadLetter> letters,
      groups_->ListDeadLetters(request.name(), after, static_cast<size_t>(page_size) + 1));
  const bool more = letters.size() > static_cast<size_t>(page_size);
  if (more) letters.resize(static_cast<size_t>(page_size));
  for (DeadLetter& letter : letters) {
    DeadLetterToProto(std::move(letter), response->add_dead_letters());
  }
  if (more) {
    response->set_next_page_token(absl::StrCat(response->dead_letters().rbegin()->sequence()));
  }
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* EventStreamService::GetConsumerGroup(
    grpc::CallbackServerContext* context, const v1::GetConsumerGroupRequest* request,
    v1::ConsumerGroup* response) {
  if (absl::Status auth = AuthorizeGroup(*context, request->name()); !auth.ok()) {
    return FinishUnary(context, auth);
  }
  if (std::shared_ptr<grpc::Channel> peer = ForwardTarget(*context)) {
    return forwarder_->Forward(context, std::move(peer),
                               &v1::EventStream::Stub::async::GetConsumerGroup, request, response);
  }
  absl::StatusOr<v1::ConsumerGroup> group = groups_->Describe(request->name());
  if (group.ok()) *response = *std::move(group);
  return FinishUnary(context, group.status());
}

grpc::ServerUnaryReactor* EventStreamService::ListConsumerGroups(
    grpc::CallbackServerContext* context, const v1::ListConsumerGroupsRequest* request,
    v1::ListConsumerGroupsResponse* response) {
  absl::StatusOr<Access> access = Authenticate(*context);
  if (!access.ok()) return FinishUnary(context, access.status());
  if (std::shared_ptr<grpc::Channel> peer = ForwardTarget(*context)) {
    return forwarder_->Forward(context, std::move(peer),
                               &v1::EventStream::Stub::async::ListConsumerGroups, request,
                               response);
  }
  return FinishUnary(context, DoListConsumerGroups(*access, *request, response));
}

grpc::ServerUnaryReactor* EventStreamService::SeekConsumerGroup(
    grpc::CallbackServerContext* context, const v1::SeekConsumerGroupRequest* request,
    v1::SeekConsumerGroupResponse* response) {
  if (absl::Status auth = AuthorizeGroup(*context, request->name()); !auth.ok()) {
    return FinishUnary(context, auth);
  }
  if (std::shared_ptr<grpc::Channel> peer = ForwardTarget(*context)) {
    return forwarder_->Forward(context, std::move(peer),
                               &v1::EventStream::Stub::async::SeekConsumerGroup, request, response);
  }
  absl::StatusOr<StreamPosition> target = SeekTargetFromProto(*request);
  if (!target.ok()) return FinishUnary(context, target.status());
  absl::StatusOr<uint64_t> cursor = groups_->Seek(request->name(), *target);
  if (cursor.ok()) response->set_cursor_sequence(*cursor);
  return FinishUnary(context, cursor.status());
}

grpc::ServerUnaryReactor* EventStreamService::ListDeadLetters(
    grpc::CallbackServerContext* context, const v1::ListDeadLettersRequest* request,
    v1::ListDeadLettersResponse* response) {
  if (absl::Status auth = AuthorizeGroup(*context, request->name()); !auth.ok()) {
    return FinishUnary(context, auth);
  }
  if (std::shared_ptr<grpc::Channel> peer = ForwardTarget(*context)) {
    return forwarder_->Forward(context, std::move(peer),
                               &v1::EventStream::Stub::async::ListDeadLetters, request, response);
  }
  return FinishUnary(context, DoListDeadLetters(*request, response));
}

grpc::ServerUnaryReactor* EventStreamService::RequeueDeadLetters(
    grpc::CallbackServerContext* context, const v1::RequeueDeadLettersRequest* request,
    v1::RequeueDeadLettersResponse* response) {
  if (absl::Status auth = AuthorizeGroup(*context, request->name()); !auth.ok()) {
    return FinishUnary(context, auth);
  }
  if (std::shared_ptr<grpc::Channel> peer = ForwardTarget(*context)) {
    return forwarder_->Forward(context, std::move(peer),
                               &v1::EventStream::Stub::async::RequeueDeadLetters, request,
                               response);
  }
  if (request->all() && !request->sequences().empty()) {
    return FinishUnary(context,
                       absl::InvalidArgumentError("set either sequences or all, not both"));
  }
  std::optional<std::vector<uint64_t>> sequences;
  if (!request->all()) sequences.emplace(request->sequences().begin(), request->sequences().end());
  absl::StatusOr<size_t> requeued = groups_->Requeue(request->name(), sequences);
  if (requeued.ok()) response->set_requeued(static_cast<int>(*requeued));
  return FinishUnary(context, requeued.status());
}

grpc::ServerUnaryReactor* EventStreamService::DeleteConsumerGroup(
    grpc::CallbackServerContext* context, const v1::DeleteConsumerGroupRequest* request,
    google::protobuf::Empty* response) {
  if (absl::Status auth = AuthorizeGroup(*context, request->name()); !auth.ok()) {
    return FinishUnary(context, auth);
  }
  if (std::shared_ptr<grpc::Channel> peer = ForwardTarget(*context)) {
    return forwarder_->Forward(context, std::move(peer),
                               &v1::EventStream::Stub::async::DeleteConsumerGroup, request,
                               response);
  }
  return FinishUnary(context, groups_->Delete(request->name()));
}

}  // namespace refir::bridge

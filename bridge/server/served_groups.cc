#include "bridge/server/served_groups.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bridge/common/status_macros.h"

namespace refir::bridge {

void ServedGroups::Serve(std::unique_ptr<GroupRegistry> registry) {
  absl::MutexLock lock(&mu_);
  if (registry_ == nullptr) registry_ = std::move(registry);
}

GroupRegistry* ServedGroups::registry() const {
  absl::MutexLock lock(&mu_);
  return registry_.get();
}

absl::StatusOr<GroupRegistry*> ServedGroups::Serving() const {
  GroupRegistry* serving = registry();
  if (serving != nullptr) return serving;
  const std::string server = describe_server_ ? describe_server_() : std::string();
  return absl::UnavailableError(
      absl::StrCat("this bridge replica is a standby for consumer groups: ",
                   server.empty() ? "no replica serves them right now (one will take over shortly)"
                                  : absl::StrCat("they are served by ", server),
                   "; ephemeral streams and webhooks work on every replica"));
}

absl::Status ServedGroups::ServingStatus() const { return Serving().status(); }

absl::StatusOr<JoinedGroup> ServedGroups::Join(const JoinRequest& request, MemberSettings settings,
                                               absl::Time now) {
  REFIR_ASSIGN_OR_RETURN(GroupRegistry * serving, Serving());
  return serving->Join(request, std::move(settings), now);
}

absl::StatusOr<v1::ConsumerGroup> ServedGroups::Describe(const std::string& name) {
  REFIR_ASSIGN_OR_RETURN(GroupRegistry * serving, Serving());
  return serving->Describe(name);
}

absl::StatusOr<GroupPage> ServedGroups::ListGroups(
    const std::string& after, size_t max_groups, size_t max_bytes,
    const std::function<bool(const std::string&)>& include) {
  REFIR_ASSIGN_OR_RETURN(GroupRegistry * serving, Serving());
  return serving->ListGroups(after, max_groups, max_bytes, include);
}

absl::StatusOr<uint64_t> ServedGroups::Seek(const std::string& name,
                                            const StreamPosition& position) {
  REFIR_ASSIGN_OR_RETURN(GroupRegistry * serving, Serving());
  return serving->Seek(name, position);
}

absl::StatusOr<std::vector<DeadLetter>> ServedGroups::ListDeadLetters(const std::string& name,
                                                                      uint64_t after_sequence,
                                                                      size_t limit) {
  REFIR_ASSIGN_OR_RETURN(GroupRegistry * serving, Serving());
  return serving->ListDeadLetters(name, after_sequence, limit);
}

absl::StatusOr<size_t> ServedGroups::Requeue(
    const std::string& name, const std::optional<std::vector<uint64_t>>& sequences) {
  REFIR_ASSIGN_OR_RETURN(GroupRegistry * serving, Serving());
  return serving->Requeue(name, sequences);
}

absl::Status ServedGroups::Delete(const std::string& name) {
  REFIR_ASSIGN_OR_RETURN(GroupRegistry * serving, Serving());
  return serving->Delete(name);
}

absl::StatusOr<std::vector<v1::ConsumerGroup>> ServedGroups::List() {
  GroupRegistry* serving = registry();
  if (serving == nullptr) return std::vector<v1::ConsumerGroup>();
  return serving->List();
}

void ServedGroups::Shutdown() {
  GroupRegistry* serving = registry();
  if (serving != nullptr) serving->Shutdown();
}

}  // namespace refir::bridge

#include "bridge/server/metrics_sources.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bridge/common/proto_time.h"
#include "bridge/common/status_macros.h"

namespace refir::bridge {
namespace {

absl::StatusOr<uint64_t> FileSize(const std::string& path, bool may_be_absent) {
  struct stat info;
  if (stat(path.c_str(), &info) != 0) {
    if (may_be_absent && errno == ENOENT) return 0;
    return absl::NotFoundError(absl::StrCat("cannot stat ", path, ": ", std::strerror(errno)));
  }
  return static_cast<uint64_t>(info.st_size);
}

}  // namespace

absl::StatusOr<uint64_t> SqliteFilesSize(const std::string& path) {
  REFIR_ASSIGN_OR_RETURN(uint64_t database, FileSize(path, false));
  REFIR_ASSIGN_OR_RETURN(uint64_t wal, FileSize(absl::StrCat(path, "-wal"), true));
  return database + wal;
}

ScrapeSources BridgeScrapeSources(Journal* journal, ServedGroups* groups,
                                  const EventStreamService* service, std::string journal_path) {
  ScrapeSources sources;
  sources.journal_head_sequence = [journal] { return journal->HeadSequence(); };
  if (journal_path.empty()) {
    sources.journal_size_bytes = [journal] { return journal->StoredBytes(); };
  } else {
    sources.journal_size_bytes = [path = std::move(journal_path)] { return SqliteFilesSize(path); };
  }
  sources.subscribers_connected = [service] {
    return static_cast<uint64_t>(service->open_streams());
  };
  sources.consumer_groups = [groups]() -> absl::StatusOr<std::vector<ConsumerGroupStats>> {
    REFIR_ASSIGN_OR_RETURN(std::vector<v1::ConsumerGroup> described, groups->List());
    const absl::Time now = absl::Now();
    auto seconds_since = [now](const google::protobuf::Timestamp& time) {
      return std::max(0.0, absl::ToDoubleSeconds(now - FromProtoTimestamp(time)));
    };
    std::vector<ConsumerGroupStats> stats;
    stats.reserve(described.size());
    for (const v1::ConsumerGroup& group : described) {
      ConsumerGroupStats& out = stats.emplace_back();
      out.name = group.name();
      out.lag = static_cast<double>(group.lag());
      out.pending = static_cast<double>(group.pending());
      out.redeliveries = static_cast<double>(group.redelivered());
      out.dead_letters = static_cast<double>(group.dead_letters());
      out.subscribers = static_cast<double>(group.consumers_size());
      if (group.has_oldest_unacked_received_at()) {
        out.oldest_unacked_age_seconds = seconds_since(group.oldest_unacked_received_at());
      }
      out.seconds_since_last_ack =
          seconds_since(group.has_last_acked_at() ? group.last_acked_at() : group.created_at());
      if (group.consumers_size() == 0) {
        out.seconds_since_last_attach = seconds_since(
            group.has_last_attached_at() ? group.last_attached_at() : group.created_at());
      }
      out.holding_journal = group.holding_journal() ? 1 : 0;
    }
    return stats;
  };
  sources.consumer_groups_expired_total = [groups]() -> uint64_t {
    GroupRegistry* registry = groups->registry();
    return registry == nullptr ? 0 : registry->expired_total();
  };
  return sources;
}

}  // namespace refir::bridge

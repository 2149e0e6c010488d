#include "bridge/server/metrics_sources.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
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

ScrapeSources BridgeScrapeSources(Journal* journal, GroupRegistry* groups,
                                  const EventStreamService* service, std::string journal_path) {
  ScrapeSources sources;
  sources.journal_head_sequence = [journal] { return journal->HeadSequence(); };
  sources.journal_size_bytes = [path = std::move(journal_path)] { return SqliteFilesSize(path); };
  sources.subscribers_connected = [service] {
    return static_cast<uint64_t>(service->open_streams());
  };
  sources.consumer_groups = [groups]() -> absl::StatusOr<std::vector<ConsumerGroupStats>> {
    REFIR_ASSIGN_OR_RETURN(std::vector<v1::ConsumerGroup> described, groups->List());
    std::vector<ConsumerGroupStats> stats;
    stats.reserve(described.size());
    for (const v1::ConsumerGroup& group : described) {
      ConsumerGroupStats& out = stats.emplace_back();
      out.name = group.name();
      out.lag = group.lag();
      out.pending = group.pending();
      out.redeliveries = group.redelivered();
      out.dead_letters = group.dead_letters();
      out.subscribers = static_cast<uint64_t>(group.consumers_size());
    }
    return stats;
  };
  return sources;
}

}  // namespace refir::bridge

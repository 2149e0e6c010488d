#include "bridge/server/replica_identity.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "bridge/common/read_small_file.h"

namespace refir::bridge {
namespace {

bool IsIdCharacter(char c) { return absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.'; }

std::string NewId() {
  char host[256] = {0};
  if (gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  std::string name;
  for (const char* c = host; *c != '\0' && name.size() < 64; ++c) {
    name.push_back(IsIdCharacter(*c) ? *c : '_');
  }
  absl::BitGen random;
  return absl::StrCat(name.empty() ? "bridge" : name, "-",
                      absl::Hex(absl::Uniform<uint64_t>(random), absl::kZeroPad16));
}

}  // namespace

absl::StatusOr<std::unique_ptr<ReplicaIdentity>> ReplicaIdentity::Claim(
    const std::string& data_dir) {
  const std::string lock_path = absl::StrCat(data_dir, "/replica.lock");
  const int fd = open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot open ", lock_path, ": ", std::strerror(errno)));
  }
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    close(fd);
    if (error == EWOULDBLOCK) {
      return absl::FailedPreconditionError(
          absl::StrCat("another refir-bridge process uses --data_dir ", data_dir,
                       " (each replica needs its own data directory)"));
    }
    return absl::FailedPreconditionError(
        absl::StrCat("cannot lock ", lock_path, ": ", std::strerror(error)));
  }
  auto identity = std::make_unique<ReplicaIdentity>(fd, "");
  const std::string id_path = absl::StrCat(data_dir, "/replica-id");
  absl::StatusOr<std::string> stored = ReadSmallFile(id_path, 256);
  if (stored.ok()) {
    identity->id_ = std::string(absl::StripAsciiWhitespace(*stored));
  }
  const bool valid = !identity->id_.empty() &&
                     std::all_of(identity->id_.begin(), identity->id_.end(), IsIdCharacter);
  if (!valid) {
    identity->id_ = NewId();
    const std::string temp = id_path + ".tmp";
    {
      std::ofstream out(temp, std::ios::trunc);
      out << identity->id_ << "\n";
      out.close();
      if (!out) return absl::InternalError(absl::StrCat("cannot write ", temp));
    }
    if (std::rename(temp.c_str(), id_path.c_str()) != 0) {
      return absl::InternalError(absl::StrCat("cannot rename ", temp, " to ", id_path));
    }
  }
  return identity;
}

ReplicaIdentity::~ReplicaIdentity() {
  if (lock_fd_ >= 0) close(lock_fd_);  // releases the lock
}

}  // namespace refir::bridge

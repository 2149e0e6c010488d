#include "bridge/common/read_small_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace refir::bridge {
namespace {

absl::Status ErrnoError(int error, absl::string_view what) {
  const std::string message = absl::StrCat(what, ": ", std::strerror(error));
  if (error == ENOENT || error == ENOTDIR) return absl::NotFoundError(message);
  if (error == EACCES || error == EPERM) return absl::PermissionDeniedError(message);
  return absl::FailedPreconditionError(message);
}

}  // namespace

absl::StatusOr<std::string> ReadSmallFile(const std::string& path, size_t max_bytes) {
  if (path.empty()) return absl::InvalidArgumentError("the path is empty");
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError(errno, "cannot open");
  struct stat info;
  absl::Status status;
  std::string contents;
  if (fstat(fd, &info) != 0) {
    status = ErrnoError(errno, "cannot stat");
  } else if (!S_ISREG(info.st_mode)) {
    status = absl::FailedPreconditionError("not a regular file");
  } else if (static_cast<size_t>(info.st_size) > max_bytes) {
    status = absl::InvalidArgumentError(
        absl::StrCat("larger than ", max_bytes, " bytes (", info.st_size, ")"));
  } else {
    contents.resize(static_cast<size_t>(info.st_size));
    size_t done = 0;
    while (done < contents.size()) {
      const ssize_t n = read(fd, contents.data() + done, contents.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        status = ErrnoError(errno, "cannot read");
        break;
      }
      if (n == 0) break;  // Shrank while reading: keep what is there.
      done += static_cast<size_t>(n);
    }
    contents.resize(done);
  }
  close(fd);
  if (!status.ok()) return status;
  return contents;
}

}  // namespace refir::bridge

#include "bridge/common/private_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bridge/common/log.h"

namespace refir::bridge {
namespace {

constexpr mode_t kGroupOrOtherRead = S_IRGRP | S_IROTH;

// The permission bits of `path`, or -1 when it cannot be stat'ed.
int ModeOf(const std::string& path) {
  struct stat info;
  if (stat(path.c_str(), &info) != 0) return -1;
  return static_cast<int>(info.st_mode & 07777);
}

std::string Octal(int mode) { return absl::StrFormat("%04o", mode); }

}  // namespace

absl::Status CheckSecretFileMode(const std::string& path, absl::string_view what, bool refuse) {
  const int mode = ModeOf(path);
  if (mode < 0 || (mode & kGroupOrOtherRead) == 0) return absl::OkStatus();
  if (refuse) {
    return absl::FailedPreconditionError(absl::StrCat(
        what, " \"", path, "\" is readable by group or others (mode ", Octal(mode),
        "); run chmod 600 on it (or 400), or start without --refuse_insecure_secret_files"));
  }
  LogWarning(absl::StrCat(what, " \"", path,
                          "\" is readable by group or others; run chmod 600 on it (or 400)"),
             {{"file", path}, {"mode", Octal(mode)}});
  return absl::OkStatus();
}

void CreatePrivateDbFile(const std::string& path) {
  const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0) {
    // The umask may have taken bits away (too much for SQLite to write):
    // set exactly 0600.
    if (fchmod(fd, 0600) != 0) {
      LogWarning(absl::StrCat("cannot chmod 600 the new database \"", path, "\""),
                 {{"errno", static_cast<int64_t>(errno)}});
    }
    close(fd);
    return;
  }
  if (errno != EEXIST) return;  // SQLite's open says what is wrong.
  for (const std::string& file : {path, path + "-wal", path + "-shm"}) {
    const int mode = ModeOf(file);
    if (mode < 0 || (mode & kGroupOrOtherRead) == 0) continue;
    LogWarning(absl::StrCat("database file \"", file,
                            "\" is readable by group or others and holds webhook bodies; run "
                            "chmod 600 on it"),
               {{"file", file}, {"mode", Octal(mode)}});
  }
}

}  // namespace refir::bridge

#include "bridge/server/process_setup.h"

#include <sys/resource.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "bridge/common/log.h"
#include "bridge/common/private_file.h"
#include "bridge/common/status_macros.h"

namespace refir::bridge {

absl::StatusOr<int> FitConnectionsToFileLimit(int max_connections, int worker_threads) {
  constexpr rlim_t kReserve = 256;
  rlimit limit = {};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return absl::InternalError(absl::StrCat("getrlimit(RLIMIT_NOFILE): ", strerror(errno)));
  }
  const rlim_t before = limit.rlim_cur;
  if (limit.rlim_cur != limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0) limit.rlim_cur = before;
  }
  LogInfo("open file limit", {{"soft_before", static_cast<int64_t>(before)},
                              {"soft", static_cast<int64_t>(limit.rlim_cur)},
                              {"hard", static_cast<int64_t>(limit.rlim_max)}});
  const rlim_t needed = static_cast<rlim_t>(max_connections) + kReserve;
  if (limit.rlim_cur == RLIM_INFINITY || needed <= limit.rlim_cur) return max_connections;
  const rlim_t fits = limit.rlim_cur > kReserve ? limit.rlim_cur - kReserve : 0;
  if (fits < static_cast<rlim_t>(worker_threads)) {
    return absl::InvalidArgumentError(
        absl::StrCat("RLIMIT_NOFILE allows ", limit.rlim_cur,
                     " open files: not enough for --http_threads=", worker_threads,
                     " connections plus ", kReserve, " in reserve; raise the limit (ulimit -n)"));
  }
  LogWarning("--http_max_connections lowered to fit the open file limit",
             {{"wanted", static_cast<int64_t>(max_connections)},
              {"http_max_connections", static_cast<int64_t>(fits)},
              {"open_file_limit", static_cast<int64_t>(limit.rlim_cur)}});
  return static_cast<int>(fits);
}

absl::Status CheckSecretFlagFiles(const BridgeOptions& options, bool refuse) {
  const std::pair<const char*, const std::string&> files[] = {
      {"--grpc_tokens_file", options.grpc_security.tokens_file},
      {"--grpc_tls_key_file", options.grpc_security.tls_key_file},
      {"--http_tls_key_file", options.http.tls_key_file},
      {"--inspector_token_file", options.inspector.token_file},
      {"--nats_password_file", options.jetstream.password_file},
      {"--nats_token_file", options.jetstream.token_file}};
  for (const auto& [flag, path] : files) {
    if (!path.empty()) REFIR_RETURN_IF_ERROR(CheckSecretFileMode(path, flag, refuse));
  }
  return absl::OkStatus();
}

absl::Status WritePortsFile(const std::string& path, int http_port, int grpc_port, int admin_port) {
  const std::string temp = path + ".tmp";
  {
    std::ofstream out(temp, std::ios::trunc);
    out << "http_port=" << http_port << "\ngrpc_port=" << grpc_port << "\nadmin_port=" << admin_port
        << "\n";
    out.close();
    if (!out) return absl::InternalError(absl::StrCat("cannot write ports file ", temp));
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("cannot rename ports file to ", path));
  }
  return absl::OkStatus();
}

}  // namespace refir::bridge

#include "bridge/http_edge/bind_listener.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace refir::bridge {

absl::StatusOr<int> BindListener(httplib::Server& server, const std::string& address, int port,
                                 absl::string_view what) {
  if (port == 0) {
    const int bound = server.bind_to_any_port(address);
    if (bound < 0) {
      return absl::UnavailableError(
          absl::StrCat("cannot bind ", what, " listener on ", address, ":0"));
    }
    return bound;
  }
  if (!server.bind_to_port(address, port)) {
    return absl::UnavailableError(absl::StrCat("cannot bind ", what, " listener on ", address, ":",
                                               port, " (in use, or address not local?)"));
  }
  return port;
}

}  // namespace refir::bridge

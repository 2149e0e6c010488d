// Binds a cpp-httplib server to an address and port (0: a free one), the one
// way both HTTP listeners (webhooks, admin) do it.
#ifndef REFIR_BRIDGE_HTTP_EDGE_BIND_LISTENER_H_
#define REFIR_BRIDGE_HTTP_EDGE_BIND_LISTENER_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "httplib.h"

namespace refir::bridge {

// Returns the bound port; UNAVAILABLE naming `what` ("HTTP", "admin") when
// the address cannot be bound.
absl::StatusOr<int> BindListener(httplib::Server& server, const std::string& address, int port,
                                 absl::string_view what);

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_HTTP_EDGE_BIND_LISTENER_H_

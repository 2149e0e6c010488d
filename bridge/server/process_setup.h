// Process-level startup steps of the bridge binary: fitting webhook
// connections to the open-file limit, checking the modes of the secret files
// the options name, and the ports file that tells a supervisor (or a test)
// which ports were bound.
#ifndef REFIR_BRIDGE_SERVER_PROCESS_SETUP_H_
#define REFIR_BRIDGE_SERVER_PROCESS_SETUP_H_

#include <string>

#include "absl/status/statusor.h"
#include "bridge/server/bridge_options.h"

namespace refir::bridge {

// Raises the open-file soft limit to the hard limit: each webhook connection
// is a descriptor. Returns how many connections may be open at once:
// `max_connections` when it fits with a reserve for the journal, gRPC and
// the admin listener, else what fits (logged as a warning), so a host with a
// small hard limit still starts. INVALID_ARGUMENT when not even
// `worker_threads` connections fit.
absl::StatusOr<int> FitConnectionsToFileLimit(int max_connections, int worker_threads);

// Warns about (or, with `refuse`, refuses: FAILED_PRECONDITION) the secret
// files named by `options` (gRPC tokens and TLS key, HTTPS key) that group or
// others can read; messages name their flags. A --sources_file's secrets are
// checked as they are loaded.
absl::Status CheckSecretFlagFiles(const BridgeOptions& options, bool refuse);

// Writes http_port=, grpc_port= and admin_port= lines to `path` (through a
// temporary file and a rename, so readers never see half a file).
absl::Status WritePortsFile(const std::string& path, int http_port, int grpc_port, int admin_port);

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_SERVER_PROCESS_SETUP_H_

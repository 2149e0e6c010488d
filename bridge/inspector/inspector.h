// Inspector: the read-only live page of the admin listener (--inspector):
// GET /ui (the page), /ui/inspector.js, /ui/inspector.css and
// /ui/favicon.svg (its assets, embedded in the binary), /ui/api/events?after=SEQ and /ui/api/groups
// (the JSON the page polls). With a token, /ui and the API need it
// ("Authorization: Bearer <token>", or ?token= on /ui so a browser can open
// the page); the assets hold no data and are served without it. Every
// answer carries Cache-Control: no-store, nosniff, no referrer and a
// Content-Security-Policy that allows only the bridge itself.
#ifndef REFIR_BRIDGE_INSPECTOR_INSPECTOR_H_
#define REFIR_BRIDGE_INSPECTOR_INSPECTOR_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "bridge/delivery/consumer_groups.h"
#include "bridge/http_edge/admin_server.h"
#include "bridge/http_edge/http_reply.h"
#include "bridge/inspector/inspector_json.h"
#include "bridge/journal/journal.h"

namespace refir::bridge {

struct InspectorOptions {
  // Serves /ui on the admin listener (--inspector).
  bool enabled = false;
  // File holding the token /ui and its API require (--inspector_token_file);
  // required when the admin listener is not on loopback.
  std::string token_file;

  // INVALID_ARGUMENT naming the flags when enabled without the admin
  // listener, or on a non-loopback `admin_address` without a token file.
  absl::Status Validate(bool admin_enabled, absl::string_view admin_address) const;
};

// The shortest token accepted from --inspector_token_file.
inline constexpr size_t kMinInspectorTokenBytes = 16;

// The token in `path` (one trailing newline dropped): at least
// kMinInspectorTokenBytes of visible ASCII without spaces. Errors name the
// flag and the file, never the content.
absl::StatusOr<std::string> LoadInspectorToken(const std::string& path);

class Inspector {
 public:
  // `token` empty: no token is needed. `journal` and `groups` must outlive it.
  static absl::StatusOr<std::unique_ptr<Inspector>> Create(Journal* journal, ConsumerGroups* groups,
                                                           const std::string& token,
                                                           InspectorLimits limits = {});

  // The answer to a GET of /ui or a path under it. Thread-safe.
  HttpReply Serve(const AdminRequest& request) const;

 private:
  Inspector(Journal* journal, ConsumerGroups* groups, std::string token_digest,
            InspectorLimits limits);

  // True when no token is configured or `request` carries it.
  bool Authorized(const AdminRequest& request, bool query_token_allowed) const;
  HttpReply Route(const AdminRequest& request) const;

  Journal* const journal_;
  ConsumerGroups* const groups_;
  // SHA-256 of the token; empty when none is needed.
  const std::string token_digest_;
  const InspectorLimits limits_;
};

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_INSPECTOR_INSPECTOR_H_

#include "bridge/inspector/inspector.h"

#include <cstdint>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "bridge/common/status_macros.h"
#include "bridge/grpc_api/grpc_security.h"
#include "bridge/inspector/inspector_assets.h"
#include "bridge/verify/crypto.h"
#include "bridge/verify/secret_source.h"

namespace refir::bridge {
namespace {

using verify_internal::ConstantTimeEquals;
using verify_internal::Sha256;

constexpr absl::string_view kBearer = "bearer ";

// What every inspector answer carries: never cached, never sniffed, no
// referrer (the page's URL may hold ?token=), and nothing loaded or run
// that the bridge does not serve itself (no inline script or style).
void AddSecurityHeaders(HttpReply& reply) {
  reply.headers.emplace_back("Cache-Control", "no-store");
  reply.headers.emplace_back("X-Content-Type-Options", "nosniff");
  reply.headers.emplace_back("Referrer-Policy", "no-referrer");
  reply.headers.emplace_back("X-Frame-Options", "DENY");
  reply.headers.emplace_back(
      "Content-Security-Policy",
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
      "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; "
      "frame-ancestors 'none'");
}

HttpReply JsonReply(std::string body) {
  HttpReply reply;
  reply.body = std::move(body);
  return reply;
}

const std::string* FindParam(const AdminRequest& request, const std::string& name) {
  auto it = request.params.find(name);
  return it == request.params.end() ? nullptr : &it->second;
}

}  // namespace

absl::Status InspectorOptions::Validate(bool admin_enabled, absl::string_view admin_address) const {
  if (!enabled) {
    if (!token_file.empty()) {
      return absl::InvalidArgumentError("--inspector_token_file is set but --inspector is not");
    }
    return absl::OkStatus();
  }
  if (!admin_enabled) {
    return absl::InvalidArgumentError(
        "--inspector=true needs the admin listener, which --admin_port=-1 disables");
  }
  if (token_file.empty() && !IsLoopbackAddress(admin_address)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--inspector=true on --admin_address=", admin_address,
        ", which is not a loopback address, needs --inspector_token_file: the page shows "
        "every event's body and headers to whoever can reach the port"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> LoadInspectorToken(const std::string& path) {
  absl::StatusOr<std::string> token = ReadSecretFromFile(path);
  if (!token.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--inspector_token_file: ", token.status().message()));
  }
  if (token->size() < kMinInspectorTokenBytes) {
    return absl::InvalidArgumentError(absl::StrCat("--inspector_token_file \"", path,
                                                   "\": the token must be at least ",
                                                   kMinInspectorTokenBytes, " characters"));
  }
  for (char c : *token) {
    if (!absl::ascii_isgraph(static_cast<unsigned char>(c))) {
      return absl::InvalidArgumentError(
          absl::StrCat("--inspector_token_file \"", path,
                       "\": the token must be one line of visible ASCII without spaces"));
    }
  }
  return token;
}

absl::StatusOr<std::unique_ptr<Inspector>> Inspector::Create(Journal* journal,
                                                             ConsumerGroups* groups,
                                                             const std::string& token,
                                                             InspectorLimits limits) {
  std::string digest;
  if (!token.empty()) {
    REFIR_ASSIGN_OR_RETURN(digest, Sha256(token));
  }
  return std::unique_ptr<Inspector>(new Inspector(journal, groups, std::move(digest), limits));
}

Inspector::Inspector(Journal* journal, ConsumerGroups* groups, std::string token_digest,
                     InspectorLimits limits)
    : journal_(journal), groups_(groups), token_digest_(std::move(token_digest)), limits_(limits) {}

bool Inspector::Authorized(const AdminRequest& request, bool query_token_allowed) const {
  if (token_digest_.empty()) return true;
  absl::string_view offered;
  if (absl::StartsWithIgnoreCase(request.authorization, kBearer)) {
    offered = absl::string_view(request.authorization).substr(kBearer.size());
  } else if (const std::string* query = FindParam(request, "token");
             query != nullptr && query_token_allowed) {
    offered = *query;
  }
  if (offered.empty()) return false;
  // Digests have one length, so comparing them leaks nothing about the token.
  absl::StatusOr<std::string> digest = Sha256(offered);
  return digest.ok() && ConstantTimeEquals(*digest, token_digest_);
}

HttpReply Inspector::Serve(const AdminRequest& request) const {
  HttpReply reply = Route(request);
  AddSecurityHeaders(reply);
  return reply;
}

HttpReply Inspector::Route(const AdminRequest& request) const {
  if (const InspectorAsset* asset = FindInspectorAsset(request.path)) {
    if (asset->needs_token && !Authorized(request, /*query_token_allowed=*/true)) {
      return JsonErrorReply(401, "unauthenticated",
                            "open /ui?token=<token> (the --inspector_token_file's)");
    }
    HttpReply reply;
    reply.body = std::string(asset->body);
    reply.content_type = std::string(asset->content_type);
    return reply;
  }
  const bool api = request.path == "/ui/api/events" || request.path == "/ui/api/groups";
  if (!api) return JsonErrorReply(404, "not_found", absl::StrCat("no endpoint at ", request.path));
  if (!Authorized(request, /*query_token_allowed=*/false)) {
    return JsonErrorReply(401, "unauthenticated", "send \"Authorization: Bearer <token>\"");
  }
  absl::StatusOr<std::string> body;
  if (request.path == "/ui/api/groups") {
    body = GroupsJson(*groups_, limits_);
  } else {
    std::optional<uint64_t> after;
    if (const std::string* text = FindParam(request, "after")) {
      uint64_t value = 0;
      if (!absl::SimpleAtoi(*text, &value)) {
        return JsonErrorReply(400, "bad_request",
                              "after must be a sequence number (a non-negative integer)");
      }
      after = value;
    }
    body = RecentEventsJson(*journal_, after, limits_);
  }
  if (!body.ok()) return ReplyForError(body.status());
  return JsonReply(*std::move(body));
}

}  // namespace refir::bridge

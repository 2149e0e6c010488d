#include "bridge/journal/jetstream/jetstream_stream.h"

#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "bridge/common/log.h"
#include "bridge/common/status_macros.h"
#include "bridge/journal/jetstream/js_options.h"
#include "bridge/journal/jetstream/nats_handles.h"
#include "bridge/journal/jetstream/nats_status.h"

namespace refir::bridge::jetstream {
namespace {

bool IsTokenCharacter(char c) { return c > ' ' && c != 0x7f && c != '*' && c != '>' && c != '.'; }

// Stream names: no whitespace, '.', '*', '>', path separators.
bool IsValidStreamName(absl::string_view name) {
  if (name.empty() || name.size() > 255) return false;
  for (char c : name) {
    if (!IsTokenCharacter(c) || c == '/' || c == '\\') return false;
  }
  return true;
}

bool IsValidSubjectPrefix(absl::string_view prefix) {
  if (prefix.empty() || prefix.size() > 200) return false;
  for (absl::string_view token : absl::StrSplit(prefix, '.')) {
    if (token.empty()) return false;
    for (char c : token) {
      if (!IsTokenCharacter(c)) return false;
    }
  }
  return true;
}

std::string Describe(absl::Duration d) {
  return d == absl::ZeroDuration() ? "none" : absl::FormatDuration(d);
}

StreamState StateOf(const jsStreamInfo& info) {
  StreamState state;
  state.last_sequence = info.State.LastSeq;
  state.messages = info.State.Msgs;
  state.bytes = info.State.Bytes;
  state.first_sequence = info.State.Msgs == 0 ? info.State.LastSeq + 1 : info.State.FirstSeq;
  return state;
}

// What differs between the stream as found and as configured, in the
// settings that cannot change in place; empty when nothing does.
std::vector<std::string> Mismatches(const jsStreamConfig& found, const StreamSettings& want) {
  std::vector<std::string> differences;
  const std::string subject = absl::StrCat(want.subject_prefix, ".>");
  std::vector<std::string> found_subjects;
  for (int i = 0; i < found.SubjectsLen; ++i) found_subjects.push_back(found.Subjects[i]);
  if (found_subjects != std::vector<std::string>{subject}) {
    differences.push_back(absl::StrCat("subjects are [", absl::StrJoin(found_subjects, ", "),
                                       "], configured [", subject,
                                       "] (--jetstream_subject_prefix)"));
  }
  if (found.Storage != js_FileStorage) {
    differences.push_back("storage is memory, the journal needs file storage");
  }
  if (found.Retention != js_LimitsPolicy) {
    differences.push_back(
        "retention policy is not limits (interest or work-queue streams lose events)");
  }
  if (found.Replicas != want.replicas) {
    differences.push_back(absl::StrCat("replicas are ", found.Replicas, ", configured ",
                                       want.replicas, " (--jetstream_replicas)"));
  }
  const absl::Duration found_window = absl::Nanoseconds(found.Duplicates);
  if (found_window != want.duplicate_window) {
    differences.push_back(absl::StrCat("duplicate window is ", Describe(found_window),
                                       ", configured ", Describe(want.duplicate_window),
                                       " (the largest dedup window of the sources)"));
  }
  return differences;
}

}  // namespace

absl::Status StreamSettings::Validate() const {
  if (!IsValidStreamName(name)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--jetstream_stream: \"", name,
        "\" is not a stream name (1 to 255 characters, no space, '.', '*', '>', '/' or '\\')"));
  }
  if (!IsValidSubjectPrefix(subject_prefix)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--jetstream_subject_prefix: \"", subject_prefix,
        "\" is not a subject prefix (dot-separated tokens without spaces, '*' or '>')"));
  }
  if (replicas < 1 || replicas > 5) {
    return absl::InvalidArgumentError(
        absl::StrCat("--jetstream_replicas must be between 1 and 5, got ", replicas));
  }
  if (duplicate_window <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("the JetStream duplicate window must be positive");
  }
  if (max_age != absl::ZeroDuration() && duplicate_window > max_age) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--retention (", absl::FormatDuration(max_age),
        ") is shorter than the largest dedup window (", absl::FormatDuration(duplicate_window),
        "); JetStream needs the dedup window within the retention"));
  }
  return absl::OkStatus();
}

std::string EventSubject(absl::string_view subject_prefix, absl::string_view type) {
  std::string subject(subject_prefix);
  subject.push_back('.');
  if (type.empty()) {
    subject.append("unknown");
    return subject;
  }
  bool token_empty = true;
  for (char c : type) {
    if (c == '.') {
      if (token_empty) subject.push_back('_');
      subject.push_back('.');
      token_empty = true;
      continue;
    }
    const bool ok = c > ' ' && c != 0x7f && c != '*' && c != '>';
    subject.push_back(ok ? c : '_');
    token_empty = false;
  }
  if (token_empty) subject.push_back('_');
  return subject;
}

absl::StatusOr<StreamState> GetStreamState(jsCtx* js, const std::string& stream,
                                           absl::Duration timeout) {
  jsOptions options = JsOptionsWithTimeout(timeout);
  jsStreamInfo* raw_info = nullptr;
  jsErrCode js_error = static_cast<jsErrCode>(0);
  const natsStatus status = js_GetStreamInfo(&raw_info, js, stream.c_str(), &options, &js_error);
  JsStreamInfoPtr info(raw_info);
  REFIR_RETURN_IF_ERROR(NatsStatus(status, absl::StrCat("stream ", stream), js_error));
  return StateOf(*info);
}

absl::StatusOr<StreamState> EnsureStream(jsCtx* js, const StreamSettings& settings) {
  REFIR_RETURN_IF_ERROR(settings.Validate());
  const std::string subject = absl::StrCat(settings.subject_prefix, ".>");
  const char* subjects[] = {subject.c_str()};
  jsStreamConfig config;
  jsStreamConfig_Init(&config);
  config.Name = settings.name.c_str();
  config.Description = "refir-bridge journal";
  config.Subjects = subjects;
  config.SubjectsLen = 1;
  config.Retention = js_LimitsPolicy;
  config.Storage = js_FileStorage;
  config.Discard = js_DiscardOld;
  config.Replicas = settings.replicas;
  config.MaxAge = absl::ToInt64Nanoseconds(settings.max_age);
  config.MaxBytes = settings.max_bytes == 0 ? -1 : static_cast<int64_t>(settings.max_bytes);
  config.Duplicates = absl::ToInt64Nanoseconds(settings.duplicate_window);

  jsOptions options = JsOptionsWithTimeout(absl::Seconds(10));
  jsStreamInfo* raw_info = nullptr;
  jsErrCode js_error = static_cast<jsErrCode>(0);
  natsStatus status = js_GetStreamInfo(&raw_info, js, config.Name, &options, &js_error);
  JsStreamInfoPtr info(raw_info);
  if (status == NATS_NOT_FOUND || js_error == JSStreamNotFoundErr) {
    raw_info = nullptr;
    js_error = static_cast<jsErrCode>(0);
    status = js_AddStream(&raw_info, js, &config, &options, &js_error);
    info.reset(raw_info);
    REFIR_RETURN_IF_ERROR(
        NatsStatus(status, absl::StrCat("creating JetStream stream ", settings.name), js_error));
    LogInfo("JetStream stream created",
            {{"stream", settings.name}, {"subjects", subject}, {"replicas", settings.replicas}});
    return StateOf(*info);
  }
  REFIR_RETURN_IF_ERROR(
      NatsStatus(status, absl::StrCat("reading JetStream stream ", settings.name), js_error));

  const std::vector<std::string> differences = Mismatches(*info->Config, settings);
  if (!differences.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "JetStream stream ", settings.name,
        " exists with other settings: ", absl::StrJoin(differences, "; "),
        ". Use another --jetstream_stream, or change or delete the stream with the nats CLI"));
  }
  if (info->Config->MaxAge != config.MaxAge || info->Config->MaxBytes != config.MaxBytes) {
    raw_info = nullptr;
    js_error = static_cast<jsErrCode>(0);
    status = js_UpdateStream(&raw_info, js, &config, &options, &js_error);
    info.reset(raw_info);
    REFIR_RETURN_IF_ERROR(NatsStatus(
        status, absl::StrCat("updating the limits of JetStream stream ", settings.name), js_error));
    LogInfo("JetStream stream limits updated", {{"stream", settings.name},
                                                {"max_age", Describe(settings.max_age)},
                                                {"max_bytes", settings.max_bytes}});
  }
  return StateOf(*info);
}

}  // namespace refir::bridge::jetstream

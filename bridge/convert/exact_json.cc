#include "bridge/convert/exact_json.h"

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "bridge/convert/json_string_tracker.h"

namespace refir::bridge {
namespace {

using nlohmann::json;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool IsNumberChar(char c) {
  return IsDigit(c) || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

// RFC 8259's number: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
bool IsNumberToken(absl::string_view t) {
  size_t i = 0;
  const size_t n = t.size();
  if (i < n && t[i] == '-') ++i;
  if (i >= n) return false;
  if (t[i] == '0') {
    ++i;
  } else if (t[i] >= '1' && t[i] <= '9') {
    while (i < n && IsDigit(t[i])) ++i;
  } else {
    return false;
  }
  if (i < n && t[i] == '.') {
    const size_t start = ++i;
    while (i < n && IsDigit(t[i])) ++i;
    if (i == start) return false;
  }
  if (i < n && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    if (i < n && (t[i] == '+' || t[i] == '-')) ++i;
    const size_t start = i;
    while (i < n && IsDigit(t[i])) ++i;
    if (i == start) return false;
  }
  return i == n;
}

// The number-like tokens of a JSON text outside strings, in document order:
// in valid JSON these are exactly its numbers, in the order a SAX parser
// reports them (literals and structure contain no digit and no '-').
struct NumberTokens {
  std::vector<absl::string_view> tokens;
  // `text` with each valid number that nlohmann would read as a double (a
  // fraction, an exponent, or more digits than 64 bits hold) replaced by
  // "0" padded with spaces to the same length: nlohmann refuses doubles
  // beyond their range, and the value is never used. Same length, so the
  // parser's line and column in errors stay right. Empty when nothing was
  // replaced.
  std::string rewritten;
};

NumberTokens ScanNumbers(absl::string_view text) {
  NumberTokens out;
  JsonStringTracker strings;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (strings.InString(c)) continue;
    if (c != '-' && !IsDigit(c)) continue;
    size_t end = i + 1;
    while (end < text.size() && IsNumberChar(text[end])) ++end;
    const absl::string_view token = text.substr(i, end - i);
    out.tokens.push_back(token);
    const bool read_as_double =
        token.find_first_of(".eE") != absl::string_view::npos || token.size() > 19;
    if (read_as_double && IsNumberToken(token)) {
      if (out.rewritten.empty()) out.rewritten = std::string(text);
      out.rewritten.replace(i, token.size(), token.size(), ' ');
      out.rewritten[i] = '0';
    }
    i = end - 1;
  }
  return out;
}

// Builds the DOM from SAX events, numbers as binary nodes holding their
// token's text (the values nlohmann computed are ignored).
class ExactDomBuilder : public nlohmann::json_sax<json> {
 public:
  ExactDomBuilder(const std::vector<absl::string_view>* numbers, json* root)
      : numbers_(numbers), root_(root) {}

  bool null() override { return Add(nullptr); }
  bool boolean(bool value) override { return Add(value); }
  bool number_integer(number_integer_t /*value*/) override { return AddNumber(); }
  bool number_unsigned(number_unsigned_t /*value*/) override { return AddNumber(); }
  bool number_float(number_float_t /*value*/, const string_t& /*text*/) override {
    return AddNumber();
  }
  bool string(string_t& value) override { return Add(std::move(value)); }
  bool binary(binary_t& value) override { return Add(std::move(value)); }
  bool start_object(std::size_t /*elements*/) override {
    json* node = Place(json::object());
    if (node == nullptr) return false;
    open_.push_back(node);
    return true;
  }
  bool key(string_t& value) override {
    key_ = std::move(value);
    return true;
  }
  bool end_object() override { return Close(); }
  bool start_array(std::size_t /*elements*/) override {
    json* node = Place(json::array());
    if (node == nullptr) return false;
    open_.push_back(node);
    return true;
  }
  bool end_array() override { return Close(); }
  bool parse_error(std::size_t /*position*/, const std::string& /*last_token*/,
                   const nlohmann::json::exception& e) override {
    // what() is "[json.exception.parse_error.101] parse error at line 1,
    // ...": keep the human part only.
    absl::string_view what = e.what();
    if (absl::StartsWith(what, "[json.exception.")) {
      const size_t close = what.find("] ");
      if (close != absl::string_view::npos) what.remove_prefix(close + 2);
    }
    error_ = std::string(what);
    return false;
  }

  const std::string& error() const { return error_; }
  size_t numbers_used() const { return next_number_; }

 private:
  bool Add(json value) { return Place(std::move(value)) != nullptr; }

  bool AddNumber() {
    if (next_number_ >= numbers_->size()) {
      error_ = "internal error: more numbers parsed than scanned";
      return false;
    }
    const absl::string_view text = (*numbers_)[next_number_++];
    return Add(json::binary(json::binary_t::container_type(text.begin(), text.end()),
                            kJsonNumberTextSubtype));
  }

  // Puts `value` where the parser is (the root, the open array's end, or the
  // open object's pending key) and returns it. Only the innermost open
  // container grows, so the pointers in open_ stay valid.
  json* Place(json value) {
    if (open_.empty()) {
      *root_ = std::move(value);
      return root_;
    }
    json* parent = open_.back();
    if (parent->is_array()) {
      parent->push_back(std::move(value));
      return &parent->back();
    }
    json& slot = (*parent)[key_];
    slot = std::move(value);
    return &slot;
  }

  bool Close() {
    if (open_.empty()) return false;
    open_.pop_back();
    return true;
  }

  const std::vector<absl::string_view>* numbers_;
  json* root_;
  std::vector<json*> open_;
  std::string key_;
  size_t next_number_ = 0;
  std::string error_;
};

bool IsNumberText(const json& value) {
  return value.is_binary() && value.get_binary().has_subtype() &&
         value.get_binary().subtype() == kJsonNumberTextSubtype;
}

}  // namespace

absl::StatusOr<json> ParseJsonExact(absl::string_view text) {
  // nlohmann's lexer takes a NUL byte for the end of the input, so
  // `{"a":1}<NUL>anything` would parse as `{"a":1}`. JSON text never holds a
  // raw NUL (inside strings it must be escaped as \u0000).
  if (const size_t nul = text.find('\0'); nul != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("NUL byte at offset ", nul, " (JSON text cannot contain one)"));
  }
  const NumberTokens numbers = ScanNumbers(text);
  const absl::string_view parsed_text = numbers.rewritten.empty() ? text : numbers.rewritten;
  json root;
  ExactDomBuilder builder(&numbers.tokens, &root);
  bool ok = false;
  try {
    ok = json::sax_parse(parsed_text.data(), parsed_text.data() + parsed_text.size(), &builder,
                         json::input_format_t::json, /*strict=*/true);
  } catch (const json::exception& e) {
    return absl::InvalidArgumentError(e.what());
  }
  if (!ok) {
    return absl::InvalidArgumentError(builder.error().empty() ? "not valid JSON" : builder.error());
  }
  if (builder.numbers_used() != numbers.tokens.size()) {
    return absl::InternalError(absl::StrCat("JSON number scan found ", numbers.tokens.size(),
                                            " numbers, the parser ", builder.numbers_used()));
  }
  return root;
}

bool IsJsonNumber(const json& value) { return value.is_number() || IsNumberText(value); }

std::optional<std::string> JsonScalarText(const json& value) {
  switch (value.type()) {
    case json::value_t::string:
      return value.get_ref<const json::string_t&>();
    case json::value_t::number_unsigned:
      return absl::StrCat(value.get<std::uint64_t>());
    case json::value_t::number_integer:
      return absl::StrCat(value.get<std::int64_t>());
    case json::value_t::number_float:
      return value.dump();
    case json::value_t::binary:
      if (IsNumberText(value)) {
        const json::binary_t& bytes = value.get_binary();
        return std::string(bytes.begin(), bytes.end());
      }
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

const char* JsonTypeName(const json& value) {
  return IsNumberText(value) ? "number" : value.type_name();
}

}  // namespace refir::bridge

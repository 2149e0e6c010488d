// JsonStringTracker: follows a byte-by-byte scan of JSON text just far
// enough to tell which bytes lie inside strings (quotes and escapes), for the
// scans that look at structure (brackets, number tokens) without parsing.
#ifndef REFIR_BRIDGE_CONVERT_JSON_STRING_TRACKER_H_
#define REFIR_BRIDGE_CONVERT_JSON_STRING_TRACKER_H_

namespace refir::bridge {

class JsonStringTracker {
 public:
  // Takes the next byte of the text; true when it belongs to a string: its
  // opening or closing quote or anything between (escaped quotes included).
  bool InString(char c) {
    if (in_string_) {
      if (escaped_) {
        escaped_ = false;
      } else if (c == '\\') {
        escaped_ = true;
      } else if (c == '"') {
        in_string_ = false;
      }
      return true;
    }
    in_string_ = c == '"';
    return in_string_;
  }

 private:
  bool in_string_ = false;
  bool escaped_ = false;
};

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_CONVERT_JSON_STRING_TRACKER_H_

// The inspector page's files (page/index.html, inspector.js, inspector.css,
// favicon.svg), embedded in the binary at build time by this folder's
// CMakeLists.txt, so the page works offline and loads nothing from elsewhere.
#ifndef REFIR_BRIDGE_INSPECTOR_INSPECTOR_ASSETS_H_
#define REFIR_BRIDGE_INSPECTOR_INSPECTOR_ASSETS_H_

#include "absl/strings/string_view.h"

namespace refir::bridge {

struct InspectorAsset {
  absl::string_view path;  // "/ui", "/ui/inspector.js", ...
  absl::string_view content_type;
  absl::string_view body;
  // The page itself needs the token (when one is set); the script, style
  // sheet and icon hold no data and are served to anyone.
  bool needs_token = false;
};

// The asset served at `path`; nullptr when none is.
const InspectorAsset* FindInspectorAsset(absl::string_view path);

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_INSPECTOR_INSPECTOR_ASSETS_H_

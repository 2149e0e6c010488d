#include "bridge/cli/table.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace refir::bridge::cli {
namespace {

bool IsNumber(const std::string& cell) {
  return !cell.empty() && std::all_of(cell.begin(), cell.end(), [](char c) {
    return absl::ascii_isdigit(static_cast<unsigned char>(c));
  });
}

}  // namespace

void Table::AddRow(std::vector<std::string> cells) {
  cells.resize(headers_.size());
  rows_.push_back(std::move(cells));
}

std::string Table::Render() const {
  const size_t columns = headers_.size();
  std::vector<size_t> width(columns, 0);
  std::vector<bool> numeric(columns, !rows_.empty());
  for (size_t c = 0; c < columns; ++c) {
    width[c] = headers_[c].size();
    for (const std::vector<std::string>& row : rows_) {
      width[c] = std::max(width[c], row[c].size());
      if (!IsNumber(row[c])) numeric[c] = false;
    }
  }
  std::string text;
  auto append_line = [&](const std::vector<std::string>& cells) {
    std::string line;
    for (size_t c = 0; c < columns; ++c) {
      const std::string padding(width[c] - cells[c].size(), ' ');
      if (c > 0) line += "  ";
      line += numeric[c] ? absl::StrCat(padding, cells[c]) : absl::StrCat(cells[c], padding);
    }
    absl::StripTrailingAsciiWhitespace(&line);
    absl::StrAppend(&text, line, "\n");
  };
  append_line(headers_);
  for (const std::vector<std::string>& row : rows_) append_line(row);
  return text;
}

}  // namespace refir::bridge::cli

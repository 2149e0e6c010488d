// Table: the aligned text tables of the CLI's listings. Each column is as
// wide as its widest cell, columns two spaces apart; a column whose cells
// are all numbers is right-aligned.
#ifndef REFIR_BRIDGE_CLI_TABLE_H_
#define REFIR_BRIDGE_CLI_TABLE_H_

#include <string>
#include <vector>

namespace refir::bridge::cli {

class Table {
 public:
  explicit Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}

  // Cells beyond the headers are dropped; missing ones are empty.
  void AddRow(std::vector<std::string> cells);
  size_t rows() const { return rows_.size(); }
  // The header line and every row, each ending in '\n'; trailing spaces
  // are trimmed.
  std::string Render() const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace refir::bridge::cli

#endif  // REFIR_BRIDGE_CLI_TABLE_H_

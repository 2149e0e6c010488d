#include "bridge/cli/table.h"

#include "gtest/gtest.h"

namespace refir::bridge::cli {
namespace {

TEST(TableTest, ColumnsAsWideAsTheirWidestCellNumbersRightAligned) {
  Table table({"NAME", "LAG", "FILTER"});
  table.AddRow({"billing", "7", "refir.*"});
  table.AddRow({"a", "12345", ""});
  EXPECT_EQ(table.rows(), 2u);
  EXPECT_EQ(table.Render(),
            "NAME       LAG  FILTER\n"
            "billing      7  refir.*\n"
            "a        12345\n");
}

TEST(TableTest, MissingCellsAreEmptyExtraOnesDroppedMixedColumnsLeftAligned) {
  Table table({"A", "B"});
  table.AddRow({"1"});
  table.AddRow({"x", "2", "dropped"});
  EXPECT_EQ(table.Render(),
            "A  B\n"
            "1\n"
            "x  2\n");
}

TEST(TableTest, HeadersOnlyWhenEmpty) { EXPECT_EQ(Table({"NAME", "LAG"}).Render(), "NAME  LAG\n"); }

}  // namespace
}  // namespace refir::bridge::cli

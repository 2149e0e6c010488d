// Helpers for table-driven gtest suites: rows named by their `name` (in test
// names and failure messages), and rows that spoil one setting of an options
// struct whose Validate() must then refuse it with a given message.
#ifndef REFIR_TESTS_COMMON_TABLE_TESTS_H_
#define REFIR_TESTS_COMMON_TABLE_TESTS_H_

#include <functional>
#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace refir::bridge {

// Names a TEST_P row by its `name` field; pass to INSTANTIATE_TEST_SUITE_P.
template <typename Case>
std::string CaseName(const ::testing::TestParamInfo<Case>& info) {
  return info.param.name;
}

// One broken rule of `Options`: `spoil` breaks it, and Validate() must then
// answer INVALID_ARGUMENT with `message` in its text.
template <typename Options>
struct SpoiledOptions {
  const char* name;
  std::function<void(Options&)> spoil;
  const char* message;
  friend void PrintTo(const SpoiledOptions& spoiled, std::ostream* out) { *out << spoiled.name; }
};

// Spoils a copy of `valid` and expects Validate() to refuse it.
template <typename Options>
void ExpectRefused(Options valid, const SpoiledOptions<Options>& spoiled) {
  ASSERT_TRUE(valid.Validate().ok()) << "the options before spoiling must be valid";
  spoiled.spoil(valid);
  const absl::Status status = valid.Validate();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(std::string(status.message()), ::testing::HasSubstr(spoiled.message));
}

}  // namespace refir::bridge

#endif  // REFIR_TESTS_COMMON_TABLE_TESTS_H_

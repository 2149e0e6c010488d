// MakeTempDir: a fresh directory under the test's temp dir (gtest's
// TEST_TMPDIR when set), for a test's databases, NATS stores and files.
#ifndef REFIR_BRIDGE_TESTS_COMMON_TEMP_DIR_H_
#define REFIR_BRIDGE_TESTS_COMMON_TEMP_DIR_H_

#include <stdlib.h>

#include <string>

#include "gtest/gtest.h"

namespace refir::bridge::testing {

// The new directory's path; empty (and a test failure) when none could be
// made.
inline std::string MakeTempDir(const std::string& prefix = "refir-bridge") {
  std::string pattern = ::testing::TempDir() + prefix + "-XXXXXX";
  const char* made = mkdtemp(pattern.data());
  EXPECT_NE(made, nullptr) << "mkdtemp failed for " << pattern;
  return made == nullptr ? std::string() : pattern;
}

}  // namespace refir::bridge::testing

#endif  // REFIR_BRIDGE_TESTS_COMMON_TEMP_DIR_H_

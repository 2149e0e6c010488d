// Helpers shared by the tests of the SQLite journal and group store: a
// fixture owning a fresh temp directory with a database path in it, raw SQL
// through a separate connection, and a proto equality matcher.
#ifndef REFIR_BRIDGE_TESTS_JOURNAL_SQLITE_TEST_UTIL_H_
#define REFIR_BRIDGE_TESTS_JOURNAL_SQLITE_TEST_UTIL_H_

#include <sqlite3.h>
#include <stdlib.h>

#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <system_error>
#include <utility>

#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

namespace refir::bridge::testing {

// Matches a message equal to `expected`, describing the differences if not.
MATCHER_P(EqualsProto, expected, "") {
  std::string diff;
  ::google::protobuf::util::MessageDifferencer differencer;
  differencer.ReportDifferencesToString(&diff);
  if (differencer.Compare(expected, arg)) return true;
  *result_listener << diff;
  return false;
}

// Runs SQL on the database file through a separate connection.
inline void RawExec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  const int open_rc =
      sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  if (open_rc != SQLITE_OK) {
    sqlite3_close_v2(db);
    FAIL() << "cannot open " << path << ": " << sqlite3_errstr(open_rc);
  }
  // The journal's own connection may hold the write lock for a moment (its
  // committer or a checkpoint): wait for it rather than fail with BUSY.
  sqlite3_busy_timeout(db, 10000);
  char* error = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  const std::string message = error != nullptr ? error : "";
  sqlite3_free(error);
  sqlite3_close_v2(db);
  ASSERT_EQ(rc, SQLITE_OK) << message;
}

// Runs `sql` on the database file through a separate read-only connection
// and hands its first row to `read_row` (not called when there is none).
// Returns SQLITE_ROW, SQLITE_DONE, or the SQLite error code.
inline int RawQueryFirstRow(const std::string& path, const std::string& sql,
                            const std::function<void(sqlite3_stmt*)>& read_row) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  if (rc == SQLITE_OK) rc = sqlite3_busy_timeout(db, 10000);
  if (rc == SQLITE_OK) {
    sqlite3_stmt* stmt = nullptr;
    rc = sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr);
    if (rc == SQLITE_OK) rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) read_row(stmt);
    sqlite3_finalize(stmt);
  }
  sqlite3_close_v2(db);
  return rc;
}

// Runs a query returning one integer on the database file through a
// separate read-only connection; -1 on any error.
inline int64_t RawQueryInt64(const std::string& path, const std::string& sql) {
  int64_t value = -1;
  RawQueryFirstRow(path, sql,
                   [&value](sqlite3_stmt* row) { value = sqlite3_column_int64(row, 0); });
  return value;
}

// A fixture with a fresh temp directory `dir_` (removed after the test) and
// `path_`, a database file name in it (not created).
class SqliteFileTest : public ::testing::Test {
 protected:
  // `dir_prefix` names the temp directory; `file_name` is the file in it.
  SqliteFileTest(std::string dir_prefix, std::string file_name)
      : dir_prefix_(std::move(dir_prefix)), file_name_(std::move(file_name)) {}

  void SetUp() override {
    std::string pattern = ::testing::TempDir() + dir_prefix_ + "_XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr) << "mkdtemp: errno " << errno;
    dir_ = pattern;
    path_ = dir_ + "/" + file_name_;
  }
  void TearDown() override {
    std::error_code error;
    std::filesystem::remove_all(dir_, error);
  }

  std::string dir_;
  std::string path_;

 private:
  const std::string dir_prefix_;
  const std::string file_name_;
};

}  // namespace refir::bridge::testing

#endif  // REFIR_BRIDGE_TESTS_JOURNAL_SQLITE_TEST_UTIL_H_

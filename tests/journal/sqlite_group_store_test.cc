#include "bridge/journal/sqlite/sqlite_group_store.h"

#include <sqlite3.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "bridge/journal/group_state.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/journal/group_store_test_util.h"
#include "tests/journal/sqlite_test_util.h"

namespace refir::bridge {
namespace {

using ::refir::bridge::testing::EqualsProto;
using ::refir::bridge::testing::MakeDeadLetter;
using ::refir::bridge::testing::MakeState;
using ::refir::bridge::testing::RawExec;
using ::refir::bridge::testing::RawQueryFirstRow;
using ::refir::bridge::testing::Sequences;
using ::refir::bridge::testing::SqliteFileTest;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// The first column of the first row of `sql`, as text, read through a
// separate read-only connection ("<no row>" if there is none).
std::string RawQuery(const std::string& path, const std::string& sql) {
  std::string result;
  const int rc = RawQueryFirstRow(path, sql, [&result](sqlite3_stmt* row) {
    const unsigned char* text = sqlite3_column_text(row, 0);
    result = text != nullptr ? reinterpret_cast<const char*>(text) : "<null>";
  });
  if (rc == SQLITE_DONE) return "<no row>";
  return rc == SQLITE_ROW ? result : "<error>";
}

std::string ReadFile(const std::string& path) {
  std::string contents;
  FILE* file = fopen(path.c_str(), "rb");
  if (file == nullptr) return "<cannot open>";
  char buffer[4096];
  size_t n = 0;
  while ((n = fread(buffer, 1, sizeof(buffer), file)) > 0) contents.append(buffer, n);
  fclose(file);
  return contents;
}

class SqliteGroupStoreTest : public SqliteFileTest {
 protected:
  SqliteGroupStoreTest() : SqliteFileTest("sqlite_group_store", "groups.db") {}

  std::unique_ptr<GroupStore> Open() {
    absl::StatusOr<std::unique_ptr<GroupStore>> store = OpenSqliteGroupStore(path_);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }
};

TEST_F(SqliteGroupStoreTest, SaveThenLoadRoundTripsEveryField) {
  std::unique_ptr<GroupStore> store = Open();
  ASSERT_NE(store, nullptr);
  internal::GroupState state = MakeState("billing");
  // Above INT64_MAX: the state blob carries full uint64 values.
  state.set_cursor(std::numeric_limits<uint64_t>::max());
  state.set_redelivered_total(std::numeric_limits<uint64_t>::max() - 1);
  ASSERT_TRUE(store->SaveGroup(state, {}, {}).ok());

  absl::StatusOr<std::vector<internal::GroupState>> groups = store->LoadGroups();
  ASSERT_TRUE(groups.ok()) << groups.status();
  ASSERT_EQ(groups->size(), 1u);
  EXPECT_THAT((*groups)[0], EqualsProto(state));
  EXPECT_EQ((*groups)[0].unsettled_sequences_size(), 2);
  EXPECT_EQ((*groups)[0].unsettled_attempts_size(), 2);
}

TEST_F(SqliteGroupStoreTest, OpenUsesWalAndSchemaVersionOne) {
  ASSERT_NE(Open(), nullptr);
  EXPECT_EQ(RawQuery(path_, "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(RawQuery(path_, "PRAGMA user_version"), "1");
}

TEST_F(SqliteGroupStoreTest, EmptyStoreLoadsNothing) {
  std::unique_ptr<GroupStore> store = Open();
  ASSERT_NE(store, nullptr);
  absl::StatusOr<std::vector<internal::GroupState>> groups = store->LoadGroups();
  ASSERT_TRUE(groups.ok()) << groups.status();
  EXPECT_THAT(*groups, IsEmpty());
  EXPECT_EQ(store->CountDeadLetters("billing").value(), 0u);
  EXPECT_THAT(store->ListDeadLetters("billing", 0, 10).value(), IsEmpty());
}

TEST_F(SqliteGroupStoreTest, SaveGroupReplacesState) {
  std::unique_ptr<GroupStore> store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->SaveGroup(MakeState("billing", 100), {}, {}).ok());
  internal::GroupState newer = MakeState("billing", 250);
  newer.clear_filter_types();
  newer.clear_unsettled_sequences();
  newer.clear_unsettled_attempts();
  ASSERT_TRUE(store->SaveGroup(newer, {}, {}).ok());

  absl::StatusOr<std::vector<internal::GroupState>> groups = store->LoadGroups();
  ASSERT_TRUE(groups.ok()) << groups.status();
  ASSERT_EQ(groups->size(), 1u);
  EXPECT_THAT((*groups)[0], EqualsProto(newer));
}

TEST_F(SqliteGroupStoreTest, DeadLettersAddedRemovedAndListedAscendingWithPaging) {
  std::unique_ptr<GroupStore> store = Open();
  ASSERT_NE(store, nullptr);
  // Added out of order: listing sorts them.
  const std::vector<internal::DeadLetterRecord> first = {MakeDeadLetter(30), MakeDeadLetter(10),
                                                         MakeDeadLetter(20), MakeDeadLetter(50),
                                                         MakeDeadLetter(40)};
  ASSERT_TRUE(store->SaveGroup(MakeState("billing", 60), first, {}).ok());
  EXPECT_EQ(store->CountDeadLetters("billing").value(), 5u);

  absl::StatusOr<std::vector<internal::DeadLetterRecord>> all =
      store->ListDeadLetters("billing", 0, 100);
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_THAT(Sequences(*all), ElementsAre(10, 20, 30, 40, 50));
  ASSERT_EQ(all->size(), 5u);
  EXPECT_THAT((*all)[0], EqualsProto(MakeDeadLetter(10)));
  EXPECT_THAT((*all)[4], EqualsProto(MakeDeadLetter(50)));

  // Paging: after_sequence is exclusive, limit caps the page.
  EXPECT_THAT(Sequences(store->ListDeadLetters("billing", 0, 2).value()), ElementsAre(10, 20));
  EXPECT_THAT(Sequences(store->ListDeadLetters("billing", 20, 2).value()), ElementsAre(30, 40));
  EXPECT_THAT(Sequences(store->ListDeadLetters("billing", 25, 10).value()),
              ElementsAre(30, 40, 50));
  EXPECT_THAT(store->ListDeadLetters("billing", 50, 10).value(), IsEmpty());
  EXPECT_THAT(store->ListDeadLetters("billing", 0, 0).value(), IsEmpty());
  EXPECT_THAT(store->ListDeadLetters("billing", std::numeric_limits<uint64_t>::max(), 10).value(),
              IsEmpty());

  // One save adds two (one replacing 30 with a new reason) and removes two
  // (one of which never existed).
  const std::vector<internal::DeadLetterRecord> added = {MakeDeadLetter(60),
                                                         MakeDeadLetter(30, "replaced")};
  const std::vector<uint64_t> removed = {10, 40, 999};
  ASSERT_TRUE(store->SaveGroup(MakeState("billing", 70), added, removed).ok());
  EXPECT_EQ(store->CountDeadLetters("billing").value(), 4u);
  absl::StatusOr<std::vector<internal::DeadLetterRecord>> after =
      store->ListDeadLetters("billing", 0, 100);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_THAT(Sequences(*after), ElementsAre(20, 30, 50, 60));
  EXPECT_EQ((*after)[1].reason(), "replaced");
  EXPECT_EQ(store->LoadGroups().value()[0].cursor(), 70u);
}

TEST_F(SqliteGroupStoreTest, LargestStorableSequenceWorksAndLargerIsInvalidArgument) {
  std::unique_ptr<GroupStore> store = Open();
  ASSERT_NE(store, nullptr);
  const uint64_t max = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  ASSERT_TRUE(store->SaveGroup(MakeState("billing"), {MakeDeadLetter(max)}, {}).ok());
  EXPECT_THAT(Sequences(store->ListDeadLetters("billing", max - 1, 10).value()), ElementsAre(max));

  const absl::Status too_big_added =
      store->SaveGroup(MakeState("billing", 500), {MakeDeadLetter(max + 1)}, {});
  EXPECT_EQ(too_big_added.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(too_big_added.message(), HasSubstr(absl::StrCat(max + 1)));
  const absl::Status too_big_removed =
      store->SaveGroup(MakeState("billing", 500), {}, {max, ~0ull});
  EXPECT_EQ(too_big_removed.code(), absl::StatusCode::kInvalidArgument);

  // Neither refused save changed anything.
  EXPECT_EQ(store->LoadGroups().value()[0].cursor(), 100u);
  EXPECT_EQ(store->CountDeadLetters("billing").value(), 1u);
}

TEST_F(SqliteGroupStoreTest, EmptyGroupNameIsInvalidArgument) {
  std::unique_ptr<GroupStore> store = Open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->SaveGroup(MakeState(""), {}, {}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->DeleteGroup("").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->ListDeadLetters("", 0, 10).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->CountDeadLetters("").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(store->LoadGroups().value(), IsEmpty());
}

TEST_F(SqliteGroupStoreTest, DeleteGroupRemovesOnlyThatGroupAndItsDeadLetters) {
  std::unique_ptr<GroupStore> store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(
      store->SaveGroup(MakeState("billing"), {MakeDeadLetter(1), MakeDeadLetter(2)}, {}).ok());
  ASSERT_TRUE(store->SaveGroup(MakeState("crm"), {MakeDeadLetter(2), MakeDeadLetter(3)}, {}).ok());

  ASSERT_TRUE(store->DeleteGroup("billing").ok());
  absl::StatusOr<std::vector<internal::GroupState>> groups = store->LoadGroups();
  ASSERT_TRUE(groups.ok()) << groups.status();
  ASSERT_EQ(groups->size(), 1u);
  EXPECT_EQ((*groups)[0].name(), "crm");
  EXPECT_EQ(store->CountDeadLetters("billing").value(), 0u);
  EXPECT_THAT(store->ListDeadLetters("billing", 0, 10).value(), IsEmpty());
  EXPECT_THAT(Sequences(store->ListDeadLetters("crm", 0, 10).value()), ElementsAre(2, 3));

  // Deleting a group that does not exist is fine.
  EXPECT_TRUE(store->DeleteGroup("billing").ok());
  EXPECT_TRUE(store->DeleteGroup("never-existed").ok());
  EXPECT_EQ(store->LoadGroups().value().size(), 1u);
}

TEST_F(SqliteGroupStoreTest, TwoGroupsAreIndependentAndLoadInNameOrder) {
  std::unique_ptr<GroupStore> store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->SaveGroup(MakeState("zeta", 10), {MakeDeadLetter(5, "zeta-5")}, {}).ok());
  ASSERT_TRUE(store->SaveGroup(MakeState("alpha", 20), {MakeDeadLetter(5, "alpha-5")}, {}).ok());
  // Removing 5 from alpha leaves zeta's 5 alone; saving alpha leaves zeta's
  // state alone.
  ASSERT_TRUE(store->SaveGroup(MakeState("alpha", 30), {}, {5}).ok());

  absl::StatusOr<std::vector<internal::GroupState>> groups = store->LoadGroups();
  ASSERT_TRUE(groups.ok()) << groups.status();
  ASSERT_EQ(groups->size(), 2u);
  EXPECT_THAT((*groups)[0], EqualsProto(MakeState("alpha", 30)));
  EXPECT_THAT((*groups)[1], EqualsProto(MakeState("zeta", 10)));
  EXPECT_EQ(store->CountDeadLetters("alpha").value(), 0u);
  absl::StatusOr<std::vector<internal::DeadLetterRecord>> zeta =
      store->ListDeadLetters("zeta", 0, 10);
  ASSERT_TRUE(zeta.ok()) << zeta.status();
  ASSERT_EQ(zeta->size(), 1u);
  EXPECT_EQ((*zeta)[0].reason(), "zeta-5");
}

TEST_F(SqliteGroupStoreTest, ReopenAfterCloseKeepsEverything) {
  const internal::GroupState billing = MakeState("billing", 77);
  const internal::GroupState crm = MakeState("crm", 88);
  {
    std::unique_ptr<GroupStore> store = Open();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->SaveGroup(billing, {MakeDeadLetter(3), MakeDeadLetter(4)}, {}).ok());
    ASSERT_TRUE(store->SaveGroup(crm, {MakeDeadLetter(9)}, {}).ok());
  }
  std::unique_ptr<GroupStore> store = Open();
  ASSERT_NE(store, nullptr);
  absl::StatusOr<std::vector<internal::GroupState>> groups = store->LoadGroups();
  ASSERT_TRUE(groups.ok()) << groups.status();
  ASSERT_EQ(groups->size(), 2u);
  EXPECT_THAT((*groups)[0], EqualsProto(billing));
  EXPECT_THAT((*groups)[1], EqualsProto(crm));
  absl::StatusOr<std::vector<internal::DeadLetterRecord>> dead =
      store->ListDeadLetters("billing", 0, 10);
  ASSERT_TRUE(dead.ok()) << dead.status();
  ASSERT_EQ(dead->size(), 2u);
  EXPECT_THAT((*dead)[0], EqualsProto(MakeDeadLetter(3)));
  EXPECT_THAT((*dead)[1], EqualsProto(MakeDeadLetter(4)));
  EXPECT_EQ(store->CountDeadLetters("crm").value(), 1u);

  // And it still accepts writes.
  ASSERT_TRUE(store->SaveGroup(MakeState("billing", 90), {}, {3}).ok());
  EXPECT_EQ(store->CountDeadLetters("billing").value(), 1u);
}

TEST_F(SqliteGroupStoreTest, UnknownSchemaVersionIsRefusedWithoutModifyingTheFile) {
  RawExec(path_, "PRAGMA user_version = 99");
  absl::StatusOr<std::unique_ptr<GroupStore>> store = OpenSqliteGroupStore(path_);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(store.status().message(), HasSubstr("99"));
  EXPECT_THAT(store.status().message(), HasSubstr(path_));
  EXPECT_EQ(RawQuery(path_, "PRAGMA user_version"), "99");
  EXPECT_EQ(RawQuery(path_, "PRAGMA journal_mode"), "delete");
  EXPECT_EQ(RawQuery(path_, "SELECT COUNT(*) FROM sqlite_master"), "0");
}

TEST_F(SqliteGroupStoreTest, NotADatabaseIsRefusedAndLeftAlone) {
  const std::string garbage =
      "this is not an SQLite database, not even close, but long enough to matter";
  {
    FILE* file = fopen(path_.c_str(), "w");
    ASSERT_NE(file, nullptr);
    fputs(garbage.c_str(), file);
    fclose(file);
  }
  absl::StatusOr<std::unique_ptr<GroupStore>> store = OpenSqliteGroupStore(path_);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kDataLoss) << store.status();
  EXPECT_EQ(ReadFile(path_), garbage);
}

TEST_F(SqliteGroupStoreTest, OpenInMissingDirectoryFailsNamingThePath) {
  const std::string path = dir_ + "/no/such/dir/groups.db";
  absl::StatusOr<std::unique_ptr<GroupStore>> store = OpenSqliteGroupStore(path);
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(store.status().message(), HasSubstr(path));
  EXPECT_THAT(store.status().message(), HasSubstr("does not exist"));
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/no"));
}

TEST_F(SqliteGroupStoreTest, EmptyPathIsInvalidArgument) {
  EXPECT_EQ(OpenSqliteGroupStore("").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(SqliteGroupStoreTest, UnparsableStateRowIsDataLossNamingTheGroup) {
  {
    std::unique_ptr<GroupStore> store = Open();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->SaveGroup(MakeState("billing"), {}, {}).ok());
    ASSERT_TRUE(store->SaveGroup(MakeState("crm"), {}, {}).ok());
  }
  // Field 1 (name), length 5, but only one byte follows.
  RawExec(path_, "UPDATE consumer_groups SET state = x'0a0561' WHERE name = 'crm'");
  std::unique_ptr<GroupStore> store = Open();
  ASSERT_NE(store, nullptr);
  absl::StatusOr<std::vector<internal::GroupState>> groups = store->LoadGroups();
  ASSERT_FALSE(groups.ok());
  EXPECT_EQ(groups.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(groups.status().message(), HasSubstr("'crm'"));
}

// A trigger added behind the store's back makes the insert of dead letter 13
// fail in the middle of a SaveGroup: the state row and the dead letters
// written earlier in the same call are rolled back, and the store keeps
// working afterwards.
TEST_F(SqliteGroupStoreTest, FailureInsideSaveGroupRollsBackEverything) {
  std::unique_ptr<GroupStore> store = Open();
  ASSERT_NE(store, nullptr);
  const internal::GroupState before = MakeState("billing", 100);
  ASSERT_TRUE(store->SaveGroup(before, {MakeDeadLetter(1), MakeDeadLetter(2)}, {}).ok());
  RawExec(path_,
          "CREATE TRIGGER poison BEFORE INSERT ON dead_letters WHEN NEW.sequence = 13 "
          "BEGIN SELECT RAISE(ABORT, 'injected failure'); END;");

  const absl::Status failed = store->SaveGroup(
      MakeState("billing", 200), {MakeDeadLetter(12), MakeDeadLetter(13), MakeDeadLetter(14)}, {1});
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(failed.message(), HasSubstr("injected failure"));
  EXPECT_THAT(failed.message(), HasSubstr("'billing'"));

  absl::StatusOr<std::vector<internal::GroupState>> groups = store->LoadGroups();
  ASSERT_TRUE(groups.ok()) << groups.status();
  ASSERT_EQ(groups->size(), 1u);
  EXPECT_THAT((*groups)[0], EqualsProto(before));
  EXPECT_THAT(Sequences(store->ListDeadLetters("billing", 0, 10).value()), ElementsAre(1, 2));
  // Also as another connection sees the file: nothing was left uncommitted.
  EXPECT_EQ(RawQuery(path_, "SELECT group_concat(sequence) FROM dead_letters"), "1,2");

  // A save that avoids the poisoned sequence still works.
  ASSERT_TRUE(store->SaveGroup(MakeState("billing", 300), {MakeDeadLetter(12)}, {1}).ok());
  EXPECT_EQ(store->LoadGroups().value()[0].cursor(), 300u);
  EXPECT_THAT(Sequences(store->ListDeadLetters("billing", 0, 10).value()), ElementsAre(2, 12));
}

TEST_F(SqliteGroupStoreTest, ConcurrentSavesOnDifferentGroupsAllLand) {
  std::unique_ptr<GroupStore> store = Open();
  ASSERT_NE(store, nullptr);
  constexpr int kThreads = 8;
  constexpr int kSavesPerThread = 40;
  std::vector<absl::Status> failures(kThreads);
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&store, &failures, t] {
      const std::string name = absl::StrCat("group-", t);
      for (int i = 1; i <= kSavesPerThread; ++i) {
        // Each save adds dead letter i and removes every even one before it.
        std::vector<uint64_t> removed;
        if (i % 2 == 1 && i > 1) removed.push_back(static_cast<uint64_t>(i - 1));
        const absl::Status status =
            store->SaveGroup(MakeState(name, 1000 + static_cast<uint64_t>(i)),
                             {MakeDeadLetter(static_cast<uint64_t>(i), name)}, removed);
        if (!status.ok()) {
          failures[t] = status;
          return;
        }
        // Reads interleave with other threads' writes.
        if (!store->CountDeadLetters(name).ok()) {
          failures[t] = absl::InternalError("count failed");
          return;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_TRUE(failures[t].ok()) << t << ": " << failures[t];

  absl::StatusOr<std::vector<internal::GroupState>> groups = store->LoadGroups();
  ASSERT_TRUE(groups.ok()) << groups.status();
  ASSERT_EQ(groups->size(), static_cast<size_t>(kThreads));
  for (int t = 0; t < kThreads; ++t) {
    const std::string name = absl::StrCat("group-", t);
    EXPECT_THAT((*groups)[t], EqualsProto(MakeState(name, 1000 + kSavesPerThread)));
    // Odd sequences 1..39 stay, plus 40 (its removal never came).
    absl::StatusOr<std::vector<internal::DeadLetterRecord>> dead =
        store->ListDeadLetters(name, 0, 1000);
    ASSERT_TRUE(dead.ok()) << dead.status();
    ASSERT_EQ(dead->size(), static_cast<size_t>(kSavesPerThread / 2 + 1)) << name;
    for (const internal::DeadLetterRecord& record : *dead) {
      EXPECT_EQ(record.reason(), name);
      EXPECT_TRUE(record.sequence() % 2 == 1 || record.sequence() == kSavesPerThread)
          << name << " kept " << record.sequence();
    }
    EXPECT_EQ(store->CountDeadLetters(name).value(), dead->size());
  }
}

}  // namespace
}  // namespace refir::bridge

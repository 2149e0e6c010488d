#include "bridge/verify/secret_source.h"

#include <stdlib.h>

#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace refir::bridge {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class SecretFileTest : public ::testing::Test {
 protected:
  // Writes `content` to a fresh file and returns its path.
  std::string WriteFile(const std::string& content) {
    const std::string path = absl::StrCat(
        ::testing::TempDir(), "/secret_source_test_",
        ::testing::UnitTest::GetInstance()->current_test_info()->name(), "_", counter_++);
    std::ofstream file(path, std::ios::binary | std::ios::trunc);
    file << content;
    file.close();
    EXPECT_TRUE(file) << path;
    return path;
  }

 private:
  int counter_ = 0;
};

TEST_F(SecretFileTest, StripsExactlyOneTrailingNewline) {
  EXPECT_EQ(ReadSecretFromFile(WriteFile("s3cret")).value_or("?"), "s3cret");
  EXPECT_EQ(ReadSecretFromFile(WriteFile("s3cret\n")).value_or("?"), "s3cret");
  EXPECT_EQ(ReadSecretFromFile(WriteFile("s3cret\r\n")).value_or("?"), "s3cret");
  EXPECT_EQ(ReadSecretFromFile(WriteFile("s3cret\n\n")).value_or("?"), "s3cret\n");
  EXPECT_EQ(ReadSecretFromFile(WriteFile(" s3cret ")).value_or("?"), " s3cret ");
}

TEST_F(SecretFileTest, KeepsBinaryContent) {
  const std::string binary("a\0b\xff", 4);
  EXPECT_EQ(ReadSecretFromFile(WriteFile(binary)).value_or("?"), binary);
}

TEST_F(SecretFileTest, RefusesAnEmptyFile) {
  for (const char* content : {"", "\n", "\r\n"}) {
    const std::string path = WriteFile(content);
    const absl::Status status = ReadSecretFromFile(path).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(status.message(), HasSubstr(absl::StrCat("secret file ", path, " is empty")));
  }
}

TEST_F(SecretFileTest, MissingFileIsNamed) {
  const std::string path = absl::StrCat(::testing::TempDir(), "/no_such_secret_file");
  const absl::Status status = ReadSecretFromFile(path).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr(path));
  EXPECT_THAT(status.message(), HasSubstr("No such file"));
}

TEST_F(SecretFileTest, DirectoryIsRefused) {
  const absl::Status status = ReadSecretFromFile(::testing::TempDir()).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
}

TEST_F(SecretFileTest, OversizedFileIsRefusedWithoutEchoingIt) {
  const std::string path = WriteFile(std::string(kMaxSecretFileBytes + 1, 'k'));
  const absl::Status status = ReadSecretFromFile(path).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("larger than"));
  EXPECT_THAT(status.message(), Not(HasSubstr("kkk")));
  EXPECT_TRUE(ReadSecretFromFile(WriteFile(std::string(kMaxSecretFileBytes, 'k'))).ok());
}

TEST(SecretEnvTest, ReadsTheVariable) {
  ASSERT_EQ(setenv("REFIR_TEST_SECRET_SET", "env-s3cret", 1), 0);
  EXPECT_EQ(ReadSecretFromEnv("REFIR_TEST_SECRET_SET").value_or("?"), "env-s3cret");
  EXPECT_EQ(LoadSecret({SecretSource::Kind::kEnv, "REFIR_TEST_SECRET_SET"}).value_or("?"),
            "env-s3cret");
  unsetenv("REFIR_TEST_SECRET_SET");
}

TEST(SecretEnvTest, UnsetAndEmptyVariablesAreNamed) {
  unsetenv("REFIR_TEST_SECRET_UNSET");
  absl::Status status = ReadSecretFromEnv("REFIR_TEST_SECRET_UNSET").status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("REFIR_TEST_SECRET_UNSET is not set"));

  ASSERT_EQ(setenv("REFIR_TEST_SECRET_EMPTY", "", 1), 0);
  status = ReadSecretFromEnv("REFIR_TEST_SECRET_EMPTY").status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("REFIR_TEST_SECRET_EMPTY is empty"));
  unsetenv("REFIR_TEST_SECRET_EMPTY");
}

TEST_F(SecretFileTest, LoadSecretFromFile) {
  const std::string path = WriteFile("file-s3cret\n");
  EXPECT_EQ(LoadSecret({SecretSource::Kind::kFile, path}).value_or("?"), "file-s3cret");
}

}  // namespace
}  // namespace refir::bridge

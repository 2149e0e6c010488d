#include "bridge/convert/event_name.h"

#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace refir::bridge {
namespace {

TEST(NormaliseEventNameTest, EverySpellingOfOneNameGivesOneType) {
  for (const char* spelling :
       {"userAdded", "UserAdded", "user-added", "user added", "USER_ADDED", "user_added",
        "user.added", "User Added", "USER-ADDED", "userADDED", "  user__added  ", "user::added",
        "user/added", "refir.user.added", "REFIR.User.Added", "refir_userAdded", "refir.userAdded",
        "Refir.UserAdded", "\tuser\nadded"}) {
    EXPECT_EQ(NormaliseEventName(spelling), "refir.user.added") << spelling;
  }
}

TEST(NormaliseEventNameTest, Table) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"referral_created", "refir.referral.created"},
      {"ReferralCreated", "refir.referral.created"},
      {"referralCreated", "refir.referral.created"},
      {"REFERRAL_CREATED", "refir.referral.created"},
      {"  Referral-Created  ", "refir.referral.created"},
      {"refir_referral_created", "refir.referral.created"},
      // Acronyms stay one word; the capital before a lower-case word starts it.
      {"HTTPRequest", "refir.http.request"},
      {"sendHTTPRequest", "refir.send.http.request"},
      {"userID", "refir.user.id"},
      {"userIDSet", "refir.user.id.set"},
      // Digits stay in their word; a capital after a digit starts a new one.
      {"step2Done", "refir.step2.done"},
      {"v2_user_added", "refir.v2.user.added"},
      {"HTTP2Request", "refir.http2.request"},
      {"user2fa", "refir.user2fa"},
      // Separator runs, leading and trailing separators.
      {"__user__added__", "refir.user.added"},
      {".user._added.", "refir.user.added"},
      {"signup", "refir.signup"},
      {"SIGNUP", "refir.signup"},
      {"refirx", "refir.refirx"},
      {"refir", "refir.refir"},
      {"A", "refir.a"},
      // Non-ASCII bytes are kept as they are (only ASCII is lower-cased).
      {"usuárioAdicionado", "refir.usuário.adicionado"},
      {"Ärger", "refir.Ärger"},
  };
  for (const auto& [name, type] : cases) EXPECT_EQ(NormaliseEventName(name), type) << name;
}

TEST(NormaliseEventNameTest, NothingLeftIsEmpty) {
  EXPECT_EQ(NormaliseEventName(""), "");
  EXPECT_EQ(NormaliseEventName(" _-:/. "), "");
}

}  // namespace
}  // namespace refir::bridge

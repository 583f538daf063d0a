// Activation codes and account helpers (accounts.h).
#include "auth/accounts.h"

#include <gtest/gtest.h>

#include <set>

namespace carechart::auth {
namespace {

TEST(ActivationCode, FormatAndAlphabet) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    std::string code = NewActivationCode();
    ASSERT_EQ(code.size(), 14u) << code;
    EXPECT_EQ(code[4], '-');
    EXPECT_EQ(code[9], '-');
    for (char c : NormaliseActivationCode(code)) {
      EXPECT_EQ(std::string("0O1IL").find(c), std::string::npos) << "look-alike in " << code;
    }
    seen.insert(code);
  }
  EXPECT_EQ(seen.size(), 200u) << "codes repeat";
}

TEST(ActivationCode, TypedFormsNormaliseAlike) {
  EXPECT_EQ(NormaliseActivationCode("abcd efgh-jkmn"), "ABCDEFGHJKMN");
  EXPECT_EQ(NormaliseActivationCode(" ABCD-EFGH-JKMN\n"), "ABCDEFGHJKMN");
}

TEST(Accounts, ProxyOpensOwnRecordFirstThenWards) {
  User u;
  u.role = Role::kProxy;
  u.patient_id = "dad";
  u.proxy_patient_ids = {"kid-1", "dad", "kid-2"};
  EXPECT_EQ(PatientsOf(u), (std::vector<std::string>{"dad", "kid-1", "kid-2"}));
  User p;
  p.role = Role::kPatient;
  p.patient_id = "maria";
  p.proxy_patient_ids = {"ignored"};
  EXPECT_EQ(PatientsOf(p), std::vector<std::string>{"maria"});
}

TEST(Accounts, UsernameRules) {
  EXPECT_EQ(UsernameProblem("maria.l"), "");
  EXPECT_NE(UsernameProblem("ma"), "");
  EXPECT_NE(UsernameProblem("Maria"), "");
  EXPECT_NE(UsernameProblem("-maria"), "");
  EXPECT_NE(UsernameProblem("invited-abc"), "");
  EXPECT_TRUE(IsPlaceholderUsername(NewPlaceholderUsername()));
}

}  // namespace
}  // namespace carechart::auth

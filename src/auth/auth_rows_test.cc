#include "auth/auth_rows.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

namespace carechart::auth {
namespace {

// A row as a database hands it back: every bound value in the same column, NULLs where asked.
RowReader Returned(const SqlRow& row) {
  std::vector<std::optional<store::SqlArg>> columns(row.begin(), row.end());
  return RowReader(std::move(columns));
}

TEST(AuthRows, UserRoundTrip) {
  User u;
  u.id = "u1";
  u.username = "ana";
  u.display = "Dr Ana";
  u.role = Role::kNurse;
  u.facility_ids = {"F1", "F2"};
  u.practitioner_id = "pr-1";
  u.proxy_patient_ids = {"p1"};
  u.password_hash = "$argon2id$x";
  u.must_change_password = true;
  u.totp_secret = "ABC";
  u.failed_logins = 3;
  u.locked_until = 1700000000;
  u.created_at = 1600000000;
  SqlRow row = UserRow(u);
  // One value per column of kUserColumns, in that order.
  EXPECT_EQ(row.size(), 15u);
  EXPECT_EQ(std::get<std::string>(row[3]), "nurse");
  EXPECT_EQ(std::get<std::string>(row[4]), "F1 F2");
  EXPECT_EQ(std::get<int64_t>(row[9]), 1);
  RowReader r = Returned(row);
  User back = ReadUser(r);
  EXPECT_EQ(back.username, "ana");
  EXPECT_EQ(back.role, Role::kNurse);
  EXPECT_EQ(back.facility_ids, u.facility_ids);
  EXPECT_EQ(back.proxy_patient_ids, u.proxy_patient_ids);
  EXPECT_TRUE(back.must_change_password);
  EXPECT_FALSE(back.disabled);
  EXPECT_EQ(back.failed_logins, 3);
  EXPECT_EQ(back.locked_until, 1700000000);
  EXPECT_EQ(back.created_at, 1600000000);
}

TEST(AuthRows, ClientRoundTripAndNulls) {
  Client c;
  c.id = "app";
  c.kind = ClientKind::kBackend;
  c.scopes = {"system/*.rs", "system/Observation.c"};
  c.created_at = 5;
  RowReader r = Returned(ClientRow(c));
  Client back = ReadClient(r);
  EXPECT_EQ(back.kind, ClientKind::kBackend);
  EXPECT_EQ(back.scopes, c.scopes);
  EXPECT_TRUE(back.redirect_uris.empty());
  // NULL columns (a column added later, a PostgreSQL NULL) read as empty and 0.
  RowReader nulls({std::nullopt, std::nullopt});
  EXPECT_EQ(nulls.Text(), "");
  EXPECT_EQ(nulls.Int(), 0);
  EXPECT_EQ(nulls.Text(), "");  // past the end too
}

TEST(AuthRows, ColumnCountsMatchTheColumnLists) {
  auto count = [](const char* columns) {
    return static_cast<size_t>(std::count(columns, columns + std::strlen(columns), ',') + 1);
  };
  EXPECT_EQ(UserRow(User{}).size(), count(kUserColumns));
  EXPECT_EQ(ClientRow(Client{}).size(), count(kClientColumns));
  EXPECT_EQ(CodeRow(AuthCode{}).size(), count(kCodeColumns));
  EXPECT_EQ(RefreshRow(RefreshToken{}).size(), count(kRefreshColumns));
  EXPECT_EQ(Placeholders(3), "?, ?, ?");
}

}  // namespace
}  // namespace carechart::auth

#include "store/sqlite_checkpointer.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "store/store_test_util.h"

namespace carechart::store::sqlite {
namespace {

constexpr int kPage = 4096;

// Commits `commits` transactions of `pages_each` page-sized rows through `writer`.
void WritePages(Connection& writer, int commits, int pages_each) {
  for (int c = 0; c < commits; ++c) {
    ASSERT_TRUE(writer.Exec("BEGIN IMMEDIATE").ok());
    for (int i = 0; i < pages_each; ++i) {
      ASSERT_TRUE(writer.Exec("INSERT INTO t(x) VALUES (randomblob(4000))").ok());
    }
    ASSERT_TRUE(writer.Exec("COMMIT").ok());
  }
}

uintmax_t SizeOf(const std::string& path) {
  std::error_code ec;
  uintmax_t n = std::filesystem::file_size(path, ec);
  return ec ? 0 : n;
}

TEST(WalCheckpointer, CopiesTheWalIntoTheFileOffTheWritersThread) {
  const std::string path = testing::TempDbPath("checkpointer_copies");
  auto writer = Connection::Open(path, false);
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Exec("CREATE TABLE t(x BLOB)").ok());
  auto checkpointer = WalCheckpointer::Start(path, **writer, /*start_frames=*/64);
  ASSERT_TRUE(checkpointer.ok());
  const uintmax_t before = SizeOf(path);
  // Below the start: SQLite's own autocheckpoint (which would have copied nothing yet either)
  // is replaced, so nothing reaches the file.
  WritePages(**writer, 1, 20);
  EXPECT_EQ((*checkpointer)->checkpoints(), 0);
  WritePages(**writer, 4, 30);  // 140 pages: the thread is woken
  for (int i = 0; i < 500 && (*checkpointer)->checkpoints() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_GE((*checkpointer)->checkpoints(), 1);
  EXPECT_GE(SizeOf(path), before + 64 * kPage) << "the 64 frames that woke it were copied";
  writer->reset();
}

TEST(WalCheckpointer, TheWalStaysBoundedAndNothingIsLost) {
  const std::string path = testing::TempDbPath("checkpointer_bounded");
  auto writer = Connection::Open(path, false);
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Exec("CREATE TABLE t(x BLOB)").ok());
  auto checkpointer = WalCheckpointer::Start(path, **writer, /*start_frames=*/32);
  ASSERT_TRUE(checkpointer.ok());
  constexpr int kCommits = 200, kPagesEach = 40;  // ~32 MB through the WAL
  WritePages(**writer, kCommits, kPagesEach);
  // Without a restart the WAL would hold every page written; the writer's backstop (4 × 32
  // frames) restarts it whenever the thread has copied everything.
  EXPECT_LT(SizeOf(path + "-wal"), uintmax_t{kCommits} * kPagesEach * kPage / 4);
  writer->reset();
  checkpointer->reset();
  auto reader = Connection::Open(path, true);
  ASSERT_TRUE(reader.ok());
  auto count = (*reader)->Prepare("SELECT COUNT(*) FROM t");
  ASSERT_TRUE(count.ok());
  auto row = count->Step();
  ASSERT_TRUE(row.ok() && *row);
  EXPECT_EQ(count->Int(0), kCommits * kPagesEach);
}

}  // namespace
}  // namespace carechart::store::sqlite

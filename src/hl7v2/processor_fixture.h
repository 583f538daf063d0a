// Test fixture shared by the HL7 v2 processor and mapping tests: a fresh SQLite store in a
// temporary folder per test, and a Processor with the default mapping over it.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include "hl7v2/processor.h"
#include "store/resource_store.h"

namespace carechart::hl7v2 {

class ProcessorFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("cc-hl7-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    store::SqliteOptions so;
    so.path = (dir_ / "t.db").string();
    auto s = store::OpenSqliteStore(so);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
    processor_ = std::make_unique<Processor>(*store_, ProcessorOptions{});
  }
  void TearDown() override {
    processor_.reset();
    if (store_) {
      store_->Close();
    }
    std::filesystem::remove_all(dir_);
  }

  std::filesystem::path dir_;
  std::unique_ptr<store::ResourceStore> store_;
  std::unique_ptr<Processor> processor_;
};

}  // namespace carechart::hl7v2

#include "broker/store/meta_repo.h"

#include <gtest/gtest.h>

#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "broker/common/clock.h"
#include "tests/broker/store/store_test_util.h"

namespace portcullis::store {
namespace {

class MetaRepoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.ok());
    auto db = Database::Open(dir_.Join("p.db"), &clock_);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    meta_ = std::make_unique<MetaRepo>(db_.get());
  }

  testing::TempDir dir_;
  FakeClock clock_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<MetaRepo> meta_;
};

TEST_F(MetaRepoTest, GetPut) {
  EXPECT_TRUE(absl::IsNotFound(meta_->Get("broker_id").status()));
  ASSERT_TRUE(meta_->Put("broker_id", "one").ok());
  EXPECT_EQ(*meta_->Get("broker_id"), "one");
  ASSERT_TRUE(meta_->Put("broker_id", "two").ok());
  EXPECT_EQ(*meta_->Get("broker_id"), "two");
  const std::string binary("\x00\xff\x01 bytes", 9);
  ASSERT_TRUE(meta_->Put("bin", binary).ok());
  EXPECT_EQ(*meta_->Get("bin"), binary);
  ASSERT_TRUE(meta_->Put("empty", "").ok());
  EXPECT_EQ(*meta_->Get("empty"), "");
  EXPECT_EQ(meta_->Put("", "x").code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(MetaRepoTest, NextCounterStartsAtOneAndIsPerKey) {
  EXPECT_EQ(*meta_->NextCounter("cert_serial"), 1u);
  EXPECT_EQ(*meta_->NextCounter("cert_serial"), 2u);
  EXPECT_EQ(*meta_->NextCounter("other"), 1u);
  EXPECT_EQ(*meta_->NextCounter("cert_serial"), 3u);
  EXPECT_TRUE(absl::IsNotFound(meta_->Get("cert_serial").status()));  // separate namespace
}

TEST_F(MetaRepoTest, NextCounterUniqueUnderConcurrency) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 1000;
  std::vector<std::vector<uint64_t>> got(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      for (int j = 0; j < kPerThread; ++j) {
        auto v = meta_->NextCounter("cert_serial");
        got[i].push_back(v.ok() ? *v : 0);
      }
    });
  }
  for (auto& t : threads) t.join();
  std::set<uint64_t> all;
  for (const auto& v : got) all.insert(v.begin(), v.end());
  ASSERT_EQ(all.size(), static_cast<size_t>(kThreads * kPerThread));
  EXPECT_EQ(*all.begin(), 1u);
  EXPECT_EQ(*all.rbegin(), static_cast<uint64_t>(kThreads * kPerThread));
  EXPECT_EQ(*meta_->NextCounter("cert_serial"), static_cast<uint64_t>(kThreads * kPerThread + 1));
}

TEST_F(MetaRepoTest, NextCounterUniqueAcrossConnections) {
  // Two Database instances on one file, as two broker processes would have.
  auto second = Database::Open(dir_.Join("p.db"), &clock_);
  ASSERT_TRUE(second.ok()) << second.status();
  MetaRepo other(second->get());
  std::set<uint64_t> all;
  std::mutex mu;
  auto run = [&](MetaRepo* repo) {
    for (int j = 0; j < 300; ++j) {
      auto v = repo->NextCounter("serial");
      std::lock_guard<std::mutex> lock(mu);
      all.insert(v.ok() ? *v : 0);
    }
  };
  std::thread a(run, meta_.get()), b(run, &other);
  a.join();
  b.join();
  EXPECT_EQ(all.size(), 600u);
  EXPECT_EQ(all.count(0), 0u);
}

}  // namespace
}  // namespace portcullis::store

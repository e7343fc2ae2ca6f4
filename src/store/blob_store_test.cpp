// Tests for the file blob store: durability protocol, dedup, pins, recovery.
#include "store/blob_store.hpp"

#include <gtest/gtest.h>

#include <fstream>

namespace postino::store {
namespace {

namespace fs = std::filesystem;

class BlobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("postino-blobs-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    blobs_ = make_file_blob_store(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
  std::unique_ptr<BlobStore> blobs_;
};

TEST_F(BlobStoreTest, ContentAddressedAndDeduplicated) {
  auto a = blobs_->put("hello");
  ASSERT_TRUE(a);
  EXPECT_EQ(*a, "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
  EXPECT_EQ(*blobs_->read(*a), "hello");
  EXPECT_EQ(*blobs_->size(*a), 5);
  EXPECT_EQ(*blobs_->put("hello"), *a);
  EXPECT_EQ(blobs_->list()->size(), 1u);
  EXPECT_TRUE(*blobs_->verify(*a));
  EXPECT_TRUE(fs::is_empty(dir_ / "tmp"));
}

TEST_F(BlobStoreTest, ReadsRangesAtAnyOffset) {
  auto id = blobs_->put("0123456789");
  ASSERT_TRUE(id);
  auto reader = blobs_->open(*id);
  ASSERT_TRUE(reader);
  char buffer[8] = {};
  EXPECT_EQ(*(*reader)->read_at(3, buffer, 4), 4u);
  EXPECT_EQ(std::string(buffer, 4), "3456");
  EXPECT_EQ(*(*reader)->read_at(8, buffer, 8), 2u);  // short only at the end
  EXPECT_EQ(std::string(buffer, 2), "89");
  EXPECT_EQ(*(*reader)->read_at(10, buffer, 8), 0u);
  EXPECT_EQ(*(*reader)->read(buffer, 3), 3u);  // read() keeps its own position
  EXPECT_EQ(std::string(buffer, 3), "012");
}

TEST_F(BlobStoreTest, AbandonedWriterLeavesNothing) {
  {
    auto w = blobs_->begin();
    ASSERT_TRUE(w);
    ASSERT_TRUE((*w)->append("partial"));
  }
  EXPECT_TRUE(fs::is_empty(dir_ / "tmp"));
  EXPECT_TRUE(blobs_->list()->empty());
}

TEST_F(BlobStoreTest, RecoverRemovesStrayTemporaryFiles) {
  ASSERT_TRUE(blobs_->put("x"));
  std::ofstream(dir_ / "tmp" / "blob.crashed") << "half a message";
  EXPECT_EQ(*blobs_->recover(), 1u);
  EXPECT_TRUE(fs::is_empty(dir_ / "tmp"));
}

TEST_F(BlobStoreTest, PinnedBlobsSurviveGarbageCollection) {
  auto w = blobs_->begin();
  ASSERT_TRUE((*w)->append("pinned"));
  auto id = (*w)->commit();
  ASSERT_TRUE(id);
  EXPECT_FALSE(*blobs_->remove_if(*id, [] { return true; }));
  blobs_->unpin(*id);
  EXPECT_FALSE(*blobs_->remove_if(*id, [] { return false; }));
  EXPECT_TRUE(blobs_->exists(*id));
  EXPECT_TRUE(*blobs_->remove_if(*id, [] { return true; }));
  EXPECT_FALSE(blobs_->exists(*id));
}

// Many at once: a pinned blob is not offered; of those offered only the ones the database
// agrees to drop are removed.
TEST_F(BlobStoreTest, PinnedBlobsSurviveGarbageCollectionInBatches) {
  auto w = blobs_->begin();
  ASSERT_TRUE((*w)->append("pinned"));
  const auto pinned = (*w)->commit();
  ASSERT_TRUE(pinned);
  const auto kept = blobs_->put("still referenced"), gone = blobs_->put("unreferenced");
  ASSERT_TRUE(kept && gone);
  std::vector<std::string> offered;
  auto removed =
      blobs_->remove_all_if({*pinned, *kept, *gone}, [&](const std::vector<std::string>& ids) {
        offered = ids;
        return std::vector<std::string>{*gone};
      });
  ASSERT_TRUE(removed) << removed.error().detail;
  EXPECT_EQ(offered, (std::vector<std::string>{*kept, *gone}));
  EXPECT_EQ(*removed, std::vector<std::string>{*gone});
  EXPECT_TRUE(blobs_->exists(*pinned));
  EXPECT_TRUE(blobs_->exists(*kept));
  EXPECT_FALSE(blobs_->exists(*gone));
  EXPECT_FALSE(blobs_->remove_all_if({"not an id"}, [](const auto& ids) { return ids; }));
  blobs_->unpin(*pinned);
}

TEST_F(BlobStoreTest, DetectsCorruptionAndMissingBlobs) {
  auto id = blobs_->put("original");
  ASSERT_TRUE(id);
  const auto path = dir_ / id->substr(0, 2) / *id;
  std::ofstream(path, std::ios::trunc) << "tampered";
  EXPECT_FALSE(*blobs_->verify(*id));
  fs::remove(path);
  EXPECT_EQ(blobs_->read(*id).error().kind, ErrorKind::not_found);
  EXPECT_EQ(blobs_->read("../../etc/passwd").error().kind, ErrorKind::invalid);
}

}  // namespace
}  // namespace postino::store

namespace postino::store {
namespace {

TEST_F(BlobStoreTest, CommittedBlobsStayStagedUntilUnpinned) {
  auto w = blobs_->begin();
  ASSERT_TRUE((*w)->append("staged body"));
  auto id = (*w)->commit();
  ASSERT_TRUE(id);
  EXPECT_EQ(*blobs_->staged(), std::vector<std::string>{*id});
  EXPECT_EQ(*blobs_->read(*id), "staged body");  // readable while staged
  blobs_->unpin(*id);
  EXPECT_TRUE(blobs_->staged()->empty());
  EXPECT_TRUE(fs::exists(dir_ / id->substr(0, 2) / *id));
  EXPECT_EQ(*blobs_->read(*id), "staged body");
  EXPECT_TRUE(blobs_->promote(*id));  // promoting twice is harmless
}

TEST_F(BlobStoreTest, BlobsOfTheOldTwoLevelLayoutAreStillServed) {
  auto id = blobs_->put("from an earlier version");
  ASSERT_TRUE(id);
  const auto legacy = dir_ / id->substr(0, 2) / id->substr(2, 2) / *id;
  fs::create_directories(legacy.parent_path());
  fs::rename(dir_ / id->substr(0, 2) / *id, legacy);
  EXPECT_TRUE(blobs_->exists(*id));
  EXPECT_EQ(*blobs_->read(*id), "from an earlier version");
  EXPECT_EQ(*blobs_->size(*id), 23);
  EXPECT_TRUE(*blobs_->verify(*id));
  EXPECT_EQ(*blobs_->list(), std::vector<std::string>{*id});
  EXPECT_TRUE(*blobs_->remove_if(*id, [] { return true; }));
  EXPECT_FALSE(fs::exists(legacy));
  EXPECT_FALSE(blobs_->exists(*id));
}

}  // namespace
}  // namespace postino::store

// Faults in the middle of a save (RELIABILITY F01, F02): the body's write or its fsync
// fails. The save reports the failure (a full disk as no_space, an I/O error as
// temporary), nothing of the message is committed (no row, no UID taken, no quota used,
// no staged file left), and the next save works.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "store/sqlite/sqlite_store.hpp"

namespace postino::store {
namespace {

namespace fs = std::filesystem;

enum class Fault { none, write_no_space, sync_io_error };

// A blob store whose writers fail as told; everything else is the real one's.
class FaultyBlobStore final : public BlobStore {
 public:
  FaultyBlobStore(std::unique_ptr<BlobStore> real, const Fault& fault)
      : real_(std::move(real)), fault_(fault) {}

  Result<std::unique_ptr<BlobWriter>> begin() override {
    auto w = real_->begin();
    if (!w) return w;
    return std::unique_ptr<BlobWriter>(new Writer(std::move(*w), fault_));
  }
  Result<std::string> read(const std::string& id) override { return real_->read(id); }
  Result<std::unique_ptr<BlobReader>> open(const std::string& id) override {
    return real_->open(id);
  }
  Result<std::int64_t> size(const std::string& id) override { return real_->size(id); }
  bool exists(const std::string& id) override { return real_->exists(id); }
  Result<std::chrono::seconds> age(const std::string& id) override { return real_->age(id); }
  void unpin(const std::string& id) override { real_->unpin(id); }
  void unpin_uncommitted(const std::string& id) override { real_->unpin_uncommitted(id); }
  Result<std::vector<std::string>> staged() override { return real_->staged(); }
  Result<void> promote(const std::string& id) override { return real_->promote(id); }
  Result<bool> remove_if(const std::string& id,
                         const std::function<bool()>& is_unreferenced) override {
    return real_->remove_if(id, is_unreferenced);
  }
  Result<std::vector<std::string>> remove_all_if(const std::vector<std::string>& ids,
                                                 const Unreferenced& unreferenced) override {
    return real_->remove_all_if(ids, unreferenced);
  }
  Result<std::vector<std::string>> list() override { return real_->list(); }
  Result<bool> verify(const std::string& id) override { return real_->verify(id); }
  Result<bool> quarantine(const std::string& id, const std::filesystem::path& into,
                          const std::function<bool()>& confirm) override {
    return real_->quarantine(id, into, confirm);
  }
  Result<std::size_t> recover() override { return real_->recover(); }

 private:
  class Writer final : public BlobWriter {
   public:
    Writer(std::unique_ptr<BlobWriter> real, const Fault& fault)
        : real_(std::move(real)), fault_(fault) {}
    Result<void> append(std::string_view bytes) override {
      if (fault_ == Fault::write_no_space) return make_error(ErrorKind::no_space, "ENOSPC");
      return real_->append(bytes);
    }
    Result<std::string> commit() override {
      if (fault_ == Fault::sync_io_error) return make_error(ErrorKind::temporary, "fsync: EIO");
      return real_->commit();
    }
    std::int64_t size() const override { return real_->size(); }

   private:
    std::unique_ptr<BlobWriter> real_;
    const Fault& fault_;
  };

  std::unique_ptr<BlobStore> real_;
  const Fault& fault_;
};

class StoreFaults : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("postino-faults-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    SqliteOptions o;
    o.data_dir = dir_;
    o.wrap_blob_store = [this](std::unique_ptr<BlobStore> real) {
      return std::unique_ptr<BlobStore>(new FaultyBlobStore(std::move(real), fault_));
    };
    store_ = std::move(*open_sqlite_store(o));
    ASSERT_TRUE(store_->create_domain("example.test"));
    ASSERT_TRUE(store_->create_account("demo@example.test", "$5$rounds=1000$salt$x", ""));
    demo_ = store_->find_account("demo@example.test")->id;
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }
  // Nothing of a failed save is anywhere.
  void expect_nothing_kept() {
    const auto inbox = store_->mailbox(demo_, "INBOX");
    EXPECT_EQ(inbox->messages, 0);
    EXPECT_EQ(inbox->uid_next, Uid(1));
    EXPECT_EQ(store_->quota_usage(demo_)->messages, 0);
    EXPECT_TRUE(fs::is_empty(dir_ / "blobs" / "new"));
    EXPECT_TRUE(fs::is_empty(dir_ / "blobs" / "tmp"));
    EXPECT_TRUE(store_->fsck(false)->problems.empty());
  }

  Fault fault_ = Fault::none;
  fs::path dir_;
  std::unique_ptr<Store> store_;
  AccountId demo_{0};
};

TEST_F(StoreFaults, AWriteThatFindsTheDiskFullIsNoSpaceAndKeepsNothing) {
  fault_ = Fault::write_no_space;
  auto saved = store_->append(demo_, "INBOX", "Subject: x\r\n\r\nbody\r\n", {});
  ASSERT_FALSE(saved);
  EXPECT_EQ(saved.error().kind, ErrorKind::no_space);  // SMTP 452 4.3.1, IMAP [UNAVAILABLE]
  auto delivered = store_->deliver({demo_}, "Subject: y\r\n\r\nbody\r\n");
  ASSERT_FALSE(delivered);
  EXPECT_EQ(delivered.error().kind, ErrorKind::no_space);
  expect_nothing_kept();
  fault_ = Fault::none;
  auto later = store_->append(demo_, "INBOX", "Subject: x\r\n\r\nbody\r\n", {});
  ASSERT_TRUE(later);
  EXPECT_EQ(later->uid, Uid(1));
}

TEST_F(StoreFaults, AFailedFsyncIsNeverTakenForSuccess) {
  fault_ = Fault::sync_io_error;
  auto saved = store_->append(demo_, "INBOX", "Subject: x\r\n\r\nbody\r\n", {});
  ASSERT_FALSE(saved);
  EXPECT_EQ(saved.error().kind, ErrorKind::temporary);  // SMTP 451, IMAP [UNAVAILABLE]
  expect_nothing_kept();
  fault_ = Fault::none;
  ASSERT_TRUE(store_->append(demo_, "INBOX", "Subject: x\r\n\r\nbody\r\n", {}));
  EXPECT_EQ(store_->mailbox(demo_, "INBOX")->messages, 1);
}

}  // namespace
}  // namespace postino::store

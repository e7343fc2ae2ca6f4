// Content-addressed blobs in files; see blob_store.hpp.
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <mutex>
#include <optional>
#include <random>
#include <unordered_map>

#include "store/blob_store.hpp"
#include "store/file_io.hpp"
#include "store/no_wait.hpp"
#include "store/shared_sync.hpp"
#include "store/sync_metrics.hpp"

namespace postino::store {
namespace {

namespace fs = std::filesystem;

std::string to_hex(const unsigned char* bytes, unsigned len) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out.push_back(hex[bytes[i] >> 4]);
    out.push_back(hex[bytes[i] & 15]);
  }
  return out;
}

class FileBlobStore;

class FileBlobReader final : public BlobReader {
 public:
  explicit FileBlobReader(int fd) : fd_(fd) {}
  ~FileBlobReader() override { ::close(fd_); }
  Result<std::size_t> read(char* buffer, std::size_t n) override {
    for (;;) {
      const ssize_t got = ::read(fd_, buffer, n);
      if (got >= 0) return static_cast<std::size_t>(got);
      if (errno != EINTR) return io_error("read blob", errno);
    }
  }
  Result<std::size_t> read_at(std::uint64_t offset, char* buffer, std::size_t n) override {
    std::size_t done = 0;
    while (done < n) {
      const ssize_t got = ::pread(fd_, buffer + done, n - done, static_cast<off_t>(offset + done));
      if (got == 0) break;
      if (got > 0) {
        done += static_cast<std::size_t>(got);
      } else if (errno != EINTR) {
        return io_error("read blob", errno);
      }
    }
    return done;
  }

 private:
  int fd_;
};

class FileBlobWriter final : public BlobWriter {
 public:
  FileBlobWriter(FileBlobStore& store, int fd, fs::path tmp)
      : store_(store), fd_(fd), tmp_(std::move(tmp)), md_(EVP_MD_CTX_new()) {
    EVP_DigestInit_ex(md_, EVP_sha256(), nullptr);
  }
  ~FileBlobWriter() override {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(tmp_.c_str());
    EVP_MD_CTX_free(md_);
  }
  Result<void> append(std::string_view bytes) override;
  Result<std::string> commit() override;
  std::int64_t size() const override { return size_; }

 private:
  FileBlobStore& store_;
  int fd_;
  fs::path tmp_;
  EVP_MD_CTX* md_;
  std::int64_t size_ = 0;
  bool committed_ = false;
};

class FileBlobStore final : public BlobStore {
 public:
  explicit FileBlobStore(fs::path dir) : dir_(std::move(dir)) {}

  // Where a promoted blob lives: one level of 256 directories ("blobs/ab/abcd…"), so a new
  // store creates at most 256 directories. Earlier versions used two levels
  // ("blobs/ab/cd/abcd…": a new directory for nearly every message until 65,536 existed,
  // the largest kernel cost of a save on a fresh store); blobs there are still read,
  // listed and removed (legacy_path).
  fs::path final_path(const std::string& id) const { return dir_ / id.substr(0, 2) / id; }
  fs::path legacy_path(const std::string& id) const {
    return dir_ / id.substr(0, 2) / id.substr(2, 2) / id;
  }
  fs::path staged_path(const std::string& id) const { return new_ / id; }

  // The blob's file wherever it may be (staged, promoted, at the legacy depth).
  Result<void> unlink_all(const std::string& id) const {
    for (const auto& path : {staged_path(id), final_path(id), legacy_path(id)}) {
      if (::unlink(path.c_str()) != 0 && errno != ENOENT)
        return io_error("remove blob " + id, errno);
    }
    return {};
  }

  Result<void> ensure_dirs() {
    if (dirs_ready_.load(std::memory_order_acquire)) return {};
    std::error_code ec;
    fs::create_directories(tmp_, ec);
    if (!ec) fs::create_directories(new_, ec);
    if (ec)
      return make_error(ErrorKind::temporary, "create " + dir_.string() + ": " + ec.message());
    if (auto r = fsync_dir(dir_); !r) return r;
    dirs_ready_.store(true, std::memory_order_release);
    return {};
  }

  Result<std::unique_ptr<BlobWriter>> begin() override {
    if (auto r = ensure_dirs(); !r) return r.error();
    thread_local std::mt19937_64 rng{std::random_device{}()};
    const auto tmp = tmp_ / ("blob." + std::to_string(::getpid()) + "." + std::to_string(rng()));
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return io_error("create " + tmp.string(), errno);
    return std::unique_ptr<BlobWriter>(new FileBlobWriter(*this, fd, tmp));
  }

  // Moves a finished, fsynced temporary file into new/ and makes the name durable (one
  // fsync of new/ for the saves that arrive together).
  Result<void> stage(const fs::path& tmp, const std::string& id) {
    const auto target = staged_path(id);
    if (::rename(tmp.c_str(), target.c_str()) != 0)
      return io_error("rename to " + target.string(), errno);
    return new_sync_.sync();
  }

  Result<void> promote(const std::string& id) override {
    if (!is_blob_id(id)) return make_error(ErrorKind::invalid, "bad blob id");
    const auto from = staged_path(id);
    if (::access(from.c_str(), F_OK) != 0) return {};
    const auto to = final_path(id);
    std::error_code ec;
    fs::create_directories(to.parent_path(), ec);
    if (ec)
      return make_error(ErrorKind::temporary,
                        "create " + to.parent_path().string() + ": " + ec.message());
    // No fsync needed: rename is atomic, and after a crash the blob is found in new/ or in
    // its final place, both of which read() looks at.
    if (::rename(from.c_str(), to.c_str()) != 0 && errno != ENOENT) {
      return io_error("rename to " + to.string(), errno);
    }
    return {};
  }

  void pin(const std::string& id) {
    std::lock_guard lock(pins_mutex_);
    ++pins_[id];
  }

  void unpin(const std::string& id) override {
    std::lock_guard lock(pins_mutex_);
    if (auto it = pins_.find(id); it != pins_.end() && --it->second == 0) {
      pins_.erase(it);
      (void)promote(id);  // a failed promotion leaves it staged: still readable, retried at start
    }
  }

  void unpin_uncommitted(const std::string& id) override {
    std::lock_guard lock(pins_mutex_);
    if (auto it = pins_.find(id); it != pins_.end() && --it->second == 0) pins_.erase(it);
  }

  Result<bool> remove_if(const std::string& id,
                         const std::function<bool()>& is_unreferenced) override {
    if (!is_blob_id(id)) return make_error(ErrorKind::invalid, "bad blob id");
    // Holding the pin lock: a save of the same content pins before it stages, so it either
    // happened-before (and is_unreferenced() sees its row) or waits for us.
    std::lock_guard lock(pins_mutex_);
    if (pins_.contains(id) || !is_unreferenced()) return false;
    if (auto r = unlink_all(id); !r) return r.error();
    return true;
  }

  Result<std::vector<std::string>> remove_all_if(const std::vector<std::string>& ids,
                                                 const Unreferenced& unreferenced) override {
    for (const auto& id : ids) {
      if (!is_blob_id(id)) return make_error(ErrorKind::invalid, "bad blob id");
    }
    std::lock_guard lock(pins_mutex_);  // as in remove_if()
    std::vector<std::string> free;
    for (const auto& id : ids) {
      if (!pins_.contains(id)) free.push_back(id);
    }
    auto gone = unreferenced(free);
    std::optional<Error> failed;
    for (const auto& id : gone) {
      if (auto r = unlink_all(id); !r && !failed) failed = r.error();
    }
    if (failed) return *failed;
    return gone;
  }

  Result<std::string> read(const std::string& id) override {
    // Files are not read without waiting: only the database's reads are (no_wait.hpp).
    if (no_wait()) return make_error(ErrorKind::would_block, "blob files are read on a worker");
    auto opened = open_fd(id);
    if (!opened) return opened.error();
    const int fd = *opened;
    std::string out;
    char buf[65536];
    for (;;) {
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0) {
        if (errno == EINTR) continue;
        const int err = errno;
        ::close(fd);
        return io_error("read blob " + id, err);
      }
      if (n == 0) break;
      out.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return out;
  }

  Result<std::unique_ptr<BlobReader>> open(const std::string& id) override {
    if (no_wait()) return make_error(ErrorKind::would_block, "blob files are read on a worker");
    auto fd = open_fd(id);
    if (!fd) return fd.error();
    return std::unique_ptr<BlobReader>(new FileBlobReader(*fd));
  }

  Result<struct stat> stat_blob(const std::string& id) {
    struct stat st {};
    if (!is_blob_id(id)) return make_error(ErrorKind::invalid, "bad blob id");
    if (::stat(final_path(id).c_str(), &st) == 0 || ::stat(staged_path(id).c_str(), &st) == 0 ||
        ::stat(final_path(id).c_str(), &st) == 0 || ::stat(legacy_path(id).c_str(), &st) == 0) {
      return st;
    }
    if (errno == ENOENT) return make_error(ErrorKind::not_found, "blob " + id + " is missing");
    return io_error("stat blob " + id, errno);
  }

  Result<std::int64_t> size(const std::string& id) override {
    auto st = stat_blob(id);
    if (!st) return st.error();
    return static_cast<std::int64_t>(st->st_size);
  }

  Result<std::chrono::seconds> age(const std::string& id) override {
    auto st = stat_blob(id);
    if (!st) return st.error();
    return std::chrono::seconds(std::time(nullptr) - st->st_mtime);
  }

  bool exists(const std::string& id) override { return stat_blob(id).has_value(); }

  Result<std::vector<std::string>> list() override {
    std::vector<std::string> ids;
    std::error_code ec;
    if (!fs::exists(dir_)) return ids;
    for (auto it = fs::recursive_directory_iterator(dir_, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (it->path() == tmp_) {
        it.disable_recursion_pending();
        continue;
      }
      if (it->is_regular_file() && is_blob_id(it->path().filename().string())) {
        ids.push_back(it->path().filename().string());
      }
    }
    if (ec) return make_error(ErrorKind::temporary, "list blobs: " + ec.message());
    return ids;
  }

  Result<std::vector<std::string>> staged() override {
    std::vector<std::string> ids;
    std::error_code ec;
    if (!fs::exists(new_)) return ids;
    for (const auto& entry : fs::directory_iterator(new_, ec)) {
      if (is_blob_id(entry.path().filename().string()))
        ids.push_back(entry.path().filename().string());
    }
    if (ec) return make_error(ErrorKind::temporary, "list " + new_.string() + ": " + ec.message());
    return ids;
  }

  Result<bool> verify(const std::string& id) override {
    auto opened = open_fd(id);
    if (!opened) return opened.error();
    const int fd = *opened;
    // Hashed as it is read: bodies up to the largest message are never held whole.
    EVP_MD_CTX* md = EVP_MD_CTX_new();
    EVP_DigestInit_ex(md, EVP_sha256(), nullptr);
    char buf[65536];
    int err = 0;
    for (;;) {
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) err = errno;
      if (n <= 0) break;
      EVP_DigestUpdate(md, buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    EVP_DigestFinal_ex(md, digest, &len);
    EVP_MD_CTX_free(md);
    if (err != 0) return io_error("read blob " + id, err);
    return to_hex(digest, len) == id;
  }

  Result<bool> quarantine(const std::string& id, const fs::path& into,
                          const std::function<bool()>& confirm) override {
    if (!is_blob_id(id)) return make_error(ErrorKind::invalid, "bad blob id");
    std::lock_guard lock(pins_mutex_);
    if (pins_.contains(id)) return false;
    // Checked again under the lock: a save of the same content may have mended it since.
    if (auto ok = verify(id); ok ? *ok : ok.error().kind != ErrorKind::not_found) return false;
    if (!confirm()) return false;
    std::error_code ec;
    fs::create_directories(into, ec);
    if (ec)
      return make_error(ErrorKind::temporary, "create " + into.string() + ": " + ec.message());
    int moved = 0;
    for (const auto& path : {staged_path(id), final_path(id), legacy_path(id)}) {
      const auto target = into / (moved == 0 ? id : id + "." + std::to_string(moved));
      if (::rename(path.c_str(), target.c_str()) == 0) {
        ++moved;
      } else if (errno != ENOENT) {
        return io_error("move blob " + id + " to " + into.string(), errno);
      }
    }
    if (moved > 0) {
      if (auto r = fsync_dir(into); !r) return r.error();
    }
    return true;
  }

  Result<std::size_t> recover() override {
    std::size_t removed = 0;
    std::error_code ec;
    if (!fs::exists(tmp_)) return removed;
    for (const auto& entry : fs::directory_iterator(tmp_, ec)) {
      if (fs::remove(entry.path(), ec)) ++removed;
    }
    if (ec) return make_error(ErrorKind::temporary, "clean " + tmp_.string() + ": " + ec.message());
    return removed;
  }

 private:
  // A blob opened for reading: promoted, or still staged (committed before promotion).
  Result<int> open_fd(const std::string& id) {
    if (!is_blob_id(id)) return make_error(ErrorKind::invalid, "bad blob id");
    // Final, staged, final again (promoted in between), then the old layout.
    int fd = -1;
    for (const auto& path : {final_path(id), staged_path(id), final_path(id), legacy_path(id)}) {
      fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd >= 0 || errno != ENOENT) break;
    }
    if (fd < 0) {
      if (errno == ENOENT) return make_error(ErrorKind::not_found, "blob " + id + " is missing");
      return io_error("open blob " + id, errno);
    }
    return fd;
  }

  fs::path dir_;
  fs::path tmp_ = dir_ / "tmp";
  fs::path new_ = dir_ / "new";
  SharedSync new_sync_{[this] { return fsync_dir(new_); }};
  // Set once the directories exist; savers on several threads look at it (two may both
  // create them: that is harmless).
  std::atomic<bool> dirs_ready_{false};
  std::mutex pins_mutex_;
  std::unordered_map<std::string, int> pins_;
};

Result<void> FileBlobWriter::append(std::string_view bytes) {
  EVP_DigestUpdate(md_, bytes.data(), bytes.size());
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd_, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error("write blob", errno);
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
    size_ += n;
  }
  return {};
}

Result<std::string> FileBlobWriter::commit() {
  if (committed_) return make_error(ErrorKind::invalid, "blob already committed");
  if (timed_fsync(fd_, Sync::file) != 0) return io_error("fsync blob", errno);
  if (::close(fd_) != 0) {
    fd_ = -1;
    return io_error("close blob", errno);
  }
  fd_ = -1;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_DigestFinal_ex(md_, md, &len);
  const auto id = to_hex(md, len);
  store_.pin(id);
  if (auto r = store_.stage(tmp_, id); !r) {
    store_.unpin(id);
    return r.error();
  }
  committed_ = true;
  return id;
}

}  // namespace

bool is_blob_id(std::string_view id) {
  if (id.size() != 64) return false;
  for (char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string blob_id_for(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &len, EVP_sha256(), nullptr);
  return to_hex(digest, len);
}

namespace {

class MemoryBlobReader final : public BlobReader {
 public:
  explicit MemoryBlobReader(std::string bytes) : bytes_(std::move(bytes)) {}
  Result<std::size_t> read(char* buffer, std::size_t n) override {
    const auto got = read_at(position_, buffer, n);
    position_ += *got;
    return got;
  }
  Result<std::size_t> read_at(std::uint64_t offset, char* buffer, std::size_t n) override {
    if (offset >= bytes_.size()) return std::size_t{0};
    const auto got = std::min<std::uint64_t>(n, bytes_.size() - offset);
    std::memcpy(buffer, bytes_.data() + offset, got);
    return static_cast<std::size_t>(got);
  }

 private:
  std::string bytes_;
  std::uint64_t position_ = 0;
};

}  // namespace

std::unique_ptr<BlobReader> make_memory_blob_reader(std::string bytes) {
  return std::make_unique<MemoryBlobReader>(std::move(bytes));
}

Result<std::string> BlobStore::put(std::string_view bytes) {
  auto writer = begin();
  if (!writer) return writer.error();
  if (auto r = (*writer)->append(bytes); !r) return r.error();
  auto id = (*writer)->commit();
  if (id) unpin(*id);  // nothing to wait for: the caller holds no metadata
  return id;
}

std::unique_ptr<BlobStore> make_file_blob_store(const std::filesystem::path& dir) {
  return std::make_unique<FileBlobStore>(dir);
}

}  // namespace postino::store

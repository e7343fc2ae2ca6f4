// Message bodies appended to segment files; see body_log.hpp.
#include "store/body_log.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <ctime>

#include "store/file_io.hpp"
#include "store/no_wait.hpp"
#include "store/sync_metrics.hpp"

namespace postino::store {
namespace {

namespace fs = std::filesystem;

// "0000000042.seg" for segment 42; 0 for any other name.
std::int64_t segment_id(const std::string& name) {
  constexpr std::string_view suffix = ".seg";
  if (name.size() <= suffix.size() || !name.ends_with(suffix)) return 0;
  std::int64_t id = 0;
  const auto* end = name.data() + name.size() - suffix.size();
  auto [p, ec] = std::from_chars(name.data(), end, id);
  return ec == std::errc{} && p == end && id > 0 ? id : 0;
}

std::string segment_name(std::int64_t id) {
  auto digits = std::to_string(id);
  if (digits.size() < 10) digits.insert(0, 10 - digits.size(), '0');
  return digits + ".seg";
}

// Reads [offset, offset + n) whole. Inside a NoWaitScope only from the page cache
// (preadv2 RWF_NOWAIT): would_block when any of it would wait for the disk.
Result<void> read_exactly(int fd, std::int64_t segment, char* buffer, std::size_t n,
                          std::uint64_t offset) {
  const bool nowait = no_wait();
  std::size_t done = 0;
  while (done < n) {
    iovec v{buffer + done, n - done};
    const ssize_t got =
        ::preadv2(fd, &v, 1, static_cast<off_t>(offset + done), nowait ? RWF_NOWAIT : 0);
    if (got > 0) {
      done += static_cast<std::size_t>(got);
      continue;
    }
    if (got == 0) {
      return make_error(ErrorKind::not_found,
                        "body segment " + std::to_string(segment) + " ends before the body does");
    }
    if (errno == EINTR) continue;
    if (nowait && (errno == EAGAIN || errno == EOPNOTSUPP)) {
      note_would_block();
      return make_error(ErrorKind::would_block, "body not in memory");
    }
    return io_error("read body segment " + std::to_string(segment), errno);
  }
  return {};
}

}  // namespace

struct BodyLog::File {
  File(std::int64_t id, int fd) : id(id), fd(fd) {}
  ~File() { ::close(fd); }
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  std::int64_t id;
  int fd;
};

namespace {

class SegmentReader final : public BlobReader {
 public:
  SegmentReader(std::shared_ptr<const void> keep, int fd, BodyPlace place)
      : keep_(std::move(keep)), fd_(fd), place_(place) {}
  Result<std::size_t> read(char* buffer, std::size_t n) override {
    auto got = read_at(position_, buffer, n);
    if (got) position_ += *got;
    return got;
  }
  Result<std::size_t> read_at(std::uint64_t offset, char* buffer, std::size_t n) override {
    const auto size = static_cast<std::uint64_t>(place_.size);
    if (offset >= size) return std::size_t{0};
    n = static_cast<std::size_t>(std::min<std::uint64_t>(n, size - offset));
    auto r = read_exactly(fd_, place_.segment, buffer, n,
                          static_cast<std::uint64_t>(place_.offset) + offset);
    if (!r) return r.error();
    return n;
  }

 private:
  std::shared_ptr<const void> keep_;  // the File, open while this reads it
  int fd_;
  BodyPlace place_;
  std::uint64_t position_ = 0;
};

}  // namespace

BodyLog::BodyLog(fs::path dir, std::uint64_t segment_bytes, std::function<int(int)> datasync)
    : dir_(std::move(dir)),
      segment_bytes_(std::max<std::uint64_t>(1, segment_bytes)),
      datasync_(std::move(datasync)),
      sync_([this] { return sync_current(); }) {}

BodyLog::~BodyLog() = default;

Result<void> BodyLog::start_segment() {
  if (current_) {
    // No place in it is reported durable by sync() unless this succeeds.
    static auto& rotation = sync_duration("file");
    const auto began = std::chrono::steady_clock::now();
    if (datasync_(current_->fd) != 0) failed_.insert(current_->id);
    rotation.observe(std::chrono::steady_clock::now() - began);
    ::flock(current_->fd, LOCK_UN);  // finished: another process may compact or remove it
    current_.reset();
  }
  std::error_code ec;
  if (fs::create_directories(dir_, ec)) {
    // segments/ itself is durable in the data directory before any place in it is named.
    if (auto r = fsync_dir(dir_.parent_path()); !r) return r;
  }
  if (ec) return make_error(ErrorKind::temporary, "create " + dir_.string() + ": " + ec.message());
  std::int64_t next = 1;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    next = std::max(next, segment_id(entry.path().filename().string()) + 1);
  }
  if (ec) return make_error(ErrorKind::temporary, "list " + dir_.string() + ": " + ec.message());
  for (;; ++next) {
    const auto path = dir_ / segment_name(next);
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 && errno == EEXIST) continue;  // another process took it
    if (fd < 0) return io_error("create " + path.string(), errno);
    auto file = std::make_shared<File>(next, fd);
    // Held while this process appends (a process that tests it meanwhile lets go at once).
    while (::flock(fd, LOCK_EX) != 0) {
      if (errno != EINTR) return io_error("lock " + path.string(), errno);
    }
    // The new name is durable before any commit names a place in it.
    if (auto r = fsync_dir(dir_); !r) return r;
    current_ = file;
    open_[next] = std::move(file);
    trim_open(next);
    end_ = 0;
    return {};
  }
}

Result<BodyPlace> BodyLog::append(std::string_view bytes) {
  std::lock_guard lock(mutex_);
  if (!current_ || end_ >= segment_bytes_) {
    if (auto r = start_segment(); !r) return r.error();
  }
  // Written under the lock: the place is the segment's end, and a rotation never leaves
  // a write behind (~25 us for 100 KB into the page cache).
  const BodyPlace place{current_->id, static_cast<std::int64_t>(end_),
                        static_cast<std::int64_t>(bytes.size())};
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::pwrite(current_->fd, bytes.data() + done, bytes.size() - done,
                               static_cast<off_t>(end_ + done));
    if (n > 0) {
      done += static_cast<std::size_t>(n);
    } else if (n < 0 && errno != EINTR) {
      // What was written is dead space; the next append writes after it.
      const int err = errno;
      end_ += done;
      return io_error("write body segment " + std::to_string(current_->id), err);
    }
  }
  end_ += done;
  return place;
}

Result<void> BodyLog::sync_current() {
  std::shared_ptr<File> file;
  {
    std::lock_guard lock(mutex_);
    file = current_;
  }
  if (!file) return {};
  static auto& duration = sync_duration("file");
  const auto began = std::chrono::steady_clock::now();
  const int rc = datasync_(file->fd);
  const int err = errno;
  duration.observe(std::chrono::steady_clock::now() - began);
  if (rc == 0) return {};
  std::lock_guard lock(mutex_);
  failed_.insert(file->id);
  if (current_ == file) current_.reset();
  return io_error("fdatasync body segment " + std::to_string(file->id), err);
}

Result<void> BodyLog::sync(const std::vector<BodyPlace>& places) {
  const auto failed = [&]() -> Result<void> {
    for (const auto& p : places) {
      if (failed_.contains(p.segment)) {
        return make_error(ErrorKind::temporary,
                          "body segment " + std::to_string(p.segment) + " failed to sync");
      }
    }
    return {};
  };
  {
    std::lock_guard lock(mutex_);
    if (auto r = failed(); !r) return r;
    // A segment no longer appended to was synced as the next one began.
    const bool in_current = current_ && std::any_of(places.begin(), places.end(), [&](auto& p) {
                              return p.segment == current_->id;
                            });
    if (!in_current) return {};
  }
  if (auto r = sync_.sync(); !r) return r;
  std::lock_guard lock(mutex_);
  return failed();
}

void BodyLog::trim_open(std::int64_t keep) {
  // Segments are kept open for the next read, a bounded number of them: a store of a
  // terabyte has 16,000 (a reader holding one keeps it open as long as it needs it).
  if (open_.size() <= max_open_segments) return;
  for (auto i = open_.begin(); i != open_.end() && open_.size() > max_open_segments / 2;) {
    if (i->second == current_ || i->first == keep) {
      ++i;
    } else {
      i = open_.erase(i);
    }
  }
}

Result<std::shared_ptr<BodyLog::File>> BodyLog::file_for(std::int64_t id) {
  {
    std::lock_guard lock(mutex_);
    if (auto it = open_.find(id); it != open_.end()) return it->second;
  }
  if (no_wait()) {
    note_would_block();
    return make_error(ErrorKind::would_block, "body segment not open");
  }
  const auto path = dir_ / segment_name(id);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT) {
      return make_error(ErrorKind::not_found, "body segment " + std::to_string(id) + " is missing");
    }
    return io_error("open " + path.string(), err);
  }
  auto file = std::make_shared<File>(id, fd);
  std::lock_guard lock(mutex_);
  auto [it, added] = open_.emplace(id, file);
  auto found = it->second;
  trim_open(id);
  return found;
}

Result<std::string> BodyLog::read(const BodyPlace& place) {
  auto file = file_for(place.segment);
  if (!file) return file.error();
  std::string out(static_cast<std::size_t>(place.size), '\0');
  if (auto r = read_exactly((*file)->fd, place.segment, out.data(), out.size(),
                            static_cast<std::uint64_t>(place.offset));
      !r) {
    return r.error();
  }
  return out;
}

Result<std::unique_ptr<BlobReader>> BodyLog::open(const BodyPlace& place) {
  auto file = file_for(place.segment);
  if (!file) return file.error();
  const int fd = (*file)->fd;
  return std::unique_ptr<BlobReader>(
      std::make_unique<SegmentReader>(std::shared_ptr<const void>(*file), fd, place));
}

namespace {

// Whether a process holds the segment's lock (appends to it). With `keep`, the lock is
// taken and the descriptor returned open, holding it, when nobody else does.
Result<bool> locked_elsewhere(const fs::path& path, int* keep = nullptr) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return errno == ENOENT ? Result<bool>(false) : io_error("open " + path.string(), errno);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) return true;
    return io_error("lock " + path.string(), err);
  }
  if (keep) {
    *keep = fd;
  } else {
    ::close(fd);
  }
  return false;
}

}  // namespace

Result<std::vector<BodyLog::Segment>> BodyLog::segments() {
  std::vector<Segment> out;
  std::error_code ec;
  if (!fs::exists(dir_, ec)) return out;
  std::int64_t current = 0;
  {
    std::lock_guard lock(mutex_);
    if (current_) current = current_->id;
  }
  const auto now = std::time(nullptr);
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    const auto id = segment_id(entry.path().filename().string());
    if (id == 0) continue;
    struct stat st {};
    if (::stat(entry.path().c_str(), &st) != 0) continue;  // removed meanwhile
    bool in_use = id == current;
    if (!in_use) {
      auto locked = locked_elsewhere(entry.path());
      if (!locked) return locked.error();
      in_use = *locked;
    }
    out.push_back({id, static_cast<std::uint64_t>(st.st_size),
                   std::chrono::seconds(std::max<std::int64_t>(0, now - st.st_mtime)), in_use});
  }
  if (ec) return make_error(ErrorKind::temporary, "list " + dir_.string() + ": " + ec.message());
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return out;
}

Result<bool> BodyLog::remove(std::int64_t id) {
  {
    std::lock_guard lock(mutex_);
    if (current_ && current_->id == id) return false;
  }
  const auto path = dir_ / segment_name(id);
  int held = -1;
  auto locked = locked_elsewhere(path, &held);
  if (!locked) return locked.error();
  if (*locked) return false;
  // Unlinked while its lock is held: no process can have started appending to it since.
  const int rc = ::unlink(path.c_str());
  const int err = errno;
  if (held >= 0) ::close(held);
  if (rc != 0 && err != ENOENT) return io_error("remove " + path.string(), err);
  std::lock_guard lock(mutex_);
  open_.erase(id);
  return true;
}

}  // namespace postino::store

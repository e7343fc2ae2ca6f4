// DEFLATE for IMAP COMPRESS; see deflate.hpp.
#include "net/deflate.hpp"

#include <zlib.h>

namespace postino::net {

// The compressor's window and memory are smaller than zlib's defaults (15 and 8): the
// peer's inflater accepts any window, and a compressed connection then costs about 40 KB
// instead of 270 KB. The inflater must accept the peer's full 32 KB window (RFC 4978 §4).
namespace {
constexpr int deflate_window_bits = 12;
constexpr int deflate_mem_level = 5;
}  // namespace

struct Deflate::Streams {
  z_stream in{};
  z_stream out{};
  bool in_ready = false, out_ready = false;
  ~Streams() {
    if (in_ready) inflateEnd(&in);
    if (out_ready) deflateEnd(&out);
  }
};

Deflate::Deflate() : z_(std::make_unique<Streams>()) {
  z_->in_ready = inflateInit2(&z_->in, -15) == Z_OK;
  z_->out_ready = deflateInit2(&z_->out, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -deflate_window_bits,
                               deflate_mem_level, Z_DEFAULT_STRATEGY) == Z_OK;
  ok_ = z_->in_ready && z_->out_ready;
}

Deflate::~Deflate() = default;

bool Deflate::compress(std::string_view bytes, std::string& out) {
  auto& s = z_->out;
  s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  s.avail_in = static_cast<uInt>(bytes.size());
  do {
    const auto before = out.size();
    const std::size_t room = bytes.size() / 2 + 64;
    out.resize(before + room);
    s.next_out = reinterpret_cast<Bytef*>(out.data() + before);
    s.avail_out = static_cast<uInt>(room);
    const int r = deflate(&s, Z_SYNC_FLUSH);
    out.resize(before + room - s.avail_out);
    if (r != Z_OK && r != Z_BUF_ERROR) return false;
  } while (s.avail_out == 0 || s.avail_in > 0);
  return true;
}

Deflate::Result Deflate::inflate(std::string& out, std::size_t max_output) {
  auto& s = z_->in;
  const auto before = out.size();
  out.resize(before + max_output);
  s.next_in = reinterpret_cast<Bytef*>(pending_.data());
  s.avail_in = static_cast<uInt>(pending_.size());
  s.next_out = reinterpret_cast<Bytef*>(out.data() + before);
  s.avail_out = static_cast<uInt>(max_output);
  const int r = ::inflate(&s, Z_SYNC_FLUSH);
  out.resize(before + max_output - s.avail_out);
  pending_.erase(0, pending_.size() - s.avail_in);
  output_was_full_ = s.avail_out == 0;
  if (r == Z_OK || (r == Z_BUF_ERROR && out.size() == before)) return Result::ok;
  return Result::error;  // Z_STREAM_END, Z_DATA_ERROR, Z_NEED_DICT, Z_MEM_ERROR
}

}  // namespace postino::net

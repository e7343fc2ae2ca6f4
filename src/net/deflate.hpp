// IMAP COMPRESS=DEFLATE (RFC 4978): raw DEFLATE (RFC 1951) in both directions of a
// connection, one stream each way for the connection's life. zlib does the compressing;
// this class bounds what one step may inflate, so that a small compressed input (a
// "decompression bomb") never becomes a large buffer: the session sees at most
// `max_output` bytes per step, as from an uncompressed read, and its line and literal
// limits hold.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace postino::net {

class Deflate {
 public:
  Deflate();
  ~Deflate();
  Deflate(const Deflate&) = delete;
  Deflate& operator=(const Deflate&) = delete;

  // True when zlib could set both streams up.
  bool is_ready() const { return ok_; }

  // Compresses `bytes` and flushes (Z_SYNC_FLUSH), so the peer can read all of it now.
  // False when zlib fails.
  bool compress(std::string_view bytes, std::string& out);

  // Takes compressed bytes from the peer; inflate() then turns them into text.
  void feed(std::string_view compressed) { pending_.append(compressed); }
  enum class Result { ok, error };
  // Appends at most `max_output` inflated bytes to `out`. error: the data is not DEFLATE,
  // or the peer ended its stream (RFC 4978 has no end but the connection's).
  Result inflate(std::string& out, std::size_t max_output);
  // True when inflate() has more to give without another feed().
  bool has_pending() const { return !pending_.empty() || output_was_full_; }

 private:
  struct Streams;
  std::unique_ptr<Streams> z_;
  std::string pending_;  // compressed bytes not yet inflated
  bool output_was_full_ = false;
  bool ok_ = false;
};

}  // namespace postino::net

// Whole protocol sessions for fuzzing, driven as net/ drives them but in memory: one
// SQLite store in a temporary directory for the process (started over every so many
// inputs, so that state builds up as on a live server but not without end), work and
// streamed responses run inline, and the client's bytes fed in pieces.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include "auth/authenticator.hpp"
#include "auth/failure_throttle.hpp"
#include "base/log.hpp"
#include "fuzz.hpp"
#include "net/session.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace postino::fuzz {

class FuzzStore {
 public:
  // The store, fresh every `runs_per_store` calls.
  static FuzzStore& get() {
    static FuzzStore instance;
    // Every 200 inputs, or once COPY and APPEND have filled INBOX: runs stay fast.
    const auto inbox = instance.store_->mailbox(instance.demo_, "INBOX");
    if (++instance.runs_ > 200 || !inbox || inbox->messages > 100) instance.reset();
    return instance;
  }
  ~FuzzStore() {
    authenticator_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  store::Store& store() { return *store_; }
  auth::Authenticator& authenticator() { return *authenticator_; }

 private:
  FuzzStore() {
    base::log::init(base::log::Level::error, base::log::Format::logfmt);  // quiet runs
    reset();
  }
  void reset() {
    authenticator_.reset();
    store_.reset();
    // On tmpfs when there is one: the store syncs every write, which is slow on a disk.
    const std::filesystem::path shm = "/dev/shm";
    dir_ = (std::filesystem::is_directory(shm) ? shm : std::filesystem::temp_directory_path()) /
           ("postino-fuzz-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    store::SqliteOptions o;
    o.data_dir = dir_;
    store_ = *store::open_sqlite_store(o);
    // SHA-256-crypt with the fewest rounds: a login costs well under a millisecond.
    const std::string hash =
        "$5$rounds=1000$fuzzsaltfuzzsalt$JvPf/6fPn8mqXwJItX7ObMUNo0863gvfPGMEuHeSIc0";
    FUZZ_CHECK(store_->create_domain("example.test").has_value());
    FUZZ_CHECK(store_->create_account("demo@example.test", hash, "").has_value());
    FUZZ_CHECK(store_->create_account("bob@example.test", hash, "").has_value());
    const auto demo = store_->find_account("demo@example.test")->id;
    FUZZ_CHECK(
        store_->deliver({demo}, "From: a@b\r\nSubject: one\r\nMessage-ID: <1@b>\r\n\r\nbody\r\n")
            .has_value());
    FUZZ_CHECK(store_
                   ->deliver({demo},
                             "Subject: two\r\nContent-Type: multipart/mixed; "
                             "boundary=x\r\n\r\n--x\r\n\r\npart\r\n--x--\r\n")
                   .has_value());
    authenticator_ = std::make_unique<auth::Authenticator>(*store_, throttle_, "fuzz");
    runs_ = 0;
  }

  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
  auth::FailureThrottle throttle_{
      {std::chrono::milliseconds(0), std::chrono::milliseconds(0), std::chrono::seconds(1), 100}};
  std::unique_ptr<auth::Authenticator> authenticator_;
  store::AccountId demo_{0};
  int runs_ = 0;
};

// Feeds `script` (the harness's own bytes) then `data` in pieces of `piece` bytes to a
// session, as net/ would; stops when the session closes. Returns what it wrote.
inline std::string drive(net::ProtocolSession& session, std::string_view script,
                         std::string_view data, std::size_t piece) {
  std::string written = session.greet().bytes;
  std::string input(script);
  bool closed = false;
  auto run = [&](net::Output out) {
    written += out.bytes;
    for (int guard = 0; out.after == net::After::work && guard < 100000; ++guard) {
      if (out.stream) {
        for (std::string p; !(p = net::next_piece(out.stream)).empty();) written += p;
      } else if (out.work) {
        out.work();
      }
      out = session.resume(input);
      written += out.bytes;
    }
    if (out.after == net::After::start_tls)
      session.tls_started({"TLSv1.3", "TLS_AES_128_GCM_SHA256"});
    if (out.after == net::After::close) closed = true;
  };
  run(session.receive(input));
  for (std::size_t at = 0; at < data.size() && !closed; at += piece) {
    input.append(data.substr(at, piece));
    run(session.receive(input));
  }
  return written;
}

}  // namespace postino::fuzz

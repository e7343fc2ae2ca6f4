// See scheduler.hpp. One thread runs the event loop (deliveries, DNS); store calls and
// reads of queued messages go to a small worker pool, never block the loop.
#include "outbound/scheduler.hpp"

#include <map>
#include <optional>
#include <random>
#include <thread>

#include "base/ascii.hpp"
#include "base/log.hpp"
#include "base/metrics.hpp"
#include "dkim/signer.hpp"
#include "outbound/delivery.hpp"
#include "outbound/resolver.hpp"

namespace postino::outbound {
namespace {

namespace asio = net::asio;
using smtp::DsnRecipient;
using smtp::client::Transaction;
constexpr auto token = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t piece_bytes = 64 * 1024;

std::string domain_of(const std::string& address) {
  const auto at = address.rfind('@');
  return at == std::string::npos ? "" : base::to_lower(std::string_view(address).substr(at + 1));
}

// RFC 3461 §4.1: a failure report unless NOTIFY was given without FAILURE (or NEVER).
bool wants_failure_report(std::uint32_t notify) {
  return notify == 0 || (notify & 4) != 0;
}

// What one attempt decided for one recipient.
struct Decision {
  Transaction::Status status = Transaction::Status::pending;
  std::string reply;
  std::string remote_host;
  bool peer_offers_dsn = false;
};

// The enhanced status code of a reply ("550 5.1.1 …" → "5.1.1"), or the class of the
// outcome when the reply has none (RFC 3463; 4.4.7: delivery time expired).
std::string dsn_code(const std::string& reply, const std::string& event) {
  if (reply.size() > 9 && reply[3] == ' ' && std::isdigit(static_cast<unsigned char>(reply[4])) &&
      reply[5] == '.') {
    const auto end = reply.find(' ', 4);
    const auto code = reply.substr(4, end == std::string::npos ? std::string::npos : end - 4);
    if (code.find_first_not_of("0123456789.") == std::string::npos) return code;
  }
  if (event == "delivered") return "2.0.0";
  if (event == "expired") return "4.4.7";
  return event == "bounced" ? "5.0.0" : "4.0.0";
}

}  // namespace

struct Scheduler::Impl {
  Impl(store::Store& s, SchedulerSettings o) : store(s), settings(std::move(o)) {
    slot_freed.expires_at(std::chrono::steady_clock::time_point::max());
  }

  // Runs a blocking call on the worker pool and returns its result on the loop. `f`
  // captures by reference only: GCC 12 may destroy a temporary in a co_await expression
  // twice (GCC bug 99576), harmless only for trivially destructible ones.
  template <class F>
  asio::awaitable<std::invoke_result_t<F>> blocking(F f) {
    static_assert(std::is_trivially_destructible_v<F>);
    auto result = co_await asio::co_spawn(pool, call(std::move(f)), asio::use_awaitable);
    co_return std::move(*result);
  }
  // A coroutine that is a function, not a lambda: `f` lives in its frame. (The result is
  // wrapped because co_spawn needs a default-constructible one.)
  template <class F>
  static asio::awaitable<std::optional<std::invoke_result_t<F>>> call(F f) {
    co_return f();
  }

  asio::awaitable<void> run();
  asio::awaitable<void> process(store::QueueEntry entry);
  asio::awaitable<void> deliver(const store::QueueEntry& entry, std::vector<Decision>& decisions);
  asio::awaitable<void> finish(const store::QueueEntry& entry, std::vector<Decision>& decisions);
  asio::awaitable<void> acquire(const std::string& domain);
  void release(const std::string& domain);

  store::Store& store;
  SchedulerSettings settings;
  asio::io_context io{1};
  asio::thread_pool pool{2};
  std::unique_ptr<Resolver> resolver;
  std::shared_ptr<asio::ssl::context> tls;
  dkim::KeyRing dkim_keys;
  asio::steady_timer poll_timer{io};
  asio::steady_timer slot_freed{io};  // never expires; cancelled when a domain slot frees
  std::map<std::string, std::size_t> per_domain;
  std::size_t in_flight = 0;
  bool woken = false;
  std::mt19937 rng{std::random_device{}()};
  std::thread thread;
  bool running = false;
};

asio::awaitable<void> Scheduler::Impl::run() {
  const auto node = settings.node;
  auto released = co_await blocking([&] { return store.release_claims(node); });
  if (released && *released > 0) {
    base::log::info("", "queue_claims_released", {{"count", std::to_string(*released)}});
  }
  auto last_clamp = std::chrono::steady_clock::time_point{};
  for (;;) {
    woken = false;
    if (std::chrono::steady_clock::now() - last_clamp > std::chrono::minutes(1)) {
      // RELIABILITY F08: after the clock was set back, no message waits longer than the
      // longest backoff.
      last_clamp = std::chrono::steady_clock::now();
      const auto latest = std::chrono::system_clock::now() + settings.retry.max_backoff;
      auto clamped = co_await blocking([&] { return store.clamp_queue(latest); });
      if (clamped && *clamped > 0) {
        base::log::warn("", "queue_clamped", {{"count", std::to_string(*clamped)}});
      }
      // Keys made by `postino dkim generate` meanwhile are used from now on.
      std::vector<std::string> problems;
      dkim_keys = co_await blocking([&] {
        dkim::KeyRing ring;
        if (!settings.dkim_dir.empty()) problems = ring.load(settings.dkim_dir);
        return ring;
      });
      for (const auto& p : problems) base::log::warn("", "dkim_key_unusable", {{"detail", p}});
    }
    if (in_flight < settings.max_deliveries) {
      const auto now = std::chrono::system_clock::now();
      const auto room = settings.max_deliveries - in_flight;
      auto claimed = co_await blocking(
          [&] { return store.claim_queue(node, now, now + settings.lease, room); });
      if (!claimed) {
        base::log::warn("", "queue_claim_failed", {{"error", claimed.error().detail}});
      } else {
        for (auto& entry : *claimed) {
          ++in_flight;
          asio::co_spawn(io, process(std::move(entry)), [this](std::exception_ptr e) {
            --in_flight;
            if (e) {
              try {
                std::rethrow_exception(e);
              } catch (const std::exception& ex) {
                base::log::error("", "delivery_failed", {{"error", ex.what()}});
              }
            }
            woken = true;
            poll_timer.cancel();
          });
        }
      }
    }
    if (woken) continue;
    poll_timer.expires_after(settings.poll_interval);
    co_await poll_timer.async_wait(token);
  }
}

asio::awaitable<void> Scheduler::Impl::acquire(const std::string& domain) {
  while (per_domain[domain] >= settings.max_per_domain) co_await slot_freed.async_wait(token);
  ++per_domain[domain];
}

void Scheduler::Impl::release(const std::string& domain) {
  if (--per_domain[domain] == 0) per_domain.erase(domain);
  slot_freed.cancel();
}

asio::awaitable<void> Scheduler::Impl::process(store::QueueEntry entry) {
  std::vector<Decision> decisions(entry.recipients.size());
  if (entry.bounce_requested) {
    for (std::size_t i = 0; i < decisions.size(); ++i) {
      if (entry.statuses[i] == 0)
        decisions[i] = {Transaction::Status::permanent,
                        "554 5.0.0 Returned to the sender by the administrator", "", false};
    }
  } else {
    co_await deliver(entry, decisions);
  }
  co_await finish(entry, decisions);
}

asio::awaitable<void> Scheduler::Impl::deliver(const store::QueueEntry& entry,
                                               std::vector<Decision>& decisions) {
  const auto id = entry.queue_id;
  auto opened = co_await blocking([&] { return store.open_queued(id); });
  if (!opened) {
    for (std::size_t i = 0; i < decisions.size(); ++i)
      decisions[i] = {Transaction::Status::temporary,
                      "451 4.3.0 The queued message cannot be read: " + opened.error().detail, "",
                      false};
    co_return;
  }
  std::shared_ptr<store::BlobReader> reader = std::move(*opened);
  BodySource body = [this,
                     reader](std::uint64_t offset) -> asio::awaitable<std::optional<std::string>> {
    co_return co_await blocking([&]() -> std::optional<std::string> {
      std::string piece(piece_bytes, '\0');
      auto n = reader->read_at(offset, piece.data(), piece.size());
      if (!n) return std::nullopt;
      piece.resize(*n);
      return piece;
    });
  };
  // 8-bit content asks for BODY=8BITMIME (RFC 6152); an address that is not ASCII for
  // SMTPUTF8 (RFC 6531; UTF-8 in the header alone does not, as with Postfix).
  smtp::client::OutboundMessage message;
  message.sender = entry.sender;
  message.size = static_cast<std::uint64_t>(entry.size);
  message.envid = entry.envid;
  message.ret = entry.ret;
  message.needs_smtputf8 = !base::is_ascii(entry.sender);
  // One pass over the message: 8-bit content, and the DKIM body hash when we sign.
  dkim::MessageSigner signer;
  const bool may_sign = !dkim_keys.empty();
  for (std::uint64_t offset = 0; may_sign || !message.has_8bit;) {
    auto piece = co_await body(offset);
    if (!piece || piece->empty()) break;
    message.has_8bit = message.has_8bit || !base::is_ascii(*piece);
    if (may_sign) signer.feed(*piece);
    offset += piece->size();
  }
  std::string signature;
  if (may_sign) {
    if (const auto* keys = dkim_keys.find(signer.from_domain())) {
      signature = signer.sign(*keys, std::chrono::system_clock::now());
    }
  }
  if (!signature.empty()) {
    // The signature goes before the message; the queued bytes stay as they are.
    message.size += signature.size();
    body = [signature, stored = std::move(body)](
               std::uint64_t offset) -> asio::awaitable<std::optional<std::string>> {
      if (offset < signature.size()) co_return signature.substr(offset);
      co_return co_await stored(offset - signature.size());
    };
  }
  // The pending recipients by domain, each domain one delivery.
  std::map<std::string, std::vector<std::size_t>> domains;
  for (std::size_t i = 0; i < entry.recipients.size(); ++i) {
    if (entry.statuses[i] == 0) domains[domain_of(entry.recipients[i].address)].push_back(i);
  }
  for (const auto& [domain, indices] : domains) {
    auto m = message;
    for (auto i : indices) {
      const auto& r = entry.recipients[i];
      m.recipients.push_back({r.address, r.orcpt, r.notify});
      m.needs_smtputf8 = m.needs_smtputf8 || !base::is_ascii(r.address);
    }
    co_await acquire(domain);
    DomainOutcome outcome;
    const auto began = std::chrono::steady_clock::now();
    try {
      outcome = co_await deliver_to_domain(*resolver, settings.delivery, tls, domain, m, body, rng);
    } catch (...) {
      release(domain);
      throw;
    }
    release(domain);
    static auto& durations = base::metrics::histogram(
        "postino_delivery_duration_seconds",
        "Time of one delivery attempt to one domain: MX lookup, connections and transaction.");
    durations.with().observe(std::chrono::steady_clock::now() - began);
    for (std::size_t k = 0; k < indices.size(); ++k) {
      decisions[indices[k]] = {outcome.results[k].status, outcome.results[k].reply,
                               outcome.remote_host, outcome.peer_offers_dsn};
    }
  }
}

asio::awaitable<void> Scheduler::Impl::finish(const store::QueueEntry& entry,
                                              std::vector<Decision>& decisions) {
  const auto now = std::chrono::system_clock::now();
  const int attempts = entry.attempts + 1;
  const auto next = queue::next_attempt(settings.retry, entry.created, now, attempts);
  const auto retry_until = entry.created + settings.retry.lifetime;
  store::QueueAttempt attempt;
  attempt.next_attempt = next.value_or(now);
  std::vector<DsnRecipient> reports, delays;
  for (std::size_t i = 0; i < decisions.size(); ++i) {
    if (entry.statuses[i] != 0) continue;
    const auto& d = decisions[i];
    const auto& r = entry.recipients[i];
    DsnRecipient report{r.address, r.orcpt, DsnRecipient::Action::failed, d.reply, d.remote_host};
    std::string event;
    int status = 0;
    if (d.status == Transaction::Status::sent) {
      status = 1;
      event = "delivered";
      if ((r.notify & 2) && !d.peer_offers_dsn) {
        report.action = DsnRecipient::Action::relayed;
        reports.push_back(report);
      }
    } else if (d.status == Transaction::Status::permanent || !next) {
      status = 2;
      event = d.status == Transaction::Status::permanent ? "bounced" : "expired";
      if (wants_failure_report(r.notify)) reports.push_back(report);
    } else {
      event = "deferred";
      if (r.notify & 8) {
        report.action = DsnRecipient::Action::delayed;
        delays.push_back(report);
      }
    }
    attempt.recipients.push_back({i, status, d.reply});
    static auto& outcomes = base::metrics::counter(
        "postino_delivery_recipients_total",
        "Outbound recipients per delivery attempt, by outcome (delivered, deferred, bounced, "
        "expired).",
        {"outcome"});
    outcomes.with({event}).add();
    // Postfix-style: status=sent|deferred|bounced|expired, the relay, the delay since the
    // message arrived and the DSN code, under the message's queue id (`postino trace`).
    const auto delay = std::chrono::duration<double>(now - entry.created).count();
    base::log::info("", "delivery",
                    {{"queue_id", entry.queue_id},
                     {"to", "<" + r.address + ">"},
                     {"relay", d.remote_host.empty() ? "none" : d.remote_host},
                     {"status", event == "delivered" ? "sent" : event},
                     {"delay", base::log::seconds(delay)},
                     {"dsn", dsn_code(d.reply, event)},
                     {"attempt", std::to_string(attempts)},
                     {"reply", d.reply}});
  }
  if (next && !delays.empty() &&
      queue::delay_warning_due(settings.retry, entry.created, now, entry.delay_warned)) {
    reports.insert(reports.end(), delays.begin(), delays.end());
    attempt.delay_warned = true;
  }
  // The report is queued before the attempt is recorded: a crash between the two sends it
  // twice rather than never.
  if (!reports.empty() && !entry.sender.empty()) {
    const auto id = entry.queue_id;
    auto sent = co_await blocking([&]() -> store::Result<void> {
      auto reader = store.open_queued(id);
      if (!reader) return reader.error();
      std::string original(std::min<std::size_t>(static_cast<std::size_t>(entry.size),
                                                 report_read_limit(settings.report)),
                           '\0');
      auto n = (*reader)->read_at(0, original.data(), original.size());
      if (!n) return n.error();
      original.resize(*n);
      return send_report(store, settings.report, entry, reports, original, retry_until);
    });
    if (!sent) {
      base::log::error("", "report_failed",
                       {{"queue_id", entry.queue_id}, {"error", sent.error().detail}});
    }
  }
  const auto node = settings.node;
  auto recorded =
      co_await blocking([&] { return store.finish_attempt(entry.queue_id, node, attempt); });
  if (!recorded && recorded.error().kind != store::ErrorKind::not_found) {
    base::log::error("", "queue_record_failed",
                     {{"queue_id", entry.queue_id}, {"error", recorded.error().detail}});
  }
}

Scheduler::Scheduler(store::Store& store, SchedulerSettings settings)
    : impl_(std::make_unique<Impl>(store, std::move(settings))) {}

Scheduler::~Scheduler() {
  stop();
}

std::string Scheduler::start() {
  auto& i = *impl_;
  i.resolver = std::make_unique<Resolver>(i.io.get_executor(), i.settings.resolver);
  if (!i.resolver->error().empty()) return i.resolver->error();
  {
    // Opportunistic TLS (RFC 7435): encrypted whenever the peer offers it, certificates
    // not checked, as MX host names are not authenticated without DANE or MTA-STS.
    auto tls = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
    tls->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                     asio::ssl::context::no_sslv3);
    tls->set_verify_mode(asio::ssl::verify_none);
    i.tls = std::move(tls);
  }
  asio::co_spawn(i.io, i.run(), [](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      base::log::error("", "scheduler_stopped", {{"error", ex.what()}});
    }
  });
  i.running = true;
  i.thread = std::thread([&i] { i.io.run(); });
  return "";
}

void Scheduler::stop() {
  auto& i = *impl_;
  if (!i.running) return;
  i.running = false;
  i.io.stop();
  i.thread.join();
  i.pool.join();
  i.resolver.reset();
}

void Scheduler::wake() {
  asio::post(impl_->io, [&i = *impl_] {
    i.woken = true;
    i.poll_timer.cancel();
  });
}

}  // namespace postino::outbound

// See report.hpp.
#include "outbound/report.hpp"

#include <random>

#include "base/log.hpp"

namespace postino::outbound {
namespace {

std::string random_token() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (auto bits = rng(), i = decltype(bits){0}; i < 16; ++i, bits >>= 4)
    out.push_back(hex[bits & 15]);
  return out;
}

}  // namespace

std::size_t report_read_limit(const ReportSettings& settings) {
  return std::max<std::size_t>(settings.max_returned_bytes + 1, 1024 * 1024);
}

store::Result<void> send_report(store::Store& store, const ReportSettings& settings,
                                const store::QueueEntry& entry,
                                std::vector<smtp::DsnRecipient> recipients,
                                std::string_view original,
                                std::chrono::system_clock::time_point retry_until) {
  if (recipients.empty() || entry.sender.empty()) return {};
  smtp::DsnInput in;
  in.reporting_mta = settings.hostname;
  in.sender = entry.sender;
  in.envid = entry.envid;
  in.queue_id = entry.queue_id;
  in.ret = entry.ret;
  in.arrival = entry.created;
  in.now = std::chrono::system_clock::now();
  in.retry_until = retry_until;
  in.recipients = std::move(recipients);
  in.original = original;
  in.max_returned_bytes = settings.max_returned_bytes;
  const auto token = random_token();
  in.boundary = "postino-report-" + token;
  in.message_id = "<report-" + token + "." + entry.queue_id + "@" + settings.hostname + ">";
  const auto report = smtp::compose_dsn(in);

  store::Acceptance acceptance;
  auto resolved = store.resolve(entry.sender);
  if (resolved) {
    for (const auto& address : resolved->local_accounts) {
      auto account = store.find_account(address);
      if (!account) return account.error();
      acceptance.local_accounts.push_back(account->id);
    }
    acceptance.local_message = "Return-Path: <>\r\n" + report;
    for (const auto& address : resolved->remote) {
      if (!acceptance.remote) acceptance.remote.emplace();
      acceptance.remote->recipients.push_back({address, "", 1});
    }
  } else if (resolved.error().kind == store::ErrorKind::invalid) {
    // Not one of our domains: the report is relayed like any mail.
    acceptance.remote.emplace();
    acceptance.remote->recipients.push_back({entry.sender, "", 1});
  } else if (resolved.error().kind == store::ErrorKind::not_found) {
    base::log::warn("", "report_undeliverable",
                    {{"queue_id", entry.queue_id},
                     {"sender", entry.sender},
                     {"detail", "the sender is not a local address"}});
    return {};
  } else {
    return resolved.error();
  }
  if (acceptance.remote) acceptance.remote_message = report;
  auto accepted = store.accept(acceptance);
  if (!accepted) return accepted.error();
  base::log::info("", "report_sent",
                  {{"queue_id", entry.queue_id},
                   {"to", entry.sender},
                   {"report_queue_id", accepted->queue_id}});
  return {};
}

}  // namespace postino::outbound

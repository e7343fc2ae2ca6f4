// `postino dkim generate DOMAIN`: a signing key for a domain, and the DNS record that
// publishes it. The running server picks new keys up within a minute.
#include <iostream>

#include "app/store_commands.hpp"
#include "dkim/signer.hpp"

namespace postino::app {

void add_dkim_commands(CLI::App& app, StoreLocation& where, std::function<int()>& run) {
  static std::string domain, selector = "postino", algorithm = "both";
  auto* dkim = app.add_subcommand("dkim", "DKIM signing keys for the domains served here.");
  dkim->require_subcommand(1);
  dkim->footer("Example:\n  postino dkim generate example.org");
  auto* generate = dkim->add_subcommand(
      "generate", "Create signing keys for a domain and print the DNS TXT records to publish.");
  generate->add_option("DOMAIN", domain)->required();
  generate->add_option("--selector", selector, "Selector (the DNS name's first label)")
      ->capture_default_str();
  generate->add_option("--algorithm", algorithm, "rsa, ed25519 or both (RFC 8463)")
      ->check(CLI::IsMember({"rsa", "ed25519", "both"}))
      ->capture_default_str();
  generate->footer("Example:\n  postino dkim generate example.org --selector 2026");
  generate->callback([&run, &where] {
    run = [&where] {
      std::string error;
      const auto cfg = location_config(where, error);
      if (!error.empty()) {
        std::cerr << "postino: " << error << "\n";
        return 2;
      }
      if (auto err = become_server_user(cfg); !err.empty()) {
        std::cerr << "postino: " << err << "\n";
        return 1;
      }
      const auto dir = cfg.effective_dkim_dir();
      int status = 0;
      // Ed25519 selector names get a suffix: each key needs its own DNS record.
      if (algorithm != "ed25519") {
        const auto out = dkim::generate_key(dir, domain, selector, dkim::Algorithm::rsa_sha256);
        (out.starts_with("error:") ? std::cerr : std::cout) << out << "\n";
        status |= out.starts_with("error:");
      }
      if (algorithm != "rsa") {
        const auto name = algorithm == "both" ? selector + "-ed25519" : selector;
        const auto out = dkim::generate_key(dir, domain, name, dkim::Algorithm::ed25519_sha256);
        (out.starts_with("error:") ? std::cerr : std::cout) << out << "\n";
        status |= out.starts_with("error:");
      }
      if (status == 0) {
        std::cout << "; keys in " << dir << "/" << domain
                  << "; publish the records above, then mail from " << domain
                  << " is signed (a running server notices within a minute)\n";
      }
      return status;
    };
  });
}

}  // namespace postino::app

// Command-line parsing with CLI11; see cli.hpp. Every subcommand's --help ends with an
// example that works as printed.
#include "app/cli.hpp"

#include <CLI/CLI.hpp>

#include "app/commands.hpp"
#include "app/sendmail.hpp"
#include "app/store_commands.hpp"

namespace postino::app {

int run_cli(int argc, char** argv) {
  // The sendmail command line has options CLI11 cannot read (-oi, -fADDRESS): it is
  // handled before, when called as `sendmail` (a link) or `postino sendmail`.
  const std::string_view program = argv[0];
  if (program == "sendmail" || program.ends_with("/sendmail")) {
    return sendmail_main({argv + 1, argv + argc});
  }
  if (argc > 1 && std::string_view(argv[1]) == "sendmail") {
    return sendmail_main({argv + 2, argv + argc});
  }
  CLI::App app{"Postino: an all-in-one mail server (SMTP, submission, IMAP, POP3).", "postino"};
  app.set_version_flag("--version", std::string("postino ") + POSTINO_VERSION);
  app.require_subcommand(0, 1);
  // --data/--config before or after the subcommand name pick the store the admin
  // commands work on (serve has its own).
  app.fallthrough();
  StoreLocation where;
  app.add_option("--data", where.data_dir, "Data directory of the store (default ./var/dev)");
  app.add_option("--config", where.config_file, "Configuration file (its server.data_dir)");
  std::function<int()> store_command;
  app.footer(
      "Examples:\n"
      "  postino serve --dev                      start a development server on 127.0.0.1\n"
      "  postino config test --config postino.toml\n"
      "  postino quickstart alice@example.org   configure a server for a real domain\n"
      "  postino domain add example.org\n"
      "  echo 's3cret' | postino user add alice@example.org --password-stdin\n"
      "  postino help serve");

  ServeOptions serve_options;
  auto* serve_cmd = app.add_subcommand("serve", "Run the mail server.");
  serve_cmd->add_flag("--dev", serve_options.dev,
                      "Development mode: 127.0.0.1 ports 25xx, self-signed certificate, "
                      "demo account, data in ./var/dev");
  serve_cmd->add_option("--data", serve_options.data_dir, "Data directory (dev mode)");
  serve_cmd->add_option("--config", serve_options.config_file, "TOML configuration file");
  serve_cmd->add_option("--listen", serve_options.listen,
                        "PROTOCOL=ADDR:PORT or PROTOCOL=off (repeatable); PROTOCOL is one of "
                        "smtp submission submissions imap imaps pop3 pop3s http");
  serve_cmd->add_option("--route", serve_options.routes,
                        "DOMAIN=HOST:PORT (repeatable): send the domain's mail there instead "
                        "of its MX hosts");
  serve_cmd->add_option("--dns", serve_options.dns,
                        "HOST:PORT of the DNS server for MX lookups (default: /etc/resolv.conf)");
  serve_cmd->footer(
      "Examples:\n"
      "  postino serve --dev\n"
      "  postino serve --dev --route example.net=127.0.0.1:2526\n"
      "  postino serve --dev --data /tmp/pd --listen imap=127.0.0.1:1143\n"
      "  postino serve --config /etc/postino/postino.toml");

  auto* config_cmd = app.add_subcommand("config", "Check or print the configuration.");
  config_cmd->require_subcommand(1);
  config_cmd->footer("Example:\n  postino config example > postino.toml");
  std::string config_file;
  auto* config_test_cmd = config_cmd->add_subcommand(
      "test", "Check a configuration file; every error is printed with its line and column.");
  config_test_cmd->add_option("--config", config_file, "TOML configuration file")->required();
  config_test_cmd->footer("Example:\n  postino config test --config /etc/postino/postino.toml");
  auto* config_example_cmd = config_cmd->add_subcommand(
      "example", "Print every configuration key with its default and a one-line description.");
  config_example_cmd->footer("Example:\n  postino config example > postino.toml");
  auto* config_docs_cmd =
      config_cmd->add_subcommand("docs", "Print the configuration reference (docs/CONFIG.md).");
  config_docs_cmd->footer("Example:\n  postino config docs > docs/CONFIG.md");

  add_store_commands(app, where, store_command);
  add_dkim_commands(app, where, store_command);
  add_dns_commands(app, where, store_command);
  add_transfer_commands(app, where, store_command);
  add_trace_command(app, where, store_command);
  add_status_command(app, where, store_command);
  add_quickstart_command(app, store_command);

  // Listed for `postino help`; parsed by sendmail_main() above.
  auto* sendmail_cmd = app.add_subcommand(
      "sendmail",
      "Send a message from standard input, as sendmail(8) does: -t, -i/-oi, -f SENDER, "
      "-F NAME, -C CONFIG (default $POSTINO_CONFIG or /etc/postino/postino.toml), RECIPIENT...");
  sendmail_cmd->allow_extras();
  sendmail_cmd->footer(
      "Examples:\n"
      "  printf 'Subject: hi\\n\\nhello\\n' | postino sendmail -C /etc/postino/postino.toml "
      "alice@example.org\n"
      "  ln -s /usr/local/bin/postino /usr/sbin/sendmail   (then cron and scripts use it)");

  std::vector<std::string> help_topic;
  auto* help_cmd = app.add_subcommand("help", "Show help for postino or one of its subcommands.");
  help_cmd->add_option("subcommand", help_topic, "serve, config, …");
  help_cmd->footer("Example:\n  postino help config");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  if (*serve_cmd) return serve(serve_options);
  if (store_command) return store_command();
  if (*config_test_cmd) return config_test(config_file);
  if (*config_example_cmd) return config_example();
  if (*config_docs_cmd) return config_docs();
  if (*help_cmd) {
    CLI::App* target = &app;
    std::string path = "postino";
    for (const auto& name : help_topic) {
      try {
        target = target->get_subcommand(name);
      } catch (const CLI::OptionNotFound&) {
        std::cerr << "postino: no subcommand '" << name << "'\n";
        return 2;
      }
      path += " " + name;
    }
    // App::help() would describe the selected `help` subcommand itself; format directly.
    std::cout << target->get_formatter()->make_help(target, path, CLI::AppFormatMode::Normal);
    return 0;
  }
  std::cout << app.help();
  return 0;
}

}  // namespace postino::app

// The command line: `postino serve`, `postino config …`, `postino help`, `--version`.
#pragma once

namespace postino::app {

// Parses the command line and runs the subcommand; returns the process exit code.
int run_cli(int argc, char** argv);

}  // namespace postino::app

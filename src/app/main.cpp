// postino: the one binary. Everything lives in the app library; see cli.cpp.
#include "app/cli.hpp"

int main(int argc, char** argv) {
  return postino::app::run_cli(argc, argv);
}

// `fuzz_replay TARGET DIR...`: runs every file under the directories through the named
// fuzz target (fuzz.hpp), so that each committed corpus, crashes found included, is a
// regression test in `make test`.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>

#include "fuzz.hpp"

namespace postino::fuzz {
namespace {

std::map<std::string, Body>& registry() {
  static std::map<std::string, Body> targets;
  return targets;
}

}  // namespace

Registration::Registration(const char* name, Body body) {
  registry()[name] = body;
}

}  // namespace postino::fuzz

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  const auto& targets = postino::fuzz::registry();
  if (argc < 3 || !targets.contains(argv[1])) {
    std::cerr << "usage: fuzz_replay TARGET DIR...\ntargets:";
    for (const auto& [name, body] : targets) std::cerr << " " << name;
    std::cerr << "\n";
    return 2;
  }
  const auto body = targets.at(argv[1]);
  std::size_t count = 0;
  for (int i = 2; i < argc; ++i) {
    for (const auto& entry : fs::recursive_directory_iterator(argv[i])) {
      if (!entry.is_regular_file()) continue;
      std::ifstream in(entry.path(), std::ios::binary);
      std::stringstream bytes;
      bytes << in.rdbuf();
      body(bytes.str());
      ++count;
    }
  }
  std::cout << argv[1] << ": " << count << " inputs replayed\n";
  return count > 0 ? 0 : 1;  // an empty corpus is a mistake, not a pass
}

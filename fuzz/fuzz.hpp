// Fuzz targets (RELIABILITY, issue "Reliability and security"): each file defines one
// with POSTINO_FUZZ_TARGET(name) { … } over (data, size). Built two ways from the same
// source: with clang's libFuzzer (`make fuzz`, one executable per target, coverage
// guided), and into `fuzz_replay` with GCC for `make test`, which runs every committed
// corpus file through its target. A target states its properties with FUZZ_CHECK: a
// failed check aborts, which both builds report as a crash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace postino::fuzz {

using Body = void (*)(std::string_view data);

// The replay build's registry of targets by name.
struct Registration {
  Registration(const char* name, Body body);
};

[[noreturn]] inline void check_failed(const char* what, const char* file, int line) {
  std::fprintf(stderr, "%s:%d: fuzz property failed: %s\n", file, line, what);
  std::abort();
}

}  // namespace postino::fuzz

#define FUZZ_CHECK(condition) \
  ((condition) ? (void)0 : ::postino::fuzz::check_failed(#condition, __FILE__, __LINE__))

#ifdef POSTINO_LIBFUZZER
#define POSTINO_FUZZ_REGISTER(name)                                                   \
  extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) { \
    fuzz_body_##name(std::string_view(reinterpret_cast<const char*>(data), size));    \
    return 0;                                                                         \
  }
#else
#define POSTINO_FUZZ_REGISTER(name) \
  static const ::postino::fuzz::Registration fuzz_registration_##name(#name, fuzz_body_##name);
#endif

#define POSTINO_FUZZ_TARGET(name)                      \
  static void fuzz_body_##name(std::string_view data); \
  POSTINO_FUZZ_REGISTER(name)                          \
  static void fuzz_body_##name(std::string_view data)

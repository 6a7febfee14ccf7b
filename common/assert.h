// Always-on invariant checks. A broken invariant stops the process at once with file and line,
// in every build type (unlike assert(), which NDEBUG removes). Thread-safe.
#pragma once

#include <cstdio>
#include <cstdlib>

namespace paxcron {

[[noreturn]] inline void AssertFailed(const char* expr, const char* file, int line) {
  std::fprintf(stderr, "%s:%d: invariant violated: %s\n", file, line, expr);
  std::fflush(stderr);
  std::abort();
}

}  // namespace paxcron

#define PAXCRON_ASSERT(expr) \
  ((expr) ? static_cast<void>(0) : ::paxcron::AssertFailed(#expr, __FILE__, __LINE__))

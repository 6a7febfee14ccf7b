// The JSON Lines trace of a simulation (schema: sim/TRACE.md). Every line has "t" (true time,
// microseconds), "node" (id or null) and "ev", then event fields. Formatting happens only when a
// sink is attached, so an untraced run pays nothing. Thread-compatible; a listener is called on
// the emitting thread.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

namespace paxcron::sim {

// `s` as a quoted JSON string (quotes, backslashes and control characters escaped).
std::string JsonString(std::string_view s);

class Trace {
 public:
  Trace() = default;
  ~Trace();
  Trace(const Trace&) = delete;
  Trace& operator=(const Trace&) = delete;

  // Either sink: a file (streamed), or memory (tests compare runs byte for byte).
  bool OpenFile(const std::string& path);
  void CaptureInMemory() { memory_ = true; }
  // A third sink, alone or beside the others: every line, without its newline, as it is emitted
  // (the HTML timeline and --explain read the run this way, from the same events as the file).
  void SetListener(std::function<void(std::string_view line)> listener) {
    listener_ = std::move(listener);
  }
  bool enabled() const { return file_ != nullptr || memory_ || listener_ != nullptr; }
  const std::string& captured() const { return buffer_; }

  // `fields` is either empty or starts with a comma: `,"slot":3,"value":"..."`.
  void Emit(int64_t t_us, uint32_t node, std::string_view ev, std::string_view fields = {});
  // The same, formatting the fields only when tracing is on (untraced runs pay nothing).
  template <typename... Args>
  void Emitf(int64_t t_us, uint32_t node, std::string_view ev, fmt::format_string<Args...> fields,
             Args&&... args) {
    if (!enabled()) return;
    Emit(t_us, node, ev, fmt::format(fields, std::forward<Args>(args)...));
  }
  void Close();

 private:
  void FlushIfLarge();
  std::FILE* file_ = nullptr;
  bool memory_ = false;
  std::function<void(std::string_view)> listener_;
  std::string buffer_;
};

}  // namespace paxcron::sim

#include "sim/trace.h"

#include <fmt/format.h>

namespace paxcron::sim {

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
    } else {
      out += c;
    }
  }
  return out + "\"";
}

Trace::~Trace() { Close(); }

bool Trace::OpenFile(const std::string& path) {
  file_ = std::fopen(path.c_str(), "w");
  return file_ != nullptr;
}

void Trace::Emit(int64_t t_us, uint32_t node, std::string_view ev, std::string_view fields) {
  if (!enabled()) return;
  const size_t start = buffer_.size();
  if (node == 0) {
    fmt::format_to(std::back_inserter(buffer_), "{{\"t\":{},\"node\":null,\"ev\":\"{}\"{}}}\n",
                   t_us, ev, fields);
  } else {
    fmt::format_to(std::back_inserter(buffer_), "{{\"t\":{},\"node\":{},\"ev\":\"{}\"{}}}\n", t_us,
                   node, ev, fields);
  }
  if (listener_ != nullptr) {
    listener_(std::string_view(buffer_).substr(start, buffer_.size() - start - 1));
  }
  if (file_ == nullptr && !memory_) {
    buffer_.clear();  // the listener was the only sink
    return;
  }
  FlushIfLarge();
}

void Trace::FlushIfLarge() {
  if (file_ == nullptr || buffer_.size() < (1u << 20)) return;
  std::fwrite(buffer_.data(), 1, buffer_.size(), file_);
  buffer_.clear();
}

void Trace::Close() {
  if (file_ == nullptr) return;
  std::fwrite(buffer_.data(), 1, buffer_.size(), file_);
  buffer_.clear();
  std::fclose(file_);
  file_ = nullptr;
}

}  // namespace paxcron::sim

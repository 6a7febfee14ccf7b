#include "sim/trace_line.h"

#include <charconv>

namespace paxcron::sim {
namespace {

// The end of the JSON string that opens at `at` (a quote), just past its closing quote.
size_t SkipString(std::string_view s, size_t at) {
  for (size_t i = at + 1; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
    } else if (s[i] == '"') {
      return i + 1;
    }
  }
  return std::string_view::npos;
}

// The end of the JSON value that starts at `at`: a string, a (nested) array, or a scalar.
size_t SkipValue(std::string_view s, size_t at) {
  if (at >= s.size()) return std::string_view::npos;
  if (s[at] == '"') return SkipString(s, at);
  if (s[at] == '[' || s[at] == '{') {
    int depth = 0;
    for (size_t i = at; i < s.size(); ++i) {
      if (s[i] == '"') {
        i = SkipString(s, i);
        if (i == std::string_view::npos) return i;
        --i;
      } else if (s[i] == '[' || s[i] == '{') {
        ++depth;
      } else if ((s[i] == ']' || s[i] == '}') && --depth == 0) {
        return i + 1;
      }
    }
    return std::string_view::npos;
  }
  size_t i = at;
  while (i < s.size() && s[i] != ',' && s[i] != '}') ++i;
  return i;
}

std::string Unescape(std::string_view raw) {
  if (raw.size() < 2 || raw.front() != '"') return std::string(raw);
  std::string out;
  for (size_t i = 1; i + 1 < raw.size(); ++i) {
    if (raw[i] != '\\' || i + 2 >= raw.size()) {
      out += raw[i];
      continue;
    }
    const char c = raw[++i];
    if (c == 'u' && i + 4 < raw.size()) {
      unsigned code = 0;
      std::from_chars(raw.data() + i + 1, raw.data() + i + 5, code, 16);
      out += static_cast<char>(code < 0x80 ? code : '?');
      i += 4;
    } else {
      out += c == 'n' ? '\n' : c == 't' ? '\t' : c;
    }
  }
  return out;
}

}  // namespace

std::string_view TraceLine::Raw(std::string_view key) const {
  for (const auto& [k, v] : fields) {
    if (k == key) return v;
  }
  return {};
}

int64_t TraceLine::Int(std::string_view key) const {
  const std::string_view raw = Raw(key);
  int64_t v = 0;
  if (raw.empty()) return 0;
  std::from_chars(raw.data(), raw.data() + raw.size(), v);
  return v;
}

std::string TraceLine::Str(std::string_view key) const { return Unescape(Raw(key)); }

std::optional<TraceLine> ParseTraceLine(std::string_view line) {
  if (line.empty() || line.front() != '{') return std::nullopt;
  TraceLine out;
  bool has_t = false, has_node = false;
  size_t at = 1;
  // Bounded: each turn consumes one "key":value pair of the line.
  while (at < line.size() && line[at] == '"') {
    const size_t key_end = SkipString(line, at);
    if (key_end == std::string_view::npos || key_end >= line.size() || line[key_end] != ':') {
      return std::nullopt;
    }
    const std::string_view key = line.substr(at + 1, key_end - at - 2);
    const size_t value_end = SkipValue(line, key_end + 1);
    if (value_end == std::string_view::npos) return std::nullopt;
    const std::string_view value = line.substr(key_end + 1, value_end - key_end - 1);
    if (key == "t") {
      has_t =
          std::from_chars(value.data(), value.data() + value.size(), out.t_us).ec == std::errc();
    } else if (key == "node") {
      has_node = true;
      if (value != "null") std::from_chars(value.data(), value.data() + value.size(), out.node);
    } else if (key == "ev") {
      out.ev = Unescape(value);
    } else {
      out.fields.emplace_back(std::string(key), std::string(value));
    }
    at = value_end;
    if (at < line.size() && line[at] == ',') ++at;
  }
  if (!has_t || !has_node || out.ev.empty()) return std::nullopt;
  return out;
}

}  // namespace paxcron::sim

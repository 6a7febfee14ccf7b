#include "tz/system_zones.h"

#include <fstream>
#include <string>

#include "tz/tzif.h"
#include "tz/tzif_zone.h"

namespace paxcron::tz {
namespace {

// IANA names are ASCII letters, digits and "/_+-."; no component may be "." or "..", so that a
// name can never reach outside the database directory.
bool IsValidZoneName(std::string_view name) {
  if (name.empty() || name.size() > 255 || name.front() == '/' || name.back() == '/') return false;
  for (char c : name) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '/' || c == '_' || c == '+' || c == '-' || c == '.';
    if (!ok) return false;
  }
  size_t begin = 0;
  while (begin <= name.size()) {
    size_t end = name.find('/', begin);
    if (end == std::string_view::npos) end = name.size();
    const std::string_view part = name.substr(begin, end - begin);
    if (part.empty() || part == "." || part == "..") return false;
    begin = end + 1;
  }
  return true;
}

}  // namespace

Result<std::unique_ptr<const cron::ZoneRules>> LoadZone(std::string_view name,
                                                        std::string_view zoneinfo_dir) {
  const std::string quoted = "'" + std::string(name) + "'";
  if (name == "UTC") {
    return std::unique_ptr<const cron::ZoneRules>(
        std::make_unique<cron::FixedOffsetZone>("UTC", 0));
  }
  if (!IsValidZoneName(name)) return Status::Error("invalid time zone name " + quoted);
  const std::string path = std::string(zoneinfo_dir) + "/" + std::string(name);
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status::Error("unknown time zone " + quoted + " (no such file under " +
                         std::string(zoneinfo_dir) + "; is tzdata installed?)");
  }
  std::string bytes;
  bytes.reserve(4096);
  char buf[4096];
  while (in.read(buf, sizeof(buf)) || in.gcount() > 0) {
    bytes.append(buf, static_cast<size_t>(in.gcount()));
    if (bytes.size() > kTzifBytesMax) break;
  }
  if (in.bad()) return Status::Error("unknown time zone " + quoted + " (cannot read " + path + ")");
  Result<TzifData> data = ParseTzif(bytes);
  if (!data.ok()) return Status::Error("time zone " + quoted + ": " + data.status().message());
  return std::unique_ptr<const cron::ZoneRules>(
      std::make_unique<TzifZone>(std::string(name), std::move(data.value())));
}

}  // namespace paxcron::tz

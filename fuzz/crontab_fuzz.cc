// libFuzzer target: arbitrary bytes as a crontab file (cron/crontab_file.h), and each line's
// expression through the schedule parser: any input gives jobs or an error, never a crash, a
// hang or an out-of-bounds read.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "cron/crontab_file.h"
#include "cron/schedule.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto jobs = paxcron::cron::ParseCrontab(text, "fuzz");
  if (jobs.ok()) {
    for (const auto& spec : jobs.value()) {
      (void)paxcron::cron::Schedule::Parse(spec.schedule(), spec.name());
    }
  }
  (void)paxcron::cron::Schedule::Parse(text.substr(0, 256), "job");
  (void)paxcron::cron::ParseDurationSeconds(text.substr(0, 32));
  return 0;
}

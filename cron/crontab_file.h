// A crontab-style file of jobs, for `paxcron jobs apply FILE` (declarative: the cluster's job
// table becomes the file's). One job per line:
//
//   # a comment; blank lines are ignored
//   EXPR  NAME  [OPTION=VALUE ...]  COMMAND...
//   0 3 * * *      backup   tz=Europe/Berlin missed=latest timeout=2h  /usr/local/bin/backup
//   */10 * * * * * probe    deadline=5s                                 curl -fsS http://x/ok
//   @hourly        rotate   logrotate /etc/logrotate.conf
//
// EXPR is a cron expression of 5 fields, or 6 with seconds first, or a macro (@daily, ...;
// cron/SCHEDULE.md). A 6-field reading is taken when the sixth token is a day-of-week field and
// a name follows it; so that this never misreads a line, NAME must contain a letter. Options:
// tz, missed (skip|latest|all), max-catchup, deadline, overlap (allow|forbid), on-unknown
// (skip|relaunch), timeout, history, launcher (exec|slurm), partition, sbatch (an extra sbatch
// option, repeatable: sbatch=--time=10). Durations: a number and s, m, h or d. COMMAND is the rest
// of the line, as written. Errors name the file, the line and what is wrong. Pure.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "cron/cron.pb.h"

namespace paxcron::cron {

Result<std::vector<pb::JobSpec>> ParseCrontab(std::string_view text, std::string_view file);

// "90s", "15m", "2h", "7d" -> seconds; from 1 s to 366 days.
Result<int64_t> ParseDurationSeconds(std::string_view text);

}  // namespace paxcron::cron

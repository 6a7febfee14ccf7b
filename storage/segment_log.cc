#include "storage/segment_log.h"

#include <fmt/format.h>

#include "common/assert.h"
#include "common/little_endian.h"
#include "storage/record_format.h"

namespace paxcron::storage {
namespace {

constexpr std::string_view kPrefix = "log-";
constexpr size_t kDigits = 8;
constexpr size_t kTagBytes = 8;

}  // namespace

std::string SegmentName(uint64_t number) { return fmt::format("{}{:08}", kPrefix, number); }

uint64_t ParseSegmentName(std::string_view name) {
  return ParseNumberedName(name, kPrefix, kDigits);
}

std::optional<TaggedRecord> SplitTaggedRecord(std::string_view record) {
  if (record.size() < kTagBytes) return std::nullopt;
  return TaggedRecord{GetLittleEndian<uint64_t>(record), record.substr(kTagBytes)};
}

std::string SegmentLog::PathOf(uint64_t number) const { return dir_ + "/" + SegmentName(number); }

Result<std::unique_ptr<SegmentLog>> SegmentLog::Open(FileSystem& fs, std::string dir,
                                                     SegmentLogOptions options,
                                                     const RecordFn& on_record,
                                                     std::vector<std::string>* warnings) {
  std::unique_ptr<SegmentLog> log(new SegmentLog(fs, std::move(dir), options));
  Result<std::vector<std::string>> names = fs.List(log->dir_);
  if (!names.ok()) return names.status();
  std::vector<uint64_t> numbers;
  for (const std::string& name : names.value()) {
    if (const uint64_t n = ParseSegmentName(name); n != 0) numbers.push_back(n);
  }
  for (size_t i = 1; i < numbers.size(); ++i) {
    if (numbers[i] != numbers[i - 1] + 1) {
      return Status::Error(fmt::format("{}: segment {} is missing (found {} then {})", log->dir_,
                                       SegmentName(numbers[i - 1] + 1), SegmentName(numbers[i - 1]),
                                       SegmentName(numbers[i])));
    }
  }
  for (size_t i = 0; i < numbers.size(); ++i) {
    const std::string path = log->PathOf(numbers[i]);
    Result<std::string> bytes = fs.ReadFile(path);
    if (!bytes.ok()) return bytes.status();
    SegmentScan scan = ScanSegment(bytes.value(), path);
    const bool last = i + 1 == numbers.size();
    if (scan.end == SegmentScan::End::kCorrupt) return Status::Error(scan.error);
    if (scan.end == SegmentScan::End::kTorn) {
      // Only the segment being appended to when the node stopped can end mid-record.
      if (!last) return Status::Error(scan.error + " (in a sealed segment: damage, not a crash)");
      if (Status s = fs.Truncate(path, scan.valid_bytes); !s.ok()) return s;
      if (warnings != nullptr) warnings->push_back(scan.error);
    }
    Segment seg{numbers[i], scan.valid_bytes, 0, false};
    uint64_t offset = 0;
    for (const std::string& record : scan.records) {
      const std::optional<TaggedRecord> tagged = SplitTaggedRecord(record);
      if (!tagged) {
        return Status::Error(fmt::format("{}: offset {}: a record of {} bytes has no tag", path,
                                         offset, record.size()));
      }
      seg.max_tag = std::max(seg.max_tag, tagged->tag);
      seg.has_records = true;
      on_record(tagged->tag, tagged->payload);
      offset += kRecordHeaderBytes + record.size();
    }
    log->segments_.push_back(seg);
  }
  if (log->segments_.empty()) {
    if (Status s = log->StartSegment(1); !s.ok()) return s;
  } else {
    Result<std::unique_ptr<AppendableFile>> f = fs.OpenAppendable(log->PathOf(numbers.back()));
    if (!f.ok()) return f.status();
    log->open_ = std::move(f.value());
  }
  return log;
}

Status SegmentLog::StartSegment(uint64_t number) {
  Result<std::unique_ptr<AppendableFile>> f = fs_.OpenAppendable(PathOf(number));
  if (!f.ok()) return f.status();
  if (Status s = fs_.SyncDir(dir_); !s.ok()) return s;
  open_ = std::move(f.value());
  segments_.push_back(Segment{number, 0, 0, false});
  return Status::Ok();
}

Status SegmentLog::Append(uint64_t tag, std::string_view payload) {
  PAXCRON_ASSERT(open_ != nullptr && !segments_.empty());
  if (segments_.back().bytes >= options_.segment_bytes) {
    // Seal the full segment (durable before the next exists), then start the next.
    if (Status s = Sync(); !s.ok()) return s;
    if (Status s = StartSegment(segments_.back().number + 1); !s.ok()) return s;
  }
  std::string tag_bytes;
  PutLittleEndian(tag, tag_bytes);
  std::string framed;
  AppendRecord(tag_bytes, payload, framed);
  if (Status s = open_->Append(framed); !s.ok()) return s;
  Segment& seg = segments_.back();
  seg.bytes += framed.size();
  seg.max_tag = std::max(seg.max_tag, tag);
  seg.has_records = true;
  ++unsynced_;
  return Status::Ok();
}

Status SegmentLog::Sync() {
  if (unsynced_ == 0) return Status::Ok();
  if (Status s = open_->Sync(); !s.ok()) return s;
  unsynced_ = 0;
  return Status::Ok();
}

Status SegmentLog::DropThrough(uint64_t through) {
  size_t drop = 0;
  while (drop + 1 < segments_.size() && segments_[drop].max_tag <= through) ++drop;
  if (drop == 0) return Status::Ok();
  for (size_t i = 0; i < drop; ++i) {
    if (Status s = fs_.Remove(PathOf(segments_[i].number)); !s.ok()) return s;
  }
  segments_.erase(segments_.begin(), segments_.begin() + static_cast<std::ptrdiff_t>(drop));
  return fs_.SyncDir(dir_);
}

}  // namespace paxcron::storage

// The write-ahead log: records in numbered segment files (log-00000001, log-00000002, ...) in one
// directory, each framed as in record_format.h and tagged with a 64-bit number (the slot it is
// about), so that compaction can delete whole segments behind a snapshot.
//
// Durability: Append() buffers; Sync() makes everything appended so far durable with one
// fdatasync (group commit: any number of appends share it). A segment is synced before the next
// is created, so only the last segment can end in a torn record.
//
// Recovery (Open): every segment is read in order. A torn tail of the last segment is truncated
// with a warning; a torn or damaged record anywhere else, a gap in the numbering or an unreadable
// file is an error naming the file and the offset. Never a guess. Thread-compatible.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "storage/file_system.h"

namespace paxcron::storage {

struct SegmentLogOptions {
  uint64_t segment_bytes = 8 * 1024 * 1024;  // a segment is sealed once it reaches this size
};

class SegmentLog {
 public:
  using RecordFn = std::function<void(uint64_t tag, std::string_view payload)>;

  // Opens the log in `dir` (creating it empty if it has no segment), handing every recovered
  // record to `on_record` in order. Warnings (a truncated torn tail) are appended to `warnings`.
  static Result<std::unique_ptr<SegmentLog>> Open(FileSystem& fs, std::string dir,
                                                  SegmentLogOptions options,
                                                  const RecordFn& on_record,
                                                  std::vector<std::string>* warnings);

  Status Append(uint64_t tag, std::string_view payload);
  Status Sync();
  // Deletes every sealed segment whose records all have tags <= `through`.
  Status DropThrough(uint64_t through);

  size_t segment_count() const { return segments_.size(); }
  uint64_t total_bytes() const {
    uint64_t sum = 0;
    for (const Segment& seg : segments_) sum += seg.bytes;
    return sum;
  }
  uint64_t appended_since_sync() const { return unsynced_; }

 private:
  struct Segment {
    uint64_t number = 0;
    uint64_t bytes = 0;
    uint64_t max_tag = 0;
    bool has_records = false;
  };
  SegmentLog(FileSystem& fs, std::string dir, SegmentLogOptions options)
      : fs_(fs), dir_(std::move(dir)), options_(options) {}
  std::string PathOf(uint64_t number) const;
  Status StartSegment(uint64_t number);

  FileSystem& fs_;
  std::string dir_;
  SegmentLogOptions options_;
  std::vector<Segment> segments_;  // in order; the last one is open for appending
  std::unique_ptr<AppendableFile> open_;
  uint64_t unsynced_ = 0;  // records appended since the last Sync
};

// A record's tag and payload, as Append() wrote them; none if it is too short to hold a tag.
struct TaggedRecord {
  uint64_t tag;
  std::string_view payload;
};
std::optional<TaggedRecord> SplitTaggedRecord(std::string_view record);

// "log-00000042" <-> 42. Parse returns 0 for a name that is not a segment's.
std::string SegmentName(uint64_t number);
uint64_t ParseSegmentName(std::string_view name);

}  // namespace paxcron::storage

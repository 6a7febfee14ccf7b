#include "storage/inspect.h"

#include <fmt/format.h>

#include "storage/paxos_store.h"
#include "storage/record_format.h"
#include "storage/segment_log.h"
#include "storage/snapshot_store.h"

namespace paxcron::storage {
Result<StoreReport> InspectStore(FileSystem& fs, const std::string& dir,
                                 const RecordVisitor& on_record) {
  Result<std::vector<std::string>> names = fs.List(dir);
  if (!names.ok()) return names.status();
  StoreReport report;
  Result<std::optional<pb::Meta>> read = ReadMetaFile(fs, dir);
  if (!read.ok()) {
    report.damage = read.status().message();
    return report;
  }
  if (read.value().has_value()) {
    const pb::Meta& meta = *read.value();
    report.has_meta = true;
    report.promised_round = meta.promised().round();
    report.promised_node = meta.promised().node();
    report.compacted_through = meta.compacted_through();
  }
  for (const std::string& name : names.value()) {
    if (ParseSnapshotFileName(name) == 0) continue;
    const std::string path = dir + "/" + name;
    Result<std::string> bytes = fs.ReadFile(path);
    if (!bytes.ok()) return bytes.status();
    Result<Snapshot> snapshot = DecodeSnapshotFile(bytes.value(), path);
    if (!snapshot.ok()) {
      report.damage = snapshot.status().message();
      return report;
    }
    report.snapshots.push_back(
        SnapshotReport{name, snapshot.value().slot, snapshot.value().data.size()});
  }
  std::vector<uint64_t> numbers;
  for (const std::string& name : names.value()) {
    if (const uint64_t n = ParseSegmentName(name); n != 0) numbers.push_back(n);
  }
  for (size_t i = 0; i < numbers.size(); ++i) {
    if (i > 0 && numbers[i] != numbers[i - 1] + 1) {
      report.damage =
          fmt::format("{}: segment {} is missing", dir, SegmentName(numbers[i - 1] + 1));
      return report;
    }
    SegmentReport seg;
    seg.name = SegmentName(numbers[i]);
    const std::string path = dir + "/" + seg.name;
    Result<std::string> bytes = fs.ReadFile(path);
    if (!bytes.ok()) return bytes.status();
    seg.bytes = bytes.value().size();
    const SegmentScan scan = ScanSegment(bytes.value(), path);
    uint64_t offset = 0;
    for (const std::string& raw : scan.records) {
      const std::optional<TaggedRecord> tagged = SplitTaggedRecord(raw);
      const std::optional<pb::LogRecord> decoded =
          tagged ? DecodeLogRecord(tagged->tag, tagged->payload) : std::nullopt;
      if (!decoded) {
        report.damage = fmt::format("{}: offset {}: a record that does not decode as a log record",
                                    path, offset);
        report.segments.push_back(seg);
        return report;
      }
      const pb::LogRecord& record = *decoded;
      ++seg.records;
      if (seg.first_slot == 0 || record.slot() < seg.first_slot) seg.first_slot = record.slot();
      seg.last_slot = std::max(seg.last_slot, record.slot());
      if (on_record) on_record(seg.name, offset, record);
      offset += kRecordHeaderBytes + raw.size();
    }
    report.segments.push_back(seg);
    const bool last = i + 1 == numbers.size();
    if (scan.end == SegmentScan::End::kCorrupt || (scan.end == SegmentScan::End::kTorn && !last)) {
      report.damage = scan.error;
      return report;
    }
    if (scan.end == SegmentScan::End::kTorn) report.warnings.push_back(scan.error);
  }
  return report;
}

}  // namespace paxcron::storage

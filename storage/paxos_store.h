// The consensus core's durable state on a FileSystem, through the storage engine: the acceptor's
// promise and the compaction point in a metadata file replaced atomically ("meta", one framed
// record), accepted and chosen values in the segment log ("log-NNNNNNNN"). Write() makes a
// Ready's persist ops durable, in order, before it returns: the driver sends the Ready's
// messages only after that (paxos/replica.h). Open() rebuilds the DurableState a restarted
// replica starts from. Thread-compatible.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "paxos/replica.h"
#include "storage/file_system.h"
#include "storage/segment_log.h"
#include "storage/storage.pb.h"

namespace paxcron::storage {

// Reads `dir`/meta: an empty optional when there is none (a node that never promised). Errors:
// unreadable, or damaged (it is replaced atomically, so never torn: anything but one whole
// valid record is damage), naming the file.
Result<std::optional<pb::Meta>> ReadMetaFile(FileSystem& fs, const std::string& dir);

// A log record's payload, checked: it parses, names a slot, and the slot is its tag.
std::optional<pb::LogRecord> DecodeLogRecord(uint64_t tag, std::string_view payload);

class PaxosStore {
 public:
  // Recovers `dir` (an empty or absent directory is a fresh node) into `*durable`. Errors: any
  // damage the segment log reports, or a damaged metadata file, named with file and offset.
  static Result<std::unique_ptr<PaxosStore>> Open(FileSystem& fs, std::string dir,
                                                  SegmentLogOptions options,
                                                  paxos::DurableState* durable,
                                                  std::vector<std::string>* warnings);

  // Stage() writes the ops in order but leaves the log's last appends volatile (a promise and a
  // compaction point are durable at once: the metadata file is replaced atomically); Sync()
  // makes them durable with one fdatasync, however many batches were staged (group commit).
  // Write() is both: durable on return.
  Status Stage(const std::vector<paxos::PersistOp>& ops);
  Status Sync() { return log_->Sync(); }
  Status Write(const std::vector<paxos::PersistOp>& ops);

  const SegmentLog& log() const { return *log_; }
  paxos::Slot compacted_through() const { return compacted_through_; }
  // The highest slot with a record in the log (0: none since the compaction point).
  paxos::Slot last_slot() const { return last_slot_; }

 private:
  PaxosStore(FileSystem& fs, std::string dir) : fs_(fs), dir_(std::move(dir)) {}
  Status WriteMeta();

  FileSystem& fs_;
  std::string dir_;
  std::unique_ptr<SegmentLog> log_;
  paxos::Ballot promised_;
  paxos::Slot compacted_through_;
  paxos::Slot last_slot_;
};

}  // namespace paxcron::storage

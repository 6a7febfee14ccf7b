#include "storage/paxos_store.h"

#include <fmt/format.h>

#include <algorithm>

#include "paxos/ballot.h"
#include "storage/record_format.h"
#include "storage/storage.pb.h"

namespace paxcron::storage {
namespace {

constexpr const char* kMetaName = "meta";

}  // namespace

std::optional<pb::LogRecord> DecodeLogRecord(uint64_t tag, std::string_view payload) {
  pb::LogRecord r;
  if (!r.ParseFromArray(payload.data(), static_cast<int>(payload.size())) || r.slot() != tag ||
      r.slot() == 0) {
    return std::nullopt;
  }
  return r;
}

Result<std::optional<pb::Meta>> ReadMetaFile(FileSystem& fs, const std::string& dir) {
  const std::string path = dir + "/" + kMetaName;
  if (!fs.Exists(path)) return std::optional<pb::Meta>();
  Result<std::string> bytes = fs.ReadFile(path);
  if (!bytes.ok()) return bytes.status();
  const SegmentScan scan = ScanSegment(bytes.value(), path);
  pb::Meta meta;
  if (scan.end != SegmentScan::End::kClean || scan.records.size() != 1 ||
      !meta.ParseFromString(scan.records[0])) {
    return Status::Error(fmt::format("{}: damaged metadata{}", path,
                                     scan.error.empty() ? "" : " (" + scan.error + ")"));
  }
  return std::optional<pb::Meta>(std::move(meta));
}

Result<std::unique_ptr<PaxosStore>> PaxosStore::Open(FileSystem& fs, std::string dir,
                                                     SegmentLogOptions options,
                                                     paxos::DurableState* durable,
                                                     std::vector<std::string>* warnings) {
  std::unique_ptr<PaxosStore> store(new PaxosStore(fs, std::move(dir)));
  if (Status s = fs.CreateDir(store->dir_); !s.ok()) return s;
  *durable = paxos::DurableState{};
  Result<std::optional<pb::Meta>> meta = ReadMetaFile(fs, store->dir_);
  if (!meta.ok()) return meta.status();
  if (meta.value().has_value()) {
    store->promised_ = paxos::FromProto(meta.value()->promised());
    store->compacted_through_ = paxos::Slot(meta.value()->compacted_through());
  }
  durable->promised = store->promised_;
  durable->slots.TruncatePrefix(store->compacted_through_);
  Status bad_record = Status::Ok();
  auto log = SegmentLog::Open(
      fs, store->dir_, options,
      [&](uint64_t tag, std::string_view payload) {
        if (!bad_record.ok()) return;
        const std::optional<pb::LogRecord> decoded = DecodeLogRecord(tag, payload);
        if (!decoded) {
          bad_record = Status::Error(
              fmt::format("{}: a log record for slot {} does not decode as one", store->dir_, tag));
          return;
        }
        const pb::LogRecord& r = *decoded;
        if (paxos::Slot(r.slot()) <= durable->slots.Compacted()) return;
        paxos::PersistOp op;
        op.kind = r.chosen() ? paxos::PersistOp::Kind::kChosen : paxos::PersistOp::Kind::kAccept;
        op.ballot = paxos::FromProto(r.ballot());
        op.slot = paxos::Slot(r.slot());
        op.entry = std::make_shared<const paxos::pb::Entry>(r.entry());
        durable->Apply(op);
        store->last_slot_ = std::max(store->last_slot_, op.slot);
      },
      warnings);
  if (!log.ok()) return log.status();
  if (!bad_record.ok()) return bad_record;
  store->log_ = std::move(log.value());
  return store;
}

Status PaxosStore::WriteMeta() {
  pb::Meta meta;
  *meta.mutable_promised() = paxos::ToProto(promised_);
  meta.set_compacted_through(compacted_through_.value);
  std::string framed;
  AppendRecord(meta.SerializeAsString(), framed);
  return WriteFileAtomically(fs_, dir_, kMetaName, framed);
}

Status PaxosStore::Write(const std::vector<paxos::PersistOp>& ops) {
  if (Status s = Stage(ops); !s.ok()) return s;
  return Sync();
}

Status PaxosStore::Stage(const std::vector<paxos::PersistOp>& ops) {
  for (const paxos::PersistOp& op : ops) {
    switch (op.kind) {
      case paxos::PersistOp::Kind::kPromise:
        if (op.ballot > promised_) {
          promised_ = op.ballot;
          if (Status s = WriteMeta(); !s.ok()) return s;
        }
        break;
      case paxos::PersistOp::Kind::kAccept:
      case paxos::PersistOp::Kind::kChosen: {
        pb::LogRecord r;
        r.set_slot(op.slot.value);
        *r.mutable_ballot() = paxos::ToProto(op.ballot);
        *r.mutable_entry() = *op.entry;
        r.set_chosen(op.kind == paxos::PersistOp::Kind::kChosen);
        if (Status s = log_->Append(op.slot.value, r.SerializeAsString()); !s.ok()) return s;
        last_slot_ = std::max(last_slot_, op.slot);
        break;
      }
      case paxos::PersistOp::Kind::kCompact:
        if (op.slot > compacted_through_) {
          // The records before the point are durable first, then the point, then the files go.
          if (Status s = log_->Sync(); !s.ok()) return s;
          compacted_through_ = op.slot;
          if (Status s = WriteMeta(); !s.ok()) return s;
          if (Status s = log_->DropThrough(op.slot.value); !s.ok()) return s;
        }
        break;
    }
  }
  return Status::Ok();
}

}  // namespace paxcron::storage

// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of every record and file
// paxcron writes (as in LevelDB, RocksDB and ext4). Table-driven, one byte at a time: the log's
// group commit, not the checksum, bounds write throughput.
#pragma once

#include <cstdint>
#include <string_view>

namespace paxcron::storage {

// The CRC of `data`, continuing from `crc` (the CRC of everything before it; 0 to start).
uint32_t Crc32c(std::string_view data, uint32_t crc = 0);

}  // namespace paxcron::storage

// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of every record and file
// paxcron writes (as in LevelDB, RocksDB and ext4). On x86-64 CPUs with SSE4.2 the crc32
// instruction computes it 8 bytes at a time (about 20 times the table's speed: a 100 MB snapshot
// is checked in hundredths of a second, not two thirds of one); elsewhere a table, one byte at a
// time. Both give the same values (tests/storage/record_format_test.cc compares them).
#pragma once

#include <cstdint>
#include <string_view>

namespace paxcron::storage {

// The CRC of `data`, continuing from `crc` (the CRC of everything before it; 0 to start).
uint32_t Crc32c(std::string_view data, uint32_t crc = 0);

// The portable table version, and whether Crc32c() uses the CPU's instruction (for tests and
// the benchmark).
uint32_t Crc32cTable(std::string_view data, uint32_t crc = 0);
bool Crc32cIsHardware();

}  // namespace paxcron::storage

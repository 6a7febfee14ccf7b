// Record framing: CRC-32C, torn tails told apart from damage, for every possible cut.
#include "storage/record_format.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "storage/crc32c.h"

namespace paxcron::storage {
namespace {

TEST(Crc32c, MatchesThePublishedCheckValue) {
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);  // Castagnoli's check value
  EXPECT_EQ(Crc32c(""), 0u);
  EXPECT_EQ(Crc32c("56789", Crc32c("1234")), Crc32c("123456789"));  // it continues
  EXPECT_EQ(Crc32cTable("123456789"), 0xE3069283u);
}

TEST(Crc32c, TheCpuInstructionAndTheTableAgreeOnEveryLengthAndAlignment) {
  std::string data;
  for (int i = 0; i < 300; ++i) data.push_back(static_cast<char>((i * 131 + 7) & 0xff));
  for (size_t start = 0; start < 9; ++start) {
    for (size_t len = 0; start + len <= data.size(); len += 1 + len / 8) {
      const std::string_view piece = std::string_view(data).substr(start, len);
      ASSERT_EQ(Crc32c(piece), Crc32cTable(piece)) << start << "+" << len;
      ASSERT_EQ(Crc32c(piece, 0x12345678), Crc32cTable(piece, 0x12345678));
    }
  }
  std::printf("Crc32c uses the %s\n", Crc32cIsHardware() ? "SSE4.2 instruction" : "table");
}

std::string ThreeRecords() {
  std::string log;
  AppendRecord("first", log);
  AppendRecord("", log);  // an empty payload is a record too
  AppendRecord(std::string(300, 'x'), log);
  return log;
}

TEST(SegmentScan, ReadsBackEveryRecord) {
  const SegmentScan scan = ScanSegment(ThreeRecords(), "log-1");
  EXPECT_EQ(scan.end, SegmentScan::End::kClean);
  ASSERT_EQ(scan.records.size(), 3u);
  EXPECT_EQ(scan.records[0], "first");
  EXPECT_EQ(scan.records[1], "");
  EXPECT_EQ(scan.records[2], std::string(300, 'x'));
  EXPECT_EQ(scan.valid_bytes, ThreeRecords().size());
}

TEST(SegmentScan, EveryCutIsATornTailThatKeepsTheWholeRecordsBeforeIt) {
  const std::string log = ThreeRecords();
  const uint64_t ends[] = {kRecordHeaderBytes + 5, 2 * kRecordHeaderBytes + 5, log.size()};
  for (size_t cut = 0; cut < log.size(); ++cut) {
    const SegmentScan scan = ScanSegment(std::string_view(log).substr(0, cut), "log-1");
    size_t whole = 0;
    while (whole < 3 && ends[whole] <= cut) ++whole;
    EXPECT_EQ(scan.records.size(), whole) << "cut at " << cut;
    const bool at_boundary = cut == 0 || cut == ends[0] || cut == ends[1];
    EXPECT_EQ(scan.end, at_boundary ? SegmentScan::End::kClean : SegmentScan::End::kTorn)
        << "cut at " << cut;
    EXPECT_EQ(scan.valid_bytes, whole == 0 ? 0 : ends[whole - 1]);
  }
}

TEST(SegmentScan, ALastRecordWithABadCrcIsTornButDamageBeforeTheEndIsAnError) {
  std::string log = ThreeRecords();
  log.back() = 'y';  // the last record's payload: as if the write was torn
  SegmentScan scan = ScanSegment(log, "log-1");
  EXPECT_EQ(scan.end, SegmentScan::End::kTorn);
  EXPECT_EQ(scan.records.size(), 2u);

  log = ThreeRecords();
  log[kRecordHeaderBytes + 1] = 'X';  // inside "first", with records after it
  scan = ScanSegment(log, "log-1");
  EXPECT_EQ(scan.end, SegmentScan::End::kCorrupt);
  EXPECT_TRUE(scan.records.empty());
  EXPECT_NE(scan.error.find("log-1: offset 0: record CRC mismatch"), std::string::npos)
      << scan.error;
}

TEST(SegmentScan, AFlippedLengthBitIsDamageNotATornTail) {
  // Every bit of the second record's header, flipped: a longer length would point past the end
  // of the file and, without the header's own CRC, pass for a torn append of the last record.
  for (size_t byte = 0; byte < kRecordHeaderBytes; ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string log = ThreeRecords();
      log[kRecordHeaderBytes + 5 + byte] ^= static_cast<char>(1 << bit);
      const SegmentScan scan = ScanSegment(log, "log-7");
      EXPECT_EQ(scan.end, SegmentScan::End::kCorrupt) << byte << ":" << bit;
      EXPECT_EQ(scan.records.size(), 1u);
      EXPECT_NE(scan.error.find("log-7: offset 17: record header CRC mismatch"), std::string::npos)
          << scan.error;
    }
  }
}

TEST(SegmentScan, AZeroFilledTailIsTornButZerosBeforeDataAreDamage) {
  std::string log = ThreeRecords() + std::string(100, '\0');
  SegmentScan scan = ScanSegment(log, "log-1");
  EXPECT_EQ(scan.end, SegmentScan::End::kTorn);
  EXPECT_EQ(scan.records.size(), 3u);
  EXPECT_NE(scan.error.find("zero-filled tail"), std::string::npos) << scan.error;
  // The last record's data never reached the disk, only the file's new size: zeros from inside
  // it to past its end.
  log = ThreeRecords();
  const size_t third = 2 * kRecordHeaderBytes + 5;  // where the third record starts
  std::fill(log.begin() + third + kRecordHeaderBytes + 10, log.end(), '\0');
  log += std::string(50, '\0');
  scan = ScanSegment(log, "log-1");
  EXPECT_EQ(scan.end, SegmentScan::End::kTorn) << scan.error;
  EXPECT_EQ(scan.records.size(), 2u);
  log = std::string(kRecordHeaderBytes, '\0') + ThreeRecords();
  scan = ScanSegment(log, "log-1");
  EXPECT_EQ(scan.end, SegmentScan::End::kCorrupt);
}

}  // namespace
}  // namespace paxcron::storage

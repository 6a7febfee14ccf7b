// Framing: the same frames from every split of a stream; oversized lengths refused at the header.
#include "transport/frame.h"

#include <gtest/gtest.h>

#include <vector>

#include "common/little_endian.h"

namespace paxcron::transport {
namespace {

std::string Stream(const std::vector<std::string>& payloads) {
  std::string stream;
  for (const std::string& payload : payloads) AppendFrame(payload, stream);
  return stream;
}

// Feeds `stream` cut at `cuts` (ascending) and returns every frame taken after each piece.
std::vector<std::string> DecodeInPieces(std::string_view stream, const std::vector<size_t>& cuts,
                                        uint32_t max_frame_bytes = 1000) {
  FrameDecoder decoder(max_frame_bytes);
  std::vector<std::string> frames;
  size_t from = 0;
  std::vector<size_t> ends = cuts;
  ends.push_back(stream.size());
  for (size_t end : ends) {
    EXPECT_TRUE(decoder.Feed(stream.substr(from, end - from)).ok());
    from = end;
    while (auto frame = decoder.Next()) frames.push_back(*frame);
  }
  EXPECT_EQ(decoder.buffered_bytes(), 0u);
  return frames;
}

const std::vector<std::string> kPayloads = {"first", "", std::string(40, 'x'), "last"};

TEST(Frame, HeaderIsTheLittleEndianLength) {
  std::string out;
  AppendFrame("abc", out);
  ASSERT_EQ(out.size(), kFrameHeaderBytes + 3);
  EXPECT_EQ(out.substr(0, 4), std::string("\x03\x00\x00\x00", 4));
  EXPECT_EQ(out.substr(4), "abc");
  EXPECT_EQ(PeekFrameLength(out), 3u);
  EXPECT_EQ(PeekFrameLength(out.substr(0, 3)), std::nullopt);
}

TEST(FrameDecoder, EverySplitIntoTwoOrThreePiecesGivesTheSameFrames) {
  const std::string stream = Stream(kPayloads);
  for (size_t a = 0; a <= stream.size(); ++a) {
    for (size_t b = a; b <= stream.size(); ++b) {
      ASSERT_EQ(DecodeInPieces(stream, {a, b}), kPayloads) << "cuts at " << a << ", " << b;
    }
  }
}

TEST(FrameDecoder, OneByteAtATimeGivesTheSameFrames) {
  const std::string stream = Stream(kPayloads);
  std::vector<size_t> cuts;
  for (size_t i = 1; i < stream.size(); ++i) cuts.push_back(i);
  EXPECT_EQ(DecodeInPieces(stream, cuts), kPayloads);
}

TEST(FrameDecoder, AFrameAtTheLimitIsAccepted) {
  const std::string payload(100, 'p');
  EXPECT_EQ(DecodeInPieces(Stream({payload}), {}, 100), std::vector<std::string>{payload});
}

TEST(FrameDecoder, AnOversizedLengthIsAnErrorAsSoonAsItsHeaderIsIn) {
  std::string header;
  PutLittleEndian<uint32_t>(101, header);
  FrameDecoder decoder(100);
  ASSERT_TRUE(decoder.Feed(header.substr(0, 3)).ok());  // not yet a whole header
  const Status status = decoder.Feed(header.substr(3));
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message(), "frame of 101 bytes is over the limit of 100");
  // The decoder stays failed: the stream cannot be trusted past a bad length.
  EXPECT_FALSE(decoder.Feed("more").ok());
  EXPECT_EQ(decoder.Next(), std::nullopt);
}

TEST(FrameDecoder, AnOversizedLengthBehindGoodFramesIsRefusedBeforeTheyAreTaken) {
  std::string stream = Stream({"good", "also good"});
  PutLittleEndian<uint32_t>(0xffffffff, stream);
  FrameDecoder decoder(1000);
  const Status status = decoder.Feed(stream);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("4294967295"), std::string::npos);
}

TEST(FrameDecoder, PeekLengthSeesTheNextHeaderOnly) {
  FrameDecoder decoder(1000);
  EXPECT_EQ(decoder.PeekLength(), std::nullopt);
  ASSERT_TRUE(decoder.Feed(Stream({"ab", std::string(500, 'z')})).ok());
  EXPECT_EQ(decoder.PeekLength(), 2u);
  EXPECT_EQ(decoder.Next(), "ab");
  EXPECT_EQ(decoder.PeekLength(), 500u);
  EXPECT_EQ(decoder.Next(), std::string(500, 'z'));
  EXPECT_EQ(decoder.PeekLength(), std::nullopt);
}

TEST(FrameDecoder, BuffersNoMoreThanItWasFed) {
  FrameDecoder decoder(1 << 20);
  std::string stream;
  for (int i = 0; i < 1000; ++i)
    AppendFrame(std::string(100, static_cast<char>('a' + i % 26)), stream);
  // A long stream taken frame by frame as it arrives keeps the buffer small (the consumed prefix
  // is dropped), and every frame comes out intact.
  size_t frames = 0, most_buffered = 0;
  for (size_t pos = 0; pos < stream.size(); pos += 333) {
    ASSERT_TRUE(decoder.Feed(std::string_view(stream).substr(pos, 333)).ok());
    most_buffered = std::max(most_buffered, decoder.buffered_bytes());
    while (auto frame = decoder.Next()) {
      ASSERT_EQ(*frame, std::string(100, static_cast<char>('a' + frames % 26)));
      ++frames;
    }
  }
  EXPECT_EQ(frames, 1000u);
  EXPECT_LT(most_buffered, 333u + 104u);
}

}  // namespace
}  // namespace paxcron::transport

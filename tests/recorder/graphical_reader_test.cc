// GraphicalReader on hand-made files: one test per kind of damage. The
// reader refuses what is malformed (DataLoss), reads a torn tail as
// truncated, and decodes nothing larger than the record says.
#include "recorder/graphical/graphical_reader.h"

#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "recorder/graphical/graphical_format.h"
#include "tests/support/test_util.h"

namespace portcullis::recorder {
namespace {

const std::string kHeader = "{\"format\": \"portcullis-graphical/1\"}\n";

std::string Rec(uint8_t type, uint64_t t, std::string_view payload) {
  std::string out;
  AppendGraphicalHead(static_cast<GraphicalRecord>(type), static_cast<int64_t>(t),
                      static_cast<uint32_t>(payload.size()), &out);
  out.append(payload);
  return out;
}

std::string Size(uint32_t w, uint32_t h) {
  std::string p;
  PutU32(w, &p);
  PutU32(h, &p);
  return p;
}

std::string Zstd(std::string_view data) {
  ZstdCompressor z;
  std::string out;
  z.Compress(data, &out);
  return out;
}

std::string Keyframe(uint32_t w, uint32_t h, std::string_view pixels) {
  return Size(w, h) + Zstd(pixels);
}

struct R {
  uint32_t x, y, w, h;
};
std::string Delta(const std::vector<R>& rects, std::string_view xored) {
  std::string p;
  PutU32(static_cast<uint32_t>(rects.size()), &p);
  for (const R& r : rects) {
    PutU32(r.x, &p);
    PutU32(r.y, &p);
    PutU32(r.w, &p);
    PutU32(r.h, &p);
  }
  return p + Zstd(xored);
}

class GraphicalReaderTest : public ::testing::Test {
 protected:
  absl::StatusOr<std::unique_ptr<GraphicalReader>> OpenBytes(const std::string& bytes,
                                                             GraphicalLimits limits = {}) {
    const std::string path = dir_.Join("r.pgr");
    EXPECT_TRUE(testing::WriteWholeFile(path, bytes, 0600).ok());
    return GraphicalReader::Open(path, limits);
  }
  void ExpectDataLoss(const std::string& bytes, std::string_view why,
                      GraphicalLimits limits = {}) {
    auto r = OpenBytes(bytes, limits);
    ASSERT_FALSE(r.ok()) << why;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss) << r.status();
    EXPECT_NE(std::string(r.status().message()).find(why), std::string::npos) << r.status();
  }
  // Opens, then decodes everything: the first failure.
  absl::Status Decode(const std::string& bytes) {
    auto r = OpenBytes(bytes);
    if (!r.ok()) return r.status();
    VideoFrame f;
    for (;;) {
      auto more = (*r)->Next(&f);
      if (!more.ok()) return more.status();
      if (!*more) return absl::OkStatus();
    }
  }

  testing::TempDir dir_{"pc-greader"};
};

// 2x1 pixels: a keyframe, then a delta that changes the right pixel.
TEST_F(GraphicalReaderTest, DecodesAHandMadeFile) {
  const std::string kf("\x01\x02\x03\x00\x04\x05\x06\x00", 8);
  const std::string x("\x10\x20\x30\x00", 4);
  const std::string file = kHeader + Rec(3, 0, Size(2, 1)) + Rec(1, 5, Keyframe(2, 1, kf)) +
                           Rec(2, 9, Delta({{1, 0, 1, 1}}, x)) + Rec(8, 12, "end: done");
  auto r = OpenBytes(file);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)->DurationMicros(), 12);
  EXPECT_EQ((*r)->header_line(), kHeader.substr(0, kHeader.size() - 1));
  auto f = (*r)->SeekTo(10);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->micros, 9);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(f->bgra), 8),
            std::string("\x01\x02\x03\x00\x14\x25\x36\x00", 8));
  f = (*r)->SeekTo(6);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(f->bgra), 8), kf);
  VideoFrame next;
  ASSERT_TRUE((*r)->Next(&next).value_or(false));
  EXPECT_EQ(next.micros, 9);
  EXPECT_FALSE((*r)->Next(&next).value_or(true));
}

TEST_F(GraphicalReaderTest, HeaderOnlyHasNoPictures) {
  auto r = OpenBytes(kHeader);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)->SeekTo(0).status().code(), absl::StatusCode::kNotFound);
  VideoFrame f;
  EXPECT_FALSE((*r)->Next(&f).value_or(true));
}

TEST_F(GraphicalReaderTest, RefusesAMissingOrForeignHeader) {
  ExpectDataLoss("", "no header line");
  ExpectDataLoss(std::string(100, 'x'), "no header line");
  ExpectDataLoss("{\"version\": 2, \"width\": 80}\n", "does not name");
  ExpectDataLoss("not json\n", "does not name");
  GraphicalLimits small;
  small.max_header_bytes = 16;
  ExpectDataLoss(kHeader, "no header line", small);
}

TEST_F(GraphicalReaderTest, RefusesUnknownTypesAndWrongLengths) {
  const std::string base = kHeader + Rec(3, 0, Size(4, 4));
  ExpectDataLoss(base + Rec(9, 1, "x"), "unknown record type 9");
  ExpectDataLoss(base + Rec(0, 1, ""), "unknown record type 0");
  ExpectDataLoss(base + Rec(6, 1, "abcd"), "wrong length");          // KEY is 5
  ExpectDataLoss(base + Rec(5, 1, std::string(13, '\0')), "wrong length");  // POINTER is 12
  ExpectDataLoss(base + Rec(3, 1, Size(4, 4) + "x"), "wrong length");
  ExpectDataLoss(base + Rec(6, 1, std::string("\0\0\0a\x02", 5)), "neither down nor up");
  ExpectDataLoss(base + Rec(7, 1, std::string(41, '\x05')), "no direction");
  GraphicalLimits small;
  small.max_record_bytes = 100;
  ExpectDataLoss(base + Rec(8, 1, std::string(101, 'm')), "longer than allowed", small);
  small.max_marker_bytes = 10;
  ExpectDataLoss(base + Rec(8, 1, std::string(11, 'm')), "marker longer", small);
}

TEST_F(GraphicalReaderTest, RefusesSizesOutOfRange) {
  ExpectDataLoss(kHeader + Rec(3, 0, Size(0, 10)), "out of range");
  ExpectDataLoss(kHeader + Rec(3, 0, Size(8193, 10)), "out of range");
  ExpectDataLoss(kHeader + Rec(1, 0, Size(10, 0xffffffff)), "out of range");
  GraphicalLimits small;
  small.max_width = 100;
  ExpectDataLoss(kHeader + Rec(3, 0, Size(101, 10)), "out of range", small);
  std::string cursor = Size(0, 0) + Size(600, 600);
  ExpectDataLoss(kHeader + Rec(4, 0, cursor), "cursor shape out of range");
}

TEST_F(GraphicalReaderTest, RefusesADeltaBeforeAnyPictureAndTimeGoingBack) {
  ExpectDataLoss(kHeader + Rec(2, 0, Delta({{0, 0, 1, 1}}, std::string(4, 'x'))),
                 "a delta before any keyframe or resize");
  ExpectDataLoss(kHeader + Rec(3, 100, Size(2, 2)) + Rec(3, 99, Size(3, 3)), "out of time order");
  // Input may be older than the picture before it (one flush interval).
  auto r = OpenBytes(kHeader + Rec(3, 100, Size(2, 2)) + Rec(6, 90, std::string("\0\0\0a\x01", 5)));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)->input_events().size(), 1u);
}

TEST_F(GraphicalReaderTest, ATornTailIsTruncatedNotAnError) {
  const std::string good = kHeader + Rec(3, 0, Size(2, 2)) + Rec(6, 5, std::string("\0\0\0a\x01", 5));
  const std::string next = Rec(1, 7, Keyframe(2, 2, std::string(16, '\x07')));
  for (size_t cut : {size_t{1}, size_t{5}, size_t{12}, size_t{13}, next.size() - 1}) {
    auto r = OpenBytes(good + next.substr(0, cut));
    ASSERT_TRUE(r.ok()) << cut << ": " << r.status();
    EXPECT_TRUE((*r)->truncated()) << cut;
    EXPECT_EQ((*r)->valid_bytes(), good.size());
    EXPECT_EQ((*r)->picture_records(), 1u);
  }
  auto r = OpenBytes(good + next);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE((*r)->truncated());
  EXPECT_EQ((*r)->picture_records(), 2u);
}

TEST_F(GraphicalReaderTest, CorruptPicturesFailWhenDecoded) {
  const std::string start = kHeader + Rec(3, 0, Size(2, 2));
  const std::string px(16, '\x07');
  // zstd damaged, of the wrong size, or followed by bytes.
  std::string kf = Keyframe(2, 2, px);
  kf[kf.size() - 2] = static_cast<char>(kf[kf.size() - 2] ^ 0xff);
  EXPECT_EQ(Decode(start + Rec(1, 1, kf)).code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(Decode(start + Rec(1, 1, Keyframe(2, 2, px + "x"))).code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(Decode(start + Rec(1, 1, Keyframe(2, 2, px) + "tail")).code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(Decode(start + Rec(1, 1, Size(2, 2) + "not zstd")).code(), absl::StatusCode::kDataLoss);
  // A zstd bomb: a tiny frame announcing 16 MB for a 2x2 keyframe.
  EXPECT_EQ(Decode(start + Rec(1, 1, Size(2, 2) + Zstd(std::string(16 << 20, '\0')))).code(),
            absl::StatusCode::kDataLoss);
  // Delta rectangles outside the picture, too many, overlapping past its area.
  const std::string x4(4, '\x01');
  EXPECT_EQ(Decode(start + Rec(2, 1, Delta({{2, 0, 1, 1}}, x4))).code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(Decode(start + Rec(2, 1, Delta({{0, 1, 1, 2}}, x4 + x4))).code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(Decode(start + Rec(2, 1, Delta({{0, 0, 0, 1}}, ""))).code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(Decode(start + Rec(2, 1, Delta({{0, 0, 2, 2}, {0, 0, 2, 2}}, std::string(32, 'x'))))
                .code(),
            absl::StatusCode::kDataLoss);
  std::string many;
  PutU32(1000, &many);
  EXPECT_EQ(Decode(start + Rec(2, 1, many + std::string(20, '\0'))).code(),
            absl::StatusCode::kDataLoss);
  // ... and a good one decodes.
  EXPECT_TRUE(Decode(start + Rec(2, 1, Delta({{1, 1, 1, 1}}, x4))).ok());
}

}  // namespace
}  // namespace portcullis::recorder

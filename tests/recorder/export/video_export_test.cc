// MP4 / WebM / PNG export of a synthetic HMI screen, checked with the real
// ffprobe binary and by decoding the files back with libavcodec.
#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "recorder/export/exporter.h"
#include "tests/recorder/export/decode_util.h"
#include "tests/recorder/export/synthetic_source.h"
#include "tests/support/test_util.h"

namespace portcullis::testing {
namespace {

using recorder::ExportMetadata;
using recorder::VideoExportOptions;
using recorder::VideoFormat;

constexpr char kId[] = "0f3c9a2e71d4.1";
constexpr char kSha[] = "9b71d224bd62f3785d96d46ad3ea3d73319bfbc2890caadae2dff72519673ca7";

SyntheticOptions Screen() {
  SyntheticOptions o;
  o.duration_micros = 15'000'000;
  o.step_micros = 200'000;
  o.resize_at_micros = 10'000'000;
  return o;
}

VideoExportOptions Options(VideoFormat format, const std::string& path) {
  VideoExportOptions o;
  o.format = format;
  o.output_path = path;
  o.metadata = ExportMetadata{kId, kSha};
  return o;
}

std::vector<std::string> Entries(const std::string& dir) {
  std::vector<std::string> names;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") names.push_back(n);
    }
    ::closedir(d);
  }
  return names;
}

nlohmann::json Probe(const std::string& path) {
  CommandResult r = RunCommand({"ffprobe", "-v", "error", "-show_format", "-show_streams", "-of",
                                "json", path});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return nlohmann::json::parse(r.out, nullptr, false);
}

// Key packet times (s) of the video stream, from ffprobe.
std::vector<double> KeyframeTimes(const std::string& path) {
  CommandResult r = RunCommand({"ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                                "packet=pts_time,flags", "-of", "csv=p=0", path});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<double> keys;
  size_t pos = 0;
  while (pos < r.out.size()) {
    size_t end = r.out.find('\n', pos);
    if (end == std::string::npos) end = r.out.size();
    std::string line = r.out.substr(pos, end - pos);
    pos = end + 1;
    const size_t comma = line.find(',');
    if (comma == std::string::npos) continue;
    if (line.find('K', comma) != std::string::npos) keys.push_back(std::stod(line.substr(0, comma)));
  }
  return keys;
}

std::string Tag(const nlohmann::json& tags, std::string key) {
  for (auto it = tags.begin(); it != tags.end(); ++it) {
    std::string k = it.key();
    std::transform(k.begin(), k.end(), k.begin(), [](unsigned char c) { return std::tolower(c); });
    if (k == key) return it.value().get<std::string>();
  }
  return "";
}

void CheckProbe(const std::string& path, const std::string& codec) {
  nlohmann::json j = Probe(path);
  ASSERT_FALSE(j.is_discarded());
  ASSERT_EQ(j["streams"].size(), 1u);
  const auto& s = j["streams"][0];
  EXPECT_EQ(s["codec_name"], codec);
  EXPECT_EQ(s["width"], 1280);
  EXPECT_EQ(s["height"], 1024);
  EXPECT_EQ(s["pix_fmt"], "yuv420p");
  const double duration = std::stod(j["format"]["duration"].get<std::string>());
  EXPECT_NEAR(duration, 15.0, 0.07) << "within two frames at 30 fps";
  const auto& tags = j["format"]["tags"];
  EXPECT_EQ(Tag(tags, "portcullis_recording_id"), kId) << tags.dump();
  EXPECT_EQ(Tag(tags, "portcullis_recording_sha256"), kSha) << tags.dump();
  EXPECT_NE(Tag(tags, "comment").find(kSha), std::string::npos) << tags.dump();
  std::vector<double> keys = KeyframeTimes(path);
  ASSERT_FALSE(keys.empty());
  EXPECT_NEAR(keys.front(), 0.0, 0.001);
  for (size_t i = 1; i < keys.size(); ++i) EXPECT_LE(keys[i] - keys[i - 1], 2.0 + 1e-6) << i;
  EXPECT_LE(15.0 - keys.back(), 2.0 + 1e-6);
}

// The decoded picture shown at `ms` resembles the source's there.
void CheckResembles(const std::vector<RgbPicture>& pics, SyntheticSource& source, int64_t ms,
                    double min_psnr) {
  const RgbPicture* shown = nullptr;
  for (const auto& p : pics) {
    if (p.pts_ms <= ms) shown = &p;
  }
  ASSERT_NE(shown, nullptr);
  std::vector<uint8_t> want;
  recorder::VideoFrame f = source.Picture(ms * 1000, &want);
  ASSERT_EQ(shown->width, 1280);
  const double psnr = Psnr(*shown, f.bgra, f.stride, f.width, f.height);
  EXPECT_GT(psnr, min_psnr) << "at " << ms << " ms";
  // The clock's last digit (40x50 at 200,20) shows this second, not the
  // previous one (saturated green on black: 4:2:0 costs it some dB).
  const double clock = Psnr(*shown, f.bgra, f.stride, 40, 50, 200, 20);
  EXPECT_GT(clock, 22.0) << "at " << ms << " ms";
  if (ms >= 1000) {
    std::vector<uint8_t> before;
    recorder::VideoFrame b = source.Picture((ms - 1000) * 1000, &before);
    const double wrong = Psnr(*shown, b.bgra, b.stride, 40, 50, 200, 20);
    EXPECT_LT(wrong, clock - 4) << "at " << ms << " ms";
  }
  // Outside a smaller frame the canvas is black (limited-range black
  // decodes to 0..2).
  if (f.width < shown->width) {
    double sum = 0;
    int n = 0;
    for (int y = 0; y < shown->height; ++y) {
      for (int x = f.width + 8; x < shown->width; ++x, ++n) {
        for (int c = 0; c < 3; ++c) sum += shown->rgb[(static_cast<size_t>(y) * shown->width + x) * 3 + c];
      }
    }
    EXPECT_LT(sum / (n * 3.0), 4.0);
  }
}

class VideoExportTest : public ::testing::TestWithParam<VideoFormat> {};

TEST_P(VideoExportTest, FfprobeSeesCodecDurationSizeKeyframesAndMetadata) {
  TempDir dir("pc-export");
  const bool mp4 = GetParam() == VideoFormat::kMp4;
  const std::string path = dir.Join(mp4 ? "s.mp4" : "s.webm");
  SyntheticSource source(Screen());
  std::vector<double> progress;
  VideoExportOptions o = Options(GetParam(), path);
  o.progress = [&](double f) {
    progress.push_back(f);
    return true;
  };
  auto r = recorder::ExportVideo(source, o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->width, 1280);
  EXPECT_EQ(r->height, 1024);
  EXPECT_EQ(r->duration_micros, 15'000'000);
  EXPECT_GT(r->bytes, 1000u);
  EXPECT_EQ(Entries(dir.path()), std::vector<std::string>{mp4 ? "s.mp4" : "s.webm"});
  ASSERT_FALSE(progress.empty());
  EXPECT_TRUE(std::is_sorted(progress.begin(), progress.end()));
  EXPECT_DOUBLE_EQ(progress.back(), 1.0);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  CheckProbe(path, mp4 ? "h264" : "vp9");

  auto pics = DecodeVideo(path);
  ASSERT_TRUE(pics.ok()) << pics.status();
  // Every source change (75 steps) plus repeated keyframes and the end.
  EXPECT_GE(pics->size(), 75u);
  EXPECT_EQ(pics->back().pts_ms, 14'800);  // lasting until 15 s
  for (int64_t ms : {0, 3'400, 9'800, 12'600, 14'999}) {
    CheckResembles(*pics, source, ms, 29.0);
  }
}

INSTANTIATE_TEST_SUITE_P(Formats, VideoExportTest,
                         ::testing::Values(VideoFormat::kMp4, VideoFormat::kWebm),
                         [](const auto& info) { return info.param == VideoFormat::kMp4 ? "Mp4" : "Webm"; });

TEST(VideoExport, StaticScreenGetsFewFramesAndKeyframesEveryTwoSeconds) {
  TempDir dir("pc-export");
  SyntheticOptions so = Screen();
  so.moving_rectangle = false;
  so.resize_at_micros = -1;
  so.duration_micros = 20'500'000;
  SyntheticSource source(so);
  const std::string path = dir.Join("static.mp4");
  auto r = recorder::ExportVideo(source, Options(VideoFormat::kMp4, path));
  ASSERT_TRUE(r.ok()) << r.status();
  // 21 clock ticks and no repeated keyframes (ticks are 1 s apart).
  EXPECT_EQ(r->frames, 21);
  nlohmann::json j = Probe(path);
  EXPECT_NEAR(std::stod(j["format"]["duration"].get<std::string>()), 20.5, 0.07);
}

TEST(VideoExport, LongStillStretchGetsRepeatedKeyframes) {
  // A screen that changes only at 0 and at 9 s, and ends at 10 s.
  class TwoChanges final : public recorder::FrameSource {
   public:
    int64_t DurationMicros() const override { return 10'000'000; }
    int MaxWidth() const override { return 320; }
    int MaxHeight() const override { return 240; }
    absl::StatusOr<bool> Next(recorder::VideoFrame* f) override {
      if (n_ == 2) return false;
      std::fill(px_.begin(), px_.end(), static_cast<uint8_t>(n_ == 0 ? 40 : 200));
      *f = recorder::VideoFrame{n_ == 0 ? 0 : 9'000'000, 320, 240, px_.data(), 320 * 4};
      ++n_;
      return true;
    }
    absl::StatusOr<recorder::VideoFrame> SeekTo(int64_t) override {
      return absl::UnimplementedError("not used");
    }

   private:
    int n_ = 0;
    std::vector<uint8_t> px_ = std::vector<uint8_t>(320 * 240 * 4);
  } source;
  TempDir dir("pc-export");
  const std::string path = dir.Join("still.webm");
  auto r = recorder::ExportVideo(source, Options(VideoFormat::kWebm, path));
  ASSERT_TRUE(r.ok()) << r.status();
  std::vector<double> keys = KeyframeTimes(path);
  EXPECT_EQ(keys, (std::vector<double>{0, 2, 4, 6, 8}));
  auto pics = DecodeVideo(path);
  ASSERT_TRUE(pics.ok()) << pics.status();
  std::vector<int64_t> pts;
  for (const auto& p : *pics) pts.push_back(p.pts_ms);
  EXPECT_EQ(pts, (std::vector<int64_t>{0, 2000, 4000, 6000, 8000, 9000}));
  EXPECT_NEAR(std::stod(Probe(path)["format"]["duration"].get<std::string>()), 10.0, 0.002);
}

TEST(VideoExport, OddSizesArePaddedToEven) {
  TempDir dir("pc-export");
  SyntheticOptions so;
  so.width = 641;
  so.height = 479;
  so.duration_micros = 2'000'000;
  SyntheticSource source(so);
  const std::string path = dir.Join("odd.mp4");
  auto r = recorder::ExportVideo(source, Options(VideoFormat::kMp4, path));
  ASSERT_TRUE(r.ok()) << r.status();
  nlohmann::json j = Probe(path);
  EXPECT_EQ(j["streams"][0]["width"], 642);
  EXPECT_EQ(j["streams"][0]["height"], 480);
}

TEST(VideoExport, CancelByProgressLeavesNoFile) {
  TempDir dir("pc-export");
  SyntheticSource source(Screen());
  VideoExportOptions o = Options(VideoFormat::kMp4, dir.Join("c.mp4"));
  o.progress = [](double f) { return f < 0.3; };
  auto r = recorder::ExportVideo(source, o);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kCancelled) << r.status();
  EXPECT_TRUE(Entries(dir.path()).empty());
}

TEST(VideoExport, CancelByFlagLeavesNoFile) {
  TempDir dir("pc-export");
  SyntheticSource source(Screen());
  std::atomic<bool> cancel{false};
  VideoExportOptions o = Options(VideoFormat::kWebm, dir.Join("c.webm"));
  o.cancel = &cancel;
  o.progress = [&](double f) {
    if (f > 0.5) cancel = true;
    return true;
  };
  auto r = recorder::ExportVideo(source, o);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kCancelled) << r.status();
  EXPECT_TRUE(Entries(dir.path()).empty());
}

TEST(VideoExport, SourceErrorIsPassedOnAndLeavesNoFile) {
  TempDir dir("pc-export");
  SyntheticOptions so = Screen();
  so.fail_at_micros = 5'000'000;
  SyntheticSource source(so);
  auto r = recorder::ExportVideo(source, Options(VideoFormat::kMp4, dir.Join("e.mp4")));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss) << r.status();
  EXPECT_TRUE(Entries(dir.path()).empty());
}

TEST(VideoExport, BadOutputPathIsAClearError) {
  SyntheticSource source(Screen());
  auto r = recorder::ExportVideo(source, Options(VideoFormat::kMp4, "/nonexistent-pc-dir/x.mp4"));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound) << r.status();
  EXPECT_NE(r.status().message().find("/nonexistent-pc-dir/"), std::string::npos) << r.status();
  EXPECT_NE(r.status().message().find("No such file or directory"), std::string::npos) << r.status();

  TempDir dir("pc-export");
  auto d = recorder::ExportVideo(source, Options(VideoFormat::kMp4, dir.path()));
  EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument) << d.status();
}

TEST(VideoExport, ExistingFileIsKeptUnlessOverwriteIsAsked) {
  TempDir dir("pc-export");
  const std::string path = dir.Join("x.mp4");
  ASSERT_TRUE(WriteWholeFile(path, "keep me").ok());
  SyntheticOptions so = Screen();
  so.duration_micros = 1'000'000;
  {
    SyntheticSource source(so);
    auto r = recorder::ExportVideo(source, Options(VideoFormat::kMp4, path));
    EXPECT_EQ(r.status().code(), absl::StatusCode::kAlreadyExists) << r.status();
    EXPECT_EQ(*ReadWholeFile(path), "keep me");
  }
  SyntheticSource source(so);
  VideoExportOptions o = Options(VideoFormat::kMp4, path);
  o.overwrite = true;
  auto r = recorder::ExportVideo(source, o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(Probe(path)["streams"][0]["codec_name"], "h264");
  EXPECT_EQ(Entries(dir.path()).size(), 1u);
}

TEST(VideoExport, EmptySourceIsRefused) {
  TempDir dir("pc-export");
  SyntheticOptions so;
  so.duration_micros = 0;
  SyntheticSource source(so);
  auto r = recorder::ExportVideo(source, Options(VideoFormat::kMp4, dir.Join("e.mp4")));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
  EXPECT_TRUE(Entries(dir.path()).empty());
}

TEST(VideoExport, APictureWithTooShortRowsIsRefused) {
  class BadStride final : public recorder::FrameSource {
   public:
    int64_t DurationMicros() const override { return 1'000'000; }
    int MaxWidth() const override { return 64; }
    int MaxHeight() const override { return 64; }
    absl::StatusOr<bool> Next(recorder::VideoFrame* f) override {
      *f = recorder::VideoFrame{0, 64, 64, px_.data(), 64};  // 64 bytes for 256 per row
      return true;
    }
    absl::StatusOr<recorder::VideoFrame> SeekTo(int64_t) override {
      return absl::UnimplementedError("not used");
    }

   private:
    std::vector<uint8_t> px_ = std::vector<uint8_t>(64 * 64);
  } source;
  TempDir dir("pc-export");
  auto r = recorder::ExportVideo(source, Options(VideoFormat::kMp4, dir.Join("b.mp4")));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
  EXPECT_TRUE(Entries(dir.path()).empty());
}

TEST(VideoExport, ParseVideoFormat) {
  EXPECT_EQ(*recorder::ParseVideoFormat("mp4"), VideoFormat::kMp4);
  EXPECT_EQ(*recorder::ParseVideoFormat("webm"), VideoFormat::kWebm);
  EXPECT_FALSE(recorder::ParseVideoFormat("avi").ok());
}

// PNG at a time: exactly the source's pixels, before and after a resize.
TEST(PngExport, PictureAtTimeIsBitExact) {
  TempDir dir("pc-export");
  SyntheticSource source(Screen());
  for (int64_t t : {0, 7'300'000, 12'345'678, 15'000'000}) {
    const std::string path = dir.Join("at" + std::to_string(t) + ".png");
    auto r = recorder::ExportPng(source, t, path);
    ASSERT_TRUE(r.ok()) << r.status();
    auto png = ReadWholeFile(path);
    ASSERT_TRUE(png.ok());
    EXPECT_EQ(png->compare(0, 8, "\x89PNG\r\n\x1a\n"), 0);
    auto pic = DecodePng(*png);
    ASSERT_TRUE(pic.ok()) << pic.status();
    std::vector<uint8_t> want;
    recorder::VideoFrame f = source.Picture(source.ChangeAtOrBefore(t), &want);
    ASSERT_EQ(pic->width, f.width);
    ASSERT_EQ(pic->height, f.height);
    EXPECT_EQ(f.width, t >= 10'000'000 ? 1024 : 1280);
    size_t mismatches = 0;
    for (int y = 0; y < f.height; ++y) {
      for (int x = 0; x < f.width; ++x) {
        const uint8_t* s = f.bgra + static_cast<size_t>(y) * f.stride + x * 4;
        const uint8_t* g = pic->rgb.data() + (static_cast<size_t>(y) * f.width + x) * 3;
        mismatches += g[0] != s[2] || g[1] != s[1] || g[2] != s[0];
      }
    }
    EXPECT_EQ(mismatches, 0u) << "at " << t;
  }
}

TEST(PngExport, TimeOutsideTheRecordingIsRefused) {
  TempDir dir("pc-export");
  SyntheticSource source(Screen());
  EXPECT_EQ(recorder::ExportPng(source, 15'000'001, dir.Join("x.png")).status().code(),
            absl::StatusCode::kOutOfRange);
  EXPECT_EQ(recorder::ExportPng(source, -1, dir.Join("x.png")).status().code(),
            absl::StatusCode::kOutOfRange);
  EXPECT_EQ(recorder::ExportPng(source, 0, "/nonexistent-pc-dir/x.png").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(Entries(dir.path()).empty());
}

TEST(PngExport, BadFrameIsRefused) {
  recorder::VideoFrame f;
  EXPECT_EQ(recorder::EncodePng(f).status().code(), absl::StatusCode::kInvalidArgument);
  std::vector<uint8_t> px(16);
  f = recorder::VideoFrame{0, 4, 1, px.data(), 8};  // stride too short
  EXPECT_EQ(recorder::EncodePng(f).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace portcullis::testing

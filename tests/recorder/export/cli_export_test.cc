// `portcullis recordings export FILE.pgr --format mp4|webm|png`: a
// graphical recording written by the real GraphicalWriter (through the
// broker's factory, sealed), exported by the real CLI binary, checked with
// the real ffprobe and by decoding the output with libavcodec; on a
// terminal, a progress bar, and Ctrl-C in the middle leaves no file.
#include <dirent.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "recorder/graphical/graphical_reader.h"
#include "tests/recorder/export/decode_util.h"
#include "tests/recorder/export/synthetic_recording.h"
#include "tests/recorder/export/synthetic_source.h"
#include "tests/support/pty_process.h"
#include "tests/support/test_util.h"

namespace portcullis::testing {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

const std::string kCli = std::string(PC_BUILD_DIR) + "/broker/cli/portcullis";

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

class CliExportTest : public ::testing::Test {
 protected:
  std::string Record(SyntheticSource& source, const std::string& session) {
    auto path = RecordSynthetic(source, recordings_.path(), session);
    EXPECT_TRUE(path.ok()) << path.status();
    return path.ok() ? *path : "";
  }

  CommandResult Cli(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {kCli};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv, "", 120s, {"PORTCULLIS_HOME=" + home_.path()});
  }

  TempDir recordings_{"pc-export-rec"};
  TempDir out_{"pc-export-out"};
  TempDir home_{"pc-export-home"};
};

SyntheticOptions Hmi() {
  SyntheticOptions o;
  o.duration_micros = 12'000'000;
  o.step_micros = 500'000;
  o.resize_at_micros = 8'000'000;
  return o;
}

TEST_F(CliExportTest, VideoAndPngOfARealGraphicalRecording) {
  SyntheticSource source(Hmi());
  const std::string pgr = Record(source, "e2e1");
  ASSERT_FALSE(pgr.empty());
  auto sha = [&] {
    CommandResult r = RunCommand({"sha256sum", pgr});
    return r.out.substr(0, 64);
  }();

  for (const std::string format : {"mp4", "webm"}) {
    const std::string out = out_.Join("s." + format);
    CommandResult r = Cli({"recordings", "export", pgr, "--format", format, "-o", out});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_THAT(r.out, HasSubstr("exported e2e1.0 to " + out));
    // Not a terminal: no progress bar drawn.
    EXPECT_EQ(r.err.find('\r'), std::string::npos) << r.err;
    CommandResult probe = RunCommand({"ffprobe", "-v", "error", "-show_format", "-show_streams", "-of",
                                      "json", out});
    ASSERT_EQ(probe.exit_code, 0) << probe.err;
    auto j = nlohmann::json::parse(probe.out);
    EXPECT_EQ(j["streams"][0]["codec_name"], format == "mp4" ? "h264" : "vp9");
    EXPECT_EQ(j["streams"][0]["width"], 1280);
    EXPECT_EQ(j["streams"][0]["height"], 1024);
    EXPECT_NEAR(std::stod(j["format"]["duration"].get<std::string>()), 12.0, 0.07);
    std::string tags = j["format"]["tags"].dump();
    EXPECT_THAT(tags, HasSubstr("e2e1.0"));
    EXPECT_THAT(tags, HasSubstr(sha));
    auto pics = DecodeVideo(out);
    ASSERT_TRUE(pics.ok()) << pics.status();
    // The picture at 6.2 s resembles what was recorded then.
    const RgbPicture* shown = nullptr;
    for (const auto& p : *pics) {
      if (p.pts_ms <= 6200) shown = &p;
    }
    ASSERT_NE(shown, nullptr);
    std::vector<uint8_t> want;
    recorder::VideoFrame f = source.Picture(6'200'000, &want);
    EXPECT_GT(Psnr(*shown, f.bgra, f.stride, f.width, f.height), 29.0);
  }

  // PNG at 00:00:09 (after the resize): exactly the reader's picture there,
  // which is exactly what was recorded.
  const std::string png_path = out_.Join("at.png");
  CommandResult r = Cli({"recordings", "export", pgr, "--format", "png", "--at", "00:00:09", "-o", png_path});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto png = DecodePng(*ReadWholeFile(png_path));
  ASSERT_TRUE(png.ok()) << png.status();
  std::vector<uint8_t> want;
  recorder::VideoFrame f = source.Picture(9'000'000, &want);
  ASSERT_EQ(png->width, 1024);
  ASSERT_EQ(png->height, 768);
  EXPECT_EQ(Psnr(*png, f.bgra, f.stride, f.width, f.height), std::numeric_limits<double>::infinity());
  auto reader = recorder::GraphicalReader::Open(pgr);
  ASSERT_TRUE(reader.ok()) << reader.status();
  auto at = (*reader)->SeekTo(9'000'000);
  ASSERT_TRUE(at.ok()) << at.status();
  EXPECT_EQ(Psnr(*png, at->bgra, at->stride, at->width, at->height),
            std::numeric_limits<double>::infinity());

  // Refusals: an existing file, a bad time, png without --at, --at for video.
  CommandResult again = Cli({"recordings", "export", pgr, "--format", "png", "--at", "9", "-o", png_path});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_THAT(again.err, HasSubstr("exists"));
  EXPECT_THAT(again.err, HasSubstr("--force overwrites it"));
  CommandResult late = Cli({"recordings", "export", pgr, "--format", "png", "--at", "1:00", "-o",
                            out_.Join("late.png")});
  EXPECT_EQ(late.exit_code, 1);
  EXPECT_THAT(late.err, HasSubstr("outside the recording"));
  EXPECT_EQ(Cli({"recordings", "export", pgr, "--format", "png", "-o", out_.Join("x.png")}).exit_code, 2);
  EXPECT_EQ(Cli({"recordings", "export", pgr, "--format", "mp4", "--at", "3", "-o", out_.Join("x.mp4")})
                .exit_code,
            2);
  EXPECT_EQ(Cli({"recordings", "export", pgr, "--format", "avi", "-o", out_.Join("x.avi")}).exit_code, 2);
  CommandResult nodir = Cli({"recordings", "export", pgr, "--format", "mp4", "-o", "/nonexistent-pc/x.mp4"});
  EXPECT_EQ(nodir.exit_code, 1);
  EXPECT_THAT(nodir.err, HasSubstr("/nonexistent-pc/"));
  std::vector<std::string> files = Entries(out_.path());
  std::sort(files.begin(), files.end());
  EXPECT_EQ(files, (std::vector<std::string>{"at.png", "s.mp4", "s.webm"}));
}

// On a terminal: a progress bar; Ctrl-C typed there cancels (exit 130)
// and leaves no file, not even the temporary one.
TEST_F(CliExportTest, ProgressBarOnATerminalAndCtrlCLeavesNoFile) {
  SyntheticOptions o;
  o.duration_micros = 120'000'000;  // long enough to still be exporting
  o.step_micros = 200'000;
  SyntheticSource source(o);
  const std::string pgr = Record(source, "ctrlc");
  ASSERT_FALSE(pgr.empty());
  const std::string out = out_.Join("c.webm");
  auto cli = PtyProcess::Start({kCli, "recordings", "export", pgr, "--format", "webm", "-o", out},
                               {"PORTCULLIS_HOME=" + home_.path()});
  ASSERT_TRUE(cli.ok()) << cli.status();
  ASSERT_TRUE((*cli)->ReadUntil("encoding  [")) << (*cli)->output();
  EXPECT_EQ(Entries(out_.path()).size(), 1u);  // the temporary file
  ASSERT_TRUE((*cli)->Write("\x03"));
  std::optional<int> rc = (*cli)->WaitExit();
  ASSERT_TRUE(rc.has_value()) << (*cli)->output();
  EXPECT_EQ(*rc, 130) << (*cli)->output();
  EXPECT_THAT((*cli)->output(), HasSubstr("export cancelled; no file written"));
  EXPECT_TRUE(Entries(out_.path()).empty());

  // Uninterrupted, the bar reaches 100% and is erased.
  SyntheticOptions s = Hmi();
  SyntheticSource small(s);
  const std::string pgr2 = Record(small, "bar");
  auto done = PtyProcess::Start({kCli, "recordings", "export", pgr2, "--format", "mp4", "-o", out_.Join("b.mp4")},
                                {"PORTCULLIS_HOME=" + home_.path()});
  ASSERT_TRUE(done.ok()) << done.status();
  rc = (*done)->WaitExit();
  ASSERT_TRUE(rc.has_value());
  EXPECT_EQ(*rc, 0) << (*done)->output();
  EXPECT_THAT((*done)->output(), HasSubstr("] 100%"));
  EXPECT_THAT((*done)->output(), HasSubstr("\r\033[K"));
  EXPECT_THAT((*done)->output(), HasSubstr("exported bar.0 to "));
}

}  // namespace
}  // namespace portcullis::testing

// Graphical recordings end to end: GraphicalWriter -> sealed .pgr file ->
// GraphicalReader. Pictures are compared pixel for pixel with a model of
// what the writer was shown, at random times.
#include "recorder/graphical/graphical_writer.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "broker/common/encoding.h"
#include "broker/common/files.h"
#include "recorder/asciicast_factory.h"
#include "recorder/cast_search.h"
#include "recorder/graphical/graphical_format.h"
#include "recorder/graphical/graphical_reader.h"
#include "recorder/graphical/input_log.h"
#include "recorder/recording_directory.h"
#include "recorder/seal_format.h"
#include "recorder/verifier.h"
#include "tests/recorder/recording_files.h"
#include "tests/recorder/test_signer.h"
#include "tests/support/test_util.h"

namespace portcullis::recorder {
namespace {

using namespace std::chrono_literals;

// What the user saw: a framebuffer the test paints into exactly as it
// hands the same rectangles to the recorder.
struct Model {
  int w = 0, h = 0;
  std::vector<uint8_t> px;
  void Resize(int nw, int nh) {
    w = nw;
    h = nh;
    px.assign(size_t(w) * h * 4, 0);
  }
  // Paints `src` (stride sw*4) at (x, y), clipped; the unused byte is 0.
  void Paint(int x, int y, int sw, int sh, const uint8_t* src) {
    for (int r = 0; r < sh; ++r) {
      for (int c = 0; c < sw; ++c) {
        const int X = x + c, Y = y + r;
        if (X < 0 || Y < 0 || X >= w || Y >= h) continue;
        uint8_t* d = px.data() + (size_t(Y) * w + X) * 4;
        std::memcpy(d, src + (size_t(r) * sw + c) * 4, 3);
        d[3] = 0;
      }
    }
  }
};

bool SamePicture(const VideoFrame& f, const Model& m) {
  if (f.width != m.w || f.height != m.h) return false;
  for (int y = 0; y < m.h; ++y) {
    if (std::memcmp(f.bgra + size_t(y) * f.stride, m.px.data() + size_t(y) * m.w * 4,
                    size_t(m.w) * 4) != 0) {
      return false;
    }
  }
  return true;
}

// Pixels that compress somewhat, like a screen: runs of one colour, with
// garbage in the unused byte.
std::vector<uint8_t> Pattern(std::mt19937& rng, int w, int h) {
  std::vector<uint8_t> px(size_t(w) * h * 4);
  uint32_t colour = rng();
  for (size_t i = 0; i < px.size(); i += 4) {
    if (rng() % 13 == 0) colour = rng();
    std::memcpy(px.data() + i, &colour, 4);
    px[i + 3] = static_cast<uint8_t>(rng());
  }
  return px;
}

class GraphicalWriterTest : public ::testing::Test {
 protected:
  RecordingDirectoryOptions Options() {
    RecordingDirectoryOptions opts;
    opts.dir = dir_.path();
    opts.min_free_bytes = 0;
    opts.signer = &signer_;
    opts.checkpoint_bytes = 64 << 10;
    return opts;
  }

  session::RecordingInfo Info(std::string id = "gr4ph1c") {
    session::RecordingInfo info;
    info.session_id = std::move(id);
    info.user = "bob";
    info.login = "operator";
    info.target = "hmi-02";
    info.protocol = "vnc";
    info.source = "127.0.0.1:50900";
    info.started = clock_.Now();
    return info;
  }

  std::unique_ptr<GraphicalWriter> Open(const session::RecordingInfo& info,
                                        GraphicalEncoderOptions enc = {},
                                        GraphicalWriterOptions wopts = {},
                                        RecordingDirectoryOptions opts = {}) {
    if (opts.dir.empty()) opts = Options();
    dir_obj_ = std::make_unique<RecordingDirectory>(opts, &clock_);
    auto stream = dir_obj_->Open(info, GraphicalFormat(), NewGraphicalEncoder(enc), wopts.buffer_cap);
    EXPECT_TRUE(stream.ok()) << stream.status();
    if (!stream.ok()) return nullptr;
    path_ = (*stream)->path();
    return std::make_unique<GraphicalWriter>(std::move(*stream), wopts);
  }

  std::unique_ptr<GraphicalReader> Read(GraphicalLimits limits = {}) {
    auto r = GraphicalReader::Open(path_, limits);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? std::move(*r) : nullptr;
  }

  VerifyReport Verify() {
    VerifyRequest req;
    req.recording_path = path_;
    req.public_key_raw = signer_.RecordingPublicKey();
    return VerifyRecording(req);
  }

  int64_t Now() const {
    return std::chrono::duration_cast<std::chrono::microseconds>(clock_.Now() - start_).count();
  }

  testing::TempDir dir_{"pc-graphical"};
  testing::TestSigner signer_;
  FakeClock clock_{1'795'424'400};  // 2026-11-23T09:00:00Z
  const TimePoint start_ = clock_.Now();
  std::unique_ptr<RecordingDirectory> dir_obj_;
  std::string path_;
};

// Batches of random rectangles at random times (each batch at one instant,
// batches more than a flush interval apart): the picture at any time, by
// seek or by playing, is the model's picture at that time, pixel for pixel.
TEST_F(GraphicalWriterTest, RoundTripIsPixelExactAtRandomTimes) {
  GraphicalEncoderOptions enc;
  enc.keyframe_min_bytes = 16 << 10;  // several keyframes in a short test
  enc.keyframe_interval = 20s;
  auto rec = Open(Info(), enc);
  ASSERT_NE(rec, nullptr);
  std::mt19937 rng(1234);
  Model model;
  model.Resize(320, 200);
  rec->Resize(320, 200);
  std::map<int64_t, std::vector<uint8_t>> snapshots;  // batch time -> picture
  snapshots[Now()] = model.px;
  for (int batch = 0; batch < 150; ++batch) {
    clock_.Advance(std::chrono::milliseconds(40 + rng() % 2000));
    const int n = 1 + rng() % 4;
    for (int i = 0; i < n; ++i) {
      const int w = 1 + rng() % 120, h = 1 + rng() % 80;
      const int x = int(rng() % 360) - 20, y = int(rng() % 240) - 20;  // some clipped
      auto px = Pattern(rng, w, h);
      rec->Frame(x, y, w, h, px.data(), size_t(w) * 4);
      model.Paint(x, y, w, h, px.data());
    }
    if (model.px != std::prev(snapshots.end())->second) snapshots[Now()] = model.px;
    if (batch % 10 == 0) rec->Pointer(int(rng() % 320), int(rng() % 200), 0);
  }
  clock_.Advance(1s);
  ASSERT_TRUE(rec->Close("client-closed").ok());

  auto r = Read();
  ASSERT_NE(r, nullptr);
  EXPECT_FALSE(r->truncated());
  EXPECT_EQ(r->MaxWidth(), 320);
  EXPECT_EQ(r->MaxHeight(), 200);
  EXPECT_GE(r->keyframes(), 4u) << "the keyframe rules never fired";
  EXPECT_EQ(r->DurationMicros(), Now());
  const int64_t last_batch = snapshots.rbegin()->first;
  Model want;
  want.Resize(320, 200);
  for (int q = 0; q < 60; ++q) {
    const int64_t at = int64_t(rng() % uint64_t(last_batch + 2'000'000));
    auto it = snapshots.upper_bound(at);
    ASSERT_NE(it, snapshots.begin());
    want.px = std::prev(it)->second;
    auto f = r->SeekTo(at);
    ASSERT_TRUE(f.ok()) << f.status();
    EXPECT_TRUE(SamePicture(*f, want)) << "seek to " << at;
    EXPECT_LE(f->micros, at);
    // Playing on from there gives the next batch.
    if (it != snapshots.end()) {
      VideoFrame next;
      auto more = r->Next(&next);
      ASSERT_TRUE(more.ok() && *more);
      EXPECT_EQ(next.micros, it->first);
      want.px = it->second;
      EXPECT_TRUE(SamePicture(next, want)) << "after seek to " << at;
    }
  }
  // Played from the start: every frame is a batch's picture, in order, and
  // consecutive frames differ.
  auto r2 = Read();
  ASSERT_NE(r2, nullptr);
  VideoFrame f;
  size_t frames = 0;
  int64_t prev = -1;
  for (;;) {
    auto more = r2->Next(&f);
    ASSERT_TRUE(more.ok()) << more.status();
    if (!*more) break;
    ++frames;
    EXPECT_GT(f.micros, prev);
    prev = f.micros;
    ASSERT_TRUE(snapshots.count(f.micros)) << f.micros;
    want.px = snapshots[f.micros];
    EXPECT_TRUE(SamePicture(f, want)) << f.micros;
  }
  EXPECT_EQ(frames, snapshots.size());  // the black start, then every batch
  auto v = Verify();
  EXPECT_EQ(v.verdict, Verdict::kValid) << v.message;
}

// Many frames within one flush interval become one record; an unchanged
// screen adds nothing; a static screen costs one keyframe.
TEST_F(GraphicalWriterTest, StaticScreenIsTinyAndFramesCoalesce) {
  auto rec = Open(Info());
  ASSERT_NE(rec, nullptr);
  rec->Resize(640, 480);
  std::mt19937 rng(7);
  auto full = Pattern(rng, 640, 480);
  for (int i = 0; i < 100; ++i) {
    clock_.Advance(100us);  // all within 33 ms
    rec->Frame(0, 0, 640, 480, full.data(), 640 * 4);
  }
  for (int i = 0; i < 3600; ++i) {  // an hour of the same screen, resent every second
    clock_.Advance(1s);
    rec->Frame(0, 0, 640, 480, full.data(), 640 * 4);
  }
  ASSERT_TRUE(rec->Close("client-closed").ok());
  auto r = Read();
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->picture_records(), 2u);  // RESIZE, KEYFRAME
  EXPECT_EQ(r->keyframes(), 2u);
  const size_t size = testing::ReadWholeFile(path_).value_or("").size();
  // Header + resize + keyframe + end marker: nothing per second.
  std::string compressed;
  ZstdCompressor z;
  std::vector<uint8_t> zeroed = full;
  for (size_t i = 3; i < zeroed.size(); i += 4) zeroed[i] = 0;
  z.Compress(std::string_view(reinterpret_cast<const char*>(zeroed.data()), zeroed.size()),
             &compressed);
  EXPECT_LT(size, compressed.size() + 1024);
  auto f = r->SeekTo(1800'000'000);
  ASSERT_TRUE(f.ok());
  Model want;
  want.Resize(640, 480);
  want.Paint(0, 0, 640, 480, full.data());
  EXPECT_TRUE(SamePicture(*f, want));
}

TEST_F(GraphicalWriterTest, ResizeStartsABlackPictureOfTheNewSize) {
  auto rec = Open(Info());
  ASSERT_NE(rec, nullptr);
  std::mt19937 rng(9);
  rec->Frame(0, 0, 4, 4, Pattern(rng, 4, 4).data(), 16);  // before any size: ignored
  rec->Resize(100, 50);
  auto a = Pattern(rng, 100, 50);
  clock_.Advance(1s);
  rec->Frame(0, 0, 100, 50, a.data(), 400);
  clock_.Advance(1s);
  rec->Resize(300, 120);  // at 2 s
  clock_.Advance(1s);
  auto b = Pattern(rng, 30, 30);
  rec->Frame(290, 110, 30, 30, b.data(), 120);  // clipped at the new edge
  clock_.Advance(1s);
  rec->Resize(300, 120);  // no change: nothing recorded
  ASSERT_TRUE(rec->Close("client-closed").ok());
  auto r = Read();
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->MaxWidth(), 300);
  EXPECT_EQ(r->MaxHeight(), 120);
  Model m;
  m.Resize(100, 50);
  m.Paint(0, 0, 100, 50, a.data());
  auto f = r->SeekTo(1'500'000);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_TRUE(SamePicture(*f, m));
  m.Resize(300, 120);
  f = r->SeekTo(2'500'000);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_TRUE(SamePicture(*f, m));  // black
  m.Paint(290, 110, 30, 30, b.data());
  f = r->SeekTo(10'000'000);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_TRUE(SamePicture(*f, m));
  f = r->SeekTo(0);  // the first picture: black, 100x50
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->width, 100);
}

TEST_F(GraphicalWriterTest, InputLogKeysButtonsClipboardAndTypedText) {
  auto rec = Open(Info());
  ASSERT_NE(rec, nullptr);
  rec->Resize(200, 100);
  auto key = [&](uint32_t ks) {
    clock_.Advance(100ms);
    rec->Key(ks, true);
    clock_.Advance(50ms);
    rec->Key(ks, false);
  };
  for (uint32_t ks : {uint32_t('l'), uint32_t('s'), uint32_t('x')}) key(ks);
  key(0xff08);  // BackSpace
  key(' ');
  key(0x010020ac);  // EURO SIGN
  key(0xff0d);      // Return
  clock_.Advance(10ms);
  rec->Key(0xffe3, true);  // Control_L + c: a shortcut, types nothing
  key('c');
  rec->Key(0xffe3, false);
  key(0xffb7);  // KP_7
  rec->Pointer(10, 20, 0);
  rec->Pointer(10, 20, 0);  // unchanged: not recorded
  clock_.Advance(1s);
  rec->Pointer(15, 25, 1);  // left down at (15, 25)
  clock_.Advance(100ms);
  rec->Pointer(40, 30, 1);  // drag
  rec->Pointer(40, 30, 0);  // up
  rec->Pointer(41, 31, 4);  // right down
  rec->Pointer(41, 31, 0);
  const std::string secret = "clipboard-secret-Hunter2";
  rec->Clipboard(secret, true);
  rec->Clipboard("from the hmi", false);
  const uint8_t arrow[4 * 4 * 4] = {255, 255, 255, 255};
  clock_.Advance(1s);
  rec->Cursor(1, 1, 4, 4, arrow);
  const int64_t shown = Now();
  clock_.Advance(1s);
  rec->Cursor(0, 0, 0, 0, nullptr);  // hidden
  const int64_t hidden = Now();
  rec->Marker("clipboard: 24 bytes to the target");
  ASSERT_TRUE(rec->Close("client-closed").ok());

  const std::string bytes = testing::ReadWholeFile(path_).value_or("");
  EXPECT_EQ(bytes.find(secret), std::string::npos);  // only its hash
  auto r = Read();
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(TypedText(r->input_events()), "ls \u20ac\n7");
  std::vector<std::string> buttons;
  const GraphicalInputEvent* to_target = nullptr;
  size_t keys = 0;
  for (const auto& ev : r->input_events()) {
    if (ev.kind == GraphicalInputEvent::Kind::kButton) {
      buttons.push_back(fmt::format("{}{}@{},{}", ButtonName(ev.button), ev.down ? "+" : "-",
                                    ev.x, ev.y));
    } else if (ev.kind == GraphicalInputEvent::Kind::kKey) {
      ++keys;
    } else if (ev.to_target) {
      to_target = &ev;
    }
  }
  EXPECT_EQ(keys, 2u * 9 + 2);
  EXPECT_EQ(buttons, (std::vector<std::string>{"left+@15,25", "left-@40,30", "right+@41,31",
                                               "right-@41,31"}));
  ASSERT_NE(to_target, nullptr);
  EXPECT_EQ(to_target->length, secret.size());
  EXPECT_EQ(to_target->sha256, Sha256(secret));
  ASSERT_EQ(r->markers().size(), 2u);
  EXPECT_EQ(r->markers()[1].label, "end: client-closed");
  // `recordings search` finds typed text, at the key press completing it.
  std::vector<SearchHit> hits;
  ASSERT_TRUE(SearchRecording(path_, "s \u20ac", [&](const SearchHit& h) { hits.push_back(h); }).ok());
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].stream, 'i');
  EXPECT_EQ(hits[0].micros, 6 * 150'000 - 50'000);  // the sixth press
  EXPECT_EQ(hits[0].context, "ls \u20ac");
  hits.clear();
  ASSERT_TRUE(SearchRecording(path_, "lsx", [&](const SearchHit& h) { hits.push_back(h); }).ok());
  EXPECT_EQ(hits.size(), 1u);  // typed before the BackSpace took the x back
  // The pointer's shape and position over time.
  auto cursor = r->CursorAt(shown - 1);
  ASSERT_TRUE(cursor.ok());
  EXPECT_EQ(cursor->width, 0);  // none yet
  cursor = r->CursorAt(shown);
  ASSERT_TRUE(cursor.ok()) << cursor.status();
  EXPECT_EQ(cursor->width, 4);
  EXPECT_EQ(cursor->hot_x, 1);
  ASSERT_EQ(cursor->bgra.size(), 64u);
  EXPECT_EQ(std::vector<uint8_t>(cursor->bgra.begin(), cursor->bgra.end()),
            std::vector<uint8_t>(arrow, arrow + 64));
  cursor = r->CursorAt(hidden);
  ASSERT_TRUE(cursor.ok());
  EXPECT_EQ(cursor->width, 0);
  int px = -1, py = -1;
  EXPECT_FALSE(r->PointerAt(0, &px, &py));
  ASSERT_TRUE(r->PointerAt(hidden, &px, &py));
  EXPECT_EQ(px, 41);
  EXPECT_EQ(py, 31);
  EXPECT_EQ(KeysymName('a'), "a");
  EXPECT_EQ(KeysymName(0xff0d), "Return");
  EXPECT_EQ(KeysymName(0xffc2), "F5");
  EXPECT_EQ(KeysymName(0x010020ac), "U+20AC");
  EXPECT_EQ(KeysymName(0x12345), "0x12345");
}

TEST_F(GraphicalWriterTest, FactoryServesGraphicalRecordingsThatVerify) {
  AsciicastFactory factory(Options(), &clock_);
  const session::RecordingInfo info = Info("f4ct0ry");
  auto rec = factory.OpenGraphical(info);
  ASSERT_TRUE(rec.ok()) << rec.status();
  path_ = factory.GraphicalPathFor(info, info.started);
  EXPECT_EQ(path_, dir_.path() + "/2026/11/23/f4ct0ry.0.pgr");
  (*rec)->Resize(64, 64);
  std::mt19937 rng(3);
  for (int i = 0; i < 30; ++i) {
    clock_.Advance(1s);
    auto px = Pattern(rng, 16, 16);
    (*rec)->Frame(i % 48, i % 48, 16, 16, px.data(), 64);
    std::this_thread::sleep_for(1ms);
  }
  ASSERT_TRUE((*rec)->Close("client-closed").ok());
  auto m = ParseManifest(testing::ReadWholeFile(PathsFor(path_).manifest).value_or(""));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->media_type, "application/x-portcullis-graphical");
  EXPECT_EQ(m->recording_file, "f4ct0ry.0.pgr");
  auto v = Verify();
  EXPECT_EQ(v.verdict, Verdict::kValid) << v.message;
  // One flipped byte anywhere is INVALID.
  const std::string bytes = testing::ReadWholeFile(path_).value_or("");
  for (size_t at : {size_t{3}, bytes.size() / 2, bytes.size() - 1}) {
    std::string flipped = bytes;
    flipped[at] = static_cast<char>(flipped[at] ^ 0x01);
    ASSERT_TRUE(testing::WriteWholeFile(path_, flipped, 0600).ok());
    v = Verify();
    EXPECT_EQ(v.verdict, Verdict::kInvalid) << v.message;
  }
}

// The writer's process is SIGKILLed mid-session: the seal proves the prefix
// (TRUNCATED), and the reader reads the whole records of it.
TEST_F(GraphicalWriterTest, KilledWriterLeavesATruncatedRecording) {
  const session::RecordingInfo info = Info("k1ll3d");
  const std::string path = RecordingDirectory(Options(), &clock_).PathFor(info, info.started,
                                                                          GraphicalFormat());
  const RecordingPaths files = PathsFor(path);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    RecordingDirectoryOptions opts = Options();
    opts.checkpoint_interval = std::chrono::hours(1);
    opts.checkpoint_bytes = 1u << 30;  // only the first write's checkpoint
    auto rec = Open(info, {}, {}, opts);
    if (rec == nullptr) ::_exit(2);
    rec->Resize(64, 64);
    if (!testing::WaitForCheckpoints(files.seal, 1)) ::_exit(3);
    std::mt19937 rng(5);
    for (int i = 0; i < 20; ++i) {
      clock_.Advance(1s);
      auto px = Pattern(rng, 32, 32);
      rec->Frame(i, i, 32, 32, px.data(), 128);
    }
    clock_.Advance(1s);
    rec->Key('x', true);
    if (!testing::WaitUntil([&] { return rec->Backlog() == 0; })) ::_exit(4);
    std::this_thread::sleep_for(50ms);
    ::kill(::getpid(), SIGKILL);
    ::_exit(5);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "child status " << status;
  EXPECT_FALSE(PathExists(files.manifest));
  path_ = path;
  auto v = Verify();
  EXPECT_EQ(v.verdict, Verdict::kTruncated) << v.message;
  EXPECT_GT(v.file_size, v.valid_bytes);
  auto r = Read();
  ASSERT_NE(r, nullptr);
  EXPECT_FALSE(r->truncated());  // killed between records
  EXPECT_GE(r->picture_records(), 19u);
  // A torn last record: readable up to it, and flagged.
  std::string bytes = testing::ReadWholeFile(path_).value_or("");
  ASSERT_TRUE(testing::WriteWholeFile(path_, bytes.substr(0, bytes.size() - 3), 0600).ok());
  r = Read();
  ASSERT_NE(r, nullptr);
  EXPECT_TRUE(r->truncated());
  EXPECT_LT(r->valid_bytes(), bytes.size() - 3);
  EXPECT_TRUE(r->SeekTo(100'000'000).ok());
}

// The last picture before a screen goes still is handed over by Tick()
// once its flush interval has passed, without waiting for another event:
// a broker killed while the screen is still loses none of it.
TEST_F(GraphicalWriterTest, TickFlushesTheLastPictureOfAStillScreen) {
  for (const bool tick : {true, false}) {
    SCOPED_TRACE(tick ? "with Tick" : "without Tick");
    const session::RecordingInfo info = Info(tick ? "t1ck3d" : "n0t1ck");
    const std::string path = RecordingDirectory(Options(), &clock_).PathFor(info, info.started,
                                                                            GraphicalFormat());
    const RecordingPaths files = PathsFor(path);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      RecordingDirectoryOptions opts = Options();
      opts.checkpoint_interval = std::chrono::hours(1);
      opts.checkpoint_bytes = 1u << 30;
      auto rec = Open(info, {}, {}, opts);
      if (rec == nullptr) ::_exit(2);
      rec->Resize(64, 64);
      if (!testing::WaitForCheckpoints(files.seal, 1)) ::_exit(3);
      clock_.Advance(1s);
      std::mt19937 rng(9);
      auto px = Pattern(rng, 64, 64);
      rec->Frame(0, 0, 64, 64, px.data(), 256);
      // Not due yet: the writer asks to be called again within the interval.
      const auto wait = rec->Tick();
      if (wait > std::chrono::milliseconds(33) || wait < std::chrono::milliseconds(1)) ::_exit(6);
      clock_.Advance(40ms);
      if (tick && rec->Tick() != std::chrono::hours(1)) ::_exit(7);
      if (!testing::WaitUntil([&] { return rec->Backlog() == 0; })) ::_exit(4);
      std::this_thread::sleep_for(50ms);
      ::kill(::getpid(), SIGKILL);
      ::_exit(5);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "child status " << status;
    path_ = path;
    auto r = Read();
    ASSERT_NE(r, nullptr);
    // RESIZE, and with Tick the KEYFRAME of the still picture.
    EXPECT_EQ(r->picture_records(), tick ? 2u : 1u);
  }
}

// A disk that fails (ENOSPC on /dev/full) turns Health() non-OK.
TEST_F(GraphicalWriterTest, DiskErrorTurnsHealthNonOk) {
  const int fd = ::open("/dev/full", O_WRONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  auto pool = std::make_shared<WriterPool>();
  BufferedFileOptions file;
  file.encoder = NewGraphicalEncoder();
  file.buffer_cap = GraphicalWriterOptions::kGraphicalBufferCap;
  auto stream = std::make_unique<SealedStream>(Info("d1sk"), GraphicalFormat(), clock_.Now(),
                                               &clock_, pool, fd, "/full/disk.pgr", std::move(file));
  GraphicalWriter rec(std::move(stream));
  rec.Resize(64, 64);
  std::vector<uint8_t> px(64 * 64 * 4, 0x7f);
  clock_.Advance(1s);
  rec.Frame(0, 0, 64, 64, px.data(), 256);
  clock_.Advance(1s);
  rec.Key('a', true);  // flushes the frame
  ASSERT_TRUE(testing::WaitUntil([&] { return !rec.Health().ok(); }));
  EXPECT_NE(std::string(rec.Health().message()).find("/full/disk.pgr"), std::string::npos)
      << rec.Health();
  EXPECT_FALSE(rec.Close("recording failed").ok());
}

// A writer that cannot keep up (a pipe nobody reads): flushes wait and
// merge while there is no room, Frame() never blocks, and after max_defer
// the recording fails closed.
TEST_F(GraphicalWriterTest, StalledDiskDefersThenFailsClosed) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  auto pool = std::make_shared<WriterPool>();
  GraphicalWriterOptions wopts;
  wopts.buffer_cap = 4u << 20;
  wopts.max_defer = 5s;
  BufferedFileOptions file;
  file.encoder = NewGraphicalEncoder();
  file.buffer_cap = wopts.buffer_cap;
  auto stream = std::make_unique<SealedStream>(Info("st4ll"), GraphicalFormat(), clock_.Now(),
                                               &clock_, pool, fds[1], "/slow/disk.pgr",
                                               std::move(file));
  GraphicalWriter rec(std::move(stream), wopts);
  rec.Resize(800, 600);
  std::mt19937 rng(11);
  auto a = Pattern(rng, 800, 600), b = Pattern(rng, 800, 600);
  const auto t0 = std::chrono::steady_clock::now();
  int i = 0;
  for (; i < 400 && rec.Health().ok(); ++i) {
    clock_.Advance(50ms);
    rec.Frame(0, 0, 800, 600, (i % 2 ? a : b).data(), 3200);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  absl::Status health = rec.Health();
  EXPECT_EQ(health.code(), absl::StatusCode::kResourceExhausted) << health;
  EXPECT_GE(i, 100) << "failed before max_defer had passed";  // 5 s / 50 ms
  // Unstall: Close writes the clean prefix, which reads back.
  std::string drained;
  std::thread reader([&] {
    char buf[65536];
    ssize_t n;
    while ((n = ::read(fds[0], buf, sizeof buf)) > 0) drained.append(buf, static_cast<size_t>(n));
  });
  absl::Status closed = rec.Close("recording failed");
  reader.join();
  ::close(fds[0]);
  EXPECT_EQ(closed.code(), absl::StatusCode::kResourceExhausted);
  path_ = dir_.Join("drained.pgr");
  ASSERT_TRUE(testing::WriteWholeFile(path_, drained, 0600).ok());
  auto r = Read();
  ASSERT_NE(r, nullptr);
  EXPECT_FALSE(r->truncated());
  EXPECT_GE(r->picture_records(), 2u);
  EXPECT_TRUE(r->SeekTo(1'000'000'000).ok());
}

TEST_F(GraphicalWriterTest, RefusesAFramebufferLargerThanAllowed) {
  auto rec = Open(Info());
  ASSERT_NE(rec, nullptr);
  rec->Resize(kMaxGraphicalSide + 1, 10);
  EXPECT_EQ(rec->Health().code(), absl::StatusCode::kResourceExhausted);
  (void)rec->Close("recording failed");
}

}  // namespace
}  // namespace portcullis::recorder

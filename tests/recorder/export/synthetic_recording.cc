#include "tests/recorder/export/synthetic_recording.h"

#include <atomic>
#include <chrono>
#include <thread>

#include "broker/common/clock.h"
#include "recorder/asciicast_factory.h"
#include "tests/recorder/test_signer.h"

namespace portcullis::testing {
namespace {

// A clock the test moves to "start + micros".
class SettableClock final : public Clock {
 public:
  TimePoint Now() const override { return TimePoint(std::chrono::microseconds(micros_.load())); }
  void At(int64_t since_start) { micros_ = kStart + since_start; }

 private:
  static constexpr int64_t kStart = int64_t{1'795'424'400} * 1'000'000;  // 2026-11-23T09:00:00Z
  std::atomic<int64_t> micros_{kStart};
};

}  // namespace

absl::StatusOr<std::string> RecordSynthetic(SyntheticSource& source, const std::string& dir,
                                            const std::string& session) {
  TestSigner signer;
  SettableClock clock;
  recorder::RecordingDirectoryOptions opts;
  opts.dir = dir;
  opts.min_free_bytes = 0;
  opts.signer = &signer;
  recorder::AsciicastFactory factory(opts, &clock);
  session::RecordingInfo info;
  info.session_id = session;
  info.user = "bob";
  info.login = "operator";
  info.target = "hmi-07";
  info.protocol = "vnc";
  info.source = "127.0.0.1:50900";
  info.started = clock.Now();
  auto rec = factory.OpenGraphical(info);
  if (!rec.ok()) return rec.status();
  int w = 0, h = 0;
  recorder::VideoFrame f;
  for (;;) {
    absl::StatusOr<bool> more = source.Next(&f);
    if (!more.ok()) return more.status();
    if (!*more) break;
    clock.At(f.micros);
    if (f.width != w || f.height != h) {
      (*rec)->Resize(f.width, f.height);
      w = f.width;
      h = f.height;
    }
    (*rec)->Frame(0, 0, f.width, f.height, f.bgra, f.stride);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));  // lets the writer thread keep up
  }
  clock.At(source.DurationMicros());
  if (absl::Status st = (*rec)->Close("client-closed"); !st.ok()) return st;
  return factory.GraphicalPathFor(info, info.started);
}

}  // namespace portcullis::testing

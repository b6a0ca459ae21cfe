// Fuzzes the graphical recording reader (recorder/graphical/graphical_reader.h)
// on any bytes as a whole .pgr file: open (index and input events), play
// every picture, seek, and the typed-text view. Properties: no crash, no
// read or allocation past the limits, and every picture is within them.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "recorder/graphical/graphical_reader.h"
#include "recorder/graphical/input_log.h"
#include "tests/fuzz/fuzz_scratch.h"

using namespace portcullis::recorder;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = portcullis::fuzz::ScratchDir() + "/r.pgr";
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) std::abort();
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  GraphicalLimits limits;
  limits.max_width = 256;
  limits.max_height = 256;
  limits.max_record_bytes = 1 << 20;
  limits.max_header_bytes = 4096;
  limits.max_events = 10000;
  auto r = GraphicalReader::Open(path, limits);
  if (!r.ok()) return 0;
  auto check = [](const VideoFrame& v) {
    if (v.width < 1 || v.height < 1 || v.width > 256 || v.height > 256 || v.bgra == nullptr ||
        v.stride != size_t(v.width) * 4) {
      std::abort();
    }
    volatile uint8_t last = v.bgra[size_t(v.height - 1) * v.stride + v.stride - 1];
    (void)last;
  };
  VideoFrame v;
  for (int i = 0; i < 1000; ++i) {
    auto more = (*r)->Next(&v);
    if (!more.ok() || !*more) break;
    check(v);
  }
  for (int64_t at : {int64_t{0}, (*r)->DurationMicros() / 2, (*r)->DurationMicros()}) {
    auto s = (*r)->SeekTo(at);
    if (s.ok()) check(*s);
  }
  (void)TypedText((*r)->input_events());
  for (const auto& ev : (*r)->input_events()) (void)KeysymName(ev.keysym);
  return 0;
}

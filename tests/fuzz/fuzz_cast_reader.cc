// Fuzzes the bounded asciicast reader (recorder/cast_reader.h) and the
// search over it: any bytes as a header line, as an event line, and as a
// whole recording file. Properties: no crash, no read past a cap, and a
// parsed event's data is valid UTF-8.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "broker/common/bounded_reader.h"
#include "recorder/cast_reader.h"
#include "recorder/cast_search.h"
#include "tests/fuzz/fuzz_scratch.h"

using namespace portcullis::recorder;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  (void)ParseCastHeader(in);
  CastEvent ev;
  if (ParseCastEvent(in, &ev).ok() && !portcullis::IsValidUtf8(ev.data)) std::abort();

  static const std::string path = portcullis::fuzz::ScratchDir() + "/r.cast";
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) std::abort();
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  CastLimits limits;
  limits.max_event_bytes = 4096;
  limits.max_header_bytes = 4096;
  if (auto r = CastReader::Open(path, limits); r.ok()) {
    for (int i = 0; i < 100000; ++i) {
      auto more = (*r)->Next(&ev);
      if (!more.ok() || !*more) break;
      if (!portcullis::IsValidUtf8(ev.data)) std::abort();
    }
  }
  (void)SearchRecording(path, "stop", [](const SearchHit&) {}, 0, limits);
  return 0;
}

// Fuzzes BoundedReader with an SSH-wire-shaped script driven by the input.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "broker/common/bounded_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  portcullis::BoundedReader r(std::string_view(reinterpret_cast<const char*>(data), size), 4096);
  for (int i = 0; i < 64 && r.remaining() > 0; ++i) {
    auto op = r.U8();
    if (!op.ok()) break;
    switch (*op % 5) {
      case 0: (void)r.U32(); break;
      case 1: (void)r.U64(); break;
      case 2: (void)r.String(256); break;
      case 3: (void)r.Text(256); break;
      default: (void)r.Bytes(*op % 17); break;
    }
  }
  (void)r.Finish();
  return 0;
}

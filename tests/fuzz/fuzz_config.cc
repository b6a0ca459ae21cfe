// Fuzzes the broker config parser: never crashes, hangs or throws; every
// error names the file.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "broker/config/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto cfg = portcullis::config::ParseConfig(text, "/fuzz/portcullis.yaml");
  if (!cfg.ok() && cfg.status().message().find("/fuzz/portcullis.yaml") != 0) std::abort();
  return 0;
}

// Fuzzes the seal parsers (recorder/seal_format.h): ParseManifest on the
// whole input and ParseCheckpointLine on each of its lines. Properties: no
// crash or exception; a checkpoint line that parses formats back to the
// same bytes (the parser accepts canonical lines only, so the signed text is
// unambiguous); a manifest that parses formats to JSON that parses again to
// the same manifest.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "recorder/seal_format.h"

using namespace portcullis::recorder;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);

  auto m = ParseManifest(text);
  if (m.ok()) {
    const std::string json = ManifestJson(*m);
    if (json.size() <= kMaxManifestBytes) {
      auto again = ParseManifest(json);
      if (!again.ok() || ManifestJson(*again) != json) std::abort();
    }
  }

  size_t start = 0;
  while (start <= text.size()) {
    const size_t nl = text.find('\n', start);
    const std::string_view line =
        text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    auto cp = ParseCheckpointLine(line);
    if (cp.ok()) {
      if (CheckpointLine(*cp) != std::string(line) + "\n") std::abort();
      if (!IsSealPayload(CheckpointPayload(*cp))) std::abort();
    }
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  return 0;
}

// Fuzzes the audit anchor-file parser: anything parsed must format back to
// the same canonical line.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "broker/audit/audit_anchor.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto anchor = portcullis::audit::ParseAuditAnchor(text);
  if (anchor.ok()) {
    auto again = portcullis::audit::ParseAuditAnchor(portcullis::audit::FormatAuditAnchor(*anchor));
    if (!again.ok() || again->seq != anchor->seq || again->hash != anchor->hash) std::abort();
  }
  return 0;
}

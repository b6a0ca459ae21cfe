#include "agentless/ssh/file_transfer_event.h"

#include "broker/common/display_text.h"

namespace portcullis::ssh {

const char* FileDirectionName(FileDirection d) {
  return d == FileDirection::kUpload ? "upload" : "download";
}

std::string DisplayPath(std::string_view raw) {
  const bool cut = raw.size() > kMaxDisplayPathInput;
  if (cut) raw = raw.substr(0, kMaxDisplayPathInput);
  std::string out = DisplayText(raw, DisplayMode::kReversible);
  if (cut) out += "...";
  return out;
}

std::string AuditPath(std::string_view raw) {
  return std::string(raw.substr(0, kMaxDisplayPathInput));
}

}  // namespace portcullis::ssh

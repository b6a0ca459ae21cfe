// STUB: replaced by the sealing work (issue 4). Do not ship.
#include "recorder/verifier.h"

namespace portcullis::recorder {
const char* VerdictName(Verdict v) {
  switch (v) {
    case Verdict::kValid: return "VALID";
    case Verdict::kTruncated: return "TRUNCATED";
    case Verdict::kInvalid: return "INVALID";
  }
  return "INVALID";
}
VerifyReport VerifyRecording(const VerifyRequest&) {
  VerifyReport r;
  r.message = "INVALID: verification not implemented yet";
  return r;
}
absl::StatusOr<std::string> ParseRecordingPublicKey(std::string_view) {
  return absl::UnimplementedError("not implemented yet");
}
std::string RecordingPublicKeyPem(std::string_view) { return ""; }
}  // namespace portcullis::recorder

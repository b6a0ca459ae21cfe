// STUB: replaced by the reader/search work (issue 4). Do not ship.
#include "recorder/cast_search.h"

namespace portcullis::recorder {
absl::Status SearchRecording(const std::string&, std::string_view,
                             const std::function<void(const SearchHit&)>&, size_t, CastLimits) {
  return absl::UnimplementedError("search: not implemented yet");
}
}  // namespace portcullis::recorder

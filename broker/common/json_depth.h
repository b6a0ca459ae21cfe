#pragma once
// A cheap pre-check before a DOM parse of untrusted JSON: nlohmann's parser
// recurses per nesting level, so deeply nested input is refused first.
// Pure, thread-safe.

#include <string_view>

namespace portcullis {

// True iff `text` nests arrays/objects at most `max_depth` deep (brackets
// inside strings do not count; unmatched closers never lower the count
// below zero).
bool JsonNestingWithin(std::string_view text, int max_depth);

}  // namespace portcullis

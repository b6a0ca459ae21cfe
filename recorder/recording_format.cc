#include "recorder/recording_format.h"

namespace portcullis::recorder {
namespace {

constexpr size_t kMaxMediaTypeName = 63;
constexpr size_t kMaxExtension = 16;

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

bool RestrictedName(std::string_view s) {
  if (s.empty() || s.size() > kMaxMediaTypeName || !IsLowerAlnum(s[0])) return false;
  for (char c : s) {
    if (!IsLowerAlnum(c) && std::string_view("!#$&^_.+-").find(c) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

}  // namespace

bool ValidMediaType(std::string_view media_type) {
  const size_t slash = media_type.find('/');
  if (slash == std::string_view::npos) return false;
  return RestrictedName(media_type.substr(0, slash)) &&
         RestrictedName(media_type.substr(slash + 1));
}

bool ValidExtension(std::string_view extension) {
  if (extension.empty() || extension.size() > kMaxExtension) return false;
  if (extension[0] < 'a' || extension[0] > 'z') return false;
  for (char c : extension) {
    if (!IsLowerAlnum(c)) return false;
  }
  return true;
}

bool ValidFormat(const RecordingFormat& format) {
  return ValidMediaType(format.media_type) && ValidExtension(format.extension);
}

}  // namespace portcullis::recorder

#pragma once
// Lets fmt/spdlog format absl::string_view (Debian's abseil does not alias
// it to std::string_view), e.g. spdlog::error("{}", status.message()).

#include <fmt/format.h>

#include <string_view>

#include "absl/strings/string_view.h"

template <>
struct fmt::formatter<absl::string_view> : fmt::formatter<std::string_view> {
  template <typename FormatContext>
  auto format(absl::string_view s, FormatContext& ctx) const {
    return fmt::formatter<std::string_view>::format(std::string_view(s.data(), s.size()), ctx);
  }
};

#include "broker/store/validation.h"

#include <fmt/format.h>

namespace portcullis::store {

absl::Status CheckName(std::string_view field, std::string_view value) {
  if (value.empty()) return absl::InvalidArgumentError(fmt::format("{} is empty", field));
  if (value.size() > kMaxNameBytes) {
    return absl::InvalidArgumentError(
        fmt::format("{} is longer than {} bytes", field, kMaxNameBytes));
  }
  return absl::OkStatus();
}

absl::Status CheckSize(std::string_view field, std::string_view value, size_t max_bytes) {
  if (value.size() > max_bytes) {
    return absl::InvalidArgumentError(
        fmt::format("{} is longer than {} bytes", field, max_bytes));
  }
  return absl::OkStatus();
}

}  // namespace portcullis::store

#pragma once
// MetaRepo: a small key/value table for broker metadata (e.g. the broker id,
// key fingerprints) and named monotonic counters (e.g. certificate serials).
// Values are arbitrary bytes. Thread-safe via the Database lock; `db` is not
// owned and must outlive the repo. Do not store secrets here unsealed.

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "broker/store/database.h"

namespace portcullis::store {

class MetaRepo {
 public:
  explicit MetaRepo(Database* db);

  [[nodiscard]] absl::StatusOr<std::string> Get(std::string_view key);  // NotFound
  // Inserts or replaces. InvalidArgument on an empty/over-long key or a
  // value over 1 MiB.
  [[nodiscard]] absl::Status Put(std::string_view key, std::string_view value);
  // Atomically increments the counter `key` and returns the new value; the
  // first call returns 1. Unique across threads and processes sharing the
  // file. Counters are separate from Get/Put keys.
  [[nodiscard]] absl::StatusOr<uint64_t> NextCounter(std::string_view key);

 private:
  Database* db_;
};

}  // namespace portcullis::store

#pragma once
// The store's schema as an ordered list of migrations. Migration N takes the
// database from version N-1 to N; Database::Open() applies the pending ones
// in order, each in its own transaction, and records them in
// schema_migrations(version, description, applied_at). Never edit a
// released migration: append a new one. Thread-safe (constant data).

#include <span>
#include <string_view>

namespace portcullis::store {

struct Migration {
  int version;
  std::string_view description;
  std::string_view sql;  // one or more statements
};

// All migrations, ascending and contiguous from version 1.
std::span<const Migration> Migrations();
// The highest version this binary knows.
int LatestSchemaVersion();

}  // namespace portcullis::store

#pragma once
// Helpers for absl::Status propagation. Used across Portcullis; errors are
// values and never exceptions on the data plane.

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define PC_CONCAT_INNER_(a, b) a##b
#define PC_CONCAT_(a, b) PC_CONCAT_INNER_(a, b)

// Returns from the enclosing function if `expr` (an absl::Status) is not OK.
#define PC_RETURN_IF_ERROR(expr)                  \
  do {                                            \
    ::absl::Status pc_status_ = (expr);           \
    if (!pc_status_.ok()) return pc_status_;      \
  } while (0)

// `lhs = value-of(expr)` where expr is an absl::StatusOr<T>; returns the
// error from the enclosing function otherwise.
#define PC_ASSIGN_OR_RETURN(lhs, expr) \
  PC_ASSIGN_OR_RETURN_IMPL_(PC_CONCAT_(pc_statusor_, __LINE__), lhs, expr)
#define PC_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(tmp).value()

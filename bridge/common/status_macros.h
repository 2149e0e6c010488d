// Early-return helpers for absl::Status and absl::StatusOr, in the style of
// the macros Abseil uses internally (absl 20220623 ships none publicly).
#ifndef REFIR_BRIDGE_COMMON_STATUS_MACROS_H_
#define REFIR_BRIDGE_COMMON_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Evaluates `expr` (an absl::Status) and returns it from the enclosing
// function if it is not OK.
#define REFIR_RETURN_IF_ERROR(expr)                \
  do {                                             \
    const ::absl::Status refir_status_ = (expr);   \
    if (!refir_status_.ok()) return refir_status_; \
  } while (false)

#define REFIR_STATUS_CONCAT_INNER_(a, b) a##b
#define REFIR_STATUS_CONCAT_(a, b) REFIR_STATUS_CONCAT_INNER_(a, b)

// Evaluates `rexpr` (an absl::StatusOr<T>); returns its status if not OK,
// otherwise moves the value into `lhs` (which may be a declaration).
#define REFIR_ASSIGN_OR_RETURN(lhs, rexpr) \
  REFIR_ASSIGN_OR_RETURN_IMPL_(REFIR_STATUS_CONCAT_(refir_statusor_, __LINE__), lhs, rexpr)

#define REFIR_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                 \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = *std::move(statusor)

#endif  // REFIR_BRIDGE_COMMON_STATUS_MACROS_H_

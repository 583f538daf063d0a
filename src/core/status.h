// Status and StatusOr: the one error type of Carechart.
//
// Every fallible function returns a Status (or StatusOr<T>). A code maps one-to-one to an HTTP
// status and to a FHIR OperationOutcome issue code (see http_status.cc and the rest module), so an
// error raised deep in the store reaches the client unchanged. Exceptions from third-party
// libraries are caught at the module edge and turned into a Status.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace carechart {

enum class StatusCode {
  kOk = 0,
  kInvalid,               // 400 invalid: malformed input (JSON, query, header)
  kUnprocessable,         // 422 processing: well-formed but fails FHIR validation
  kNotFound,              // 404 not-found
  kGone,                  // 410 deleted
  kConflict,              // 409 conflict: e.g. id in use, concurrent change
  kPreconditionFailed,    // 412 conflict: If-Match / If-None-Exist matched several
  kMethodNotAllowed,      // 405 not-supported
  kUnsupportedMediaType,  // 415 not-supported
  kTooLarge,              // 413 too-costly
  kTimeout,               // 408/503 timeout
  kUnauthenticated,       // 401 login
  kForbidden,             // 403 forbidden
  kNotImplemented,        // 501 not-supported
  kUnavailable,           // 503 transient: shutting down, overloaded
  kInternal,              // 500 exception: a broken invariant or an I/O failure
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message, std::string location = {})
      : code_(code), message_(std::move(message)), location_(std::move(location)) {}

  static Status Ok() { return {}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  // Human-readable diagnostics; says what is wrong and, where possible, what to do.
  const std::string& message() const { return message_; }
  // FHIRPath-style location of the problem in the input (e.g. "Patient.birthDate"), or empty.
  const std::string& location() const { return location_; }

  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  std::string location_;
};

inline Status InvalidError(std::string msg, std::string loc = {}) {
  return {StatusCode::kInvalid, std::move(msg), std::move(loc)};
}
inline Status UnprocessableError(std::string msg, std::string loc = {}) {
  return {StatusCode::kUnprocessable, std::move(msg), std::move(loc)};
}
inline Status NotFoundError(std::string msg) { return {StatusCode::kNotFound, std::move(msg)}; }
inline Status ConflictError(std::string msg) { return {StatusCode::kConflict, std::move(msg)}; }
inline Status InternalError(std::string msg) { return {StatusCode::kInternal, std::move(msg)}; }

// A value or the Status that explains its absence.
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(T value) : value_(std::move(value)) {}         // NOLINT: implicit by design
  StatusOr(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    if (status_.ok()) {
      status_ = InternalError("StatusOr constructed from an OK status without a value");
    }
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace carechart

#define CC_CONCAT_INNER(a, b) a##b
#define CC_CONCAT(a, b) CC_CONCAT_INNER(a, b)

#define RETURN_IF_ERROR(expr)                \
  do {                                       \
    ::carechart::Status cc_status_ = (expr); \
    if (!cc_status_.ok()) return cc_status_; \
  } while (false)

#define ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                          \
  if (!tmp.ok()) return tmp.status();         \
  lhs = std::move(tmp).value()

#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL(CC_CONCAT(cc_statusor_, __LINE__), lhs, expr)

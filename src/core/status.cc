#include "core/status.h"

namespace carechart {

std::string_view StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return "ok";
    case StatusCode::kInvalid:
      return "invalid";
    case StatusCode::kUnprocessable:
      return "unprocessable";
    case StatusCode::kNotFound:
      return "not-found";
    case StatusCode::kGone:
      return "gone";
    case StatusCode::kConflict:
      return "conflict";
    case StatusCode::kPreconditionFailed:
      return "precondition-failed";
    case StatusCode::kMethodNotAllowed:
      return "method-not-allowed";
    case StatusCode::kUnsupportedMediaType:
      return "unsupported-media-type";
    case StatusCode::kTooLarge:
      return "too-large";
    case StatusCode::kTimeout:
      return "timeout";
    case StatusCode::kUnauthenticated:
      return "unauthenticated";
    case StatusCode::kForbidden:
      return "forbidden";
    case StatusCode::kNotImplemented:
      return "not-implemented";
    case StatusCode::kUnavailable:
      return "unavailable";
    case StatusCode::kInternal:
      return "internal";
  }
  return "unknown";
}

std::string Status::ToString() const {
  if (ok()) {
    return "ok";
  }
  std::string s(StatusCodeName(code_));
  s += ": ";
  s += message_;
  if (!location_.empty()) {
    s += " (at ";
    s += location_;
    s += ")";
  }
  return s;
}

}  // namespace carechart

// Plain HTTP request/response values passed between the server (Boost.Beast, hidden in
// server.cc) and the handlers. No Boost types leak out of the http module.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace carechart::http {

struct Request {
  std::string method;  // "GET", "POST", ... as sent
  std::string target;  // raw request target, e.g. "/fhir/Patient?name=smith"
  std::string path;    // percent-decoded path without the query
  std::vector<std::pair<std::string, std::string>> query;    // decoded, in order
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  std::string remote_address;

  // First header with that (lower-case) name, or empty.
  std::string_view header(std::string_view lower_name) const;
};

struct Response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // When set (and `body` is empty), the body is this file's content, streamed from disk by the
  // server in small chunks, so a large download (a Bulk Data output file) is never held in memory.
  // A file that cannot be opened when the response is sent becomes a 500.
  std::string body_file;

  void set_header(std::string name, std::string value);
};

using Handler = std::function<Response(Request&)>;

// The media type of a Content-Type or _format value, lower-cased, without parameters and
// surrounding spaces: "Application/FHIR+JSON; charset=utf-8" → "application/fhir+json".
std::string MediaType(std::string_view content_type);

// True for the media types of FHIR JSON (and plain JSON, and the `json` shorthand of _format).
bool IsFhirJsonMediaType(std::string_view content_type);

}  // namespace carechart::http

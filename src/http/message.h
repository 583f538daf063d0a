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

  void set_header(std::string name, std::string value);
};

using Handler = std::function<Response(Request&)>;

}  // namespace carechart::http

#include "http/message.h"

namespace carechart::http {

std::string_view Request::header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) {
      return value;
    }
  }
  return {};
}

void Response::set_header(std::string name, std::string value) {
  for (auto& [n, v] : headers) {
    if (n == name) {
      v = std::move(value);
      return;
    }
  }
  headers.emplace_back(std::move(name), std::move(value));
}

std::string MediaType(std::string_view content_type) {
  std::string_view media = content_type.substr(0, content_type.find(';'));
  while (!media.empty() && media.front() == ' ') {
    media.remove_prefix(1);
  }
  while (!media.empty() && media.back() == ' ') {
    media.remove_suffix(1);
  }
  std::string out(media);
  for (auto& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

bool IsFhirJsonMediaType(std::string_view content_type) {
  std::string m = MediaType(content_type);
  return m == "json" || m == "application/json" || m == "application/fhir+json" ||
         m == "application/json+fhir";
}

}  // namespace carechart::http

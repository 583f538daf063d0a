// Base64 (RFC 4648), the one implementation every module uses; OpenSSL does the coding.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace carechart {

// Standard alphabet with padding; `url_alphabet` uses '-' and '_' instead of '+' and '/'.
std::string Base64Encode(std::string_view bytes, bool url_alphabet = false);

// Decodes the standard or the URL-safe alphabet. ASCII whitespace is ignored and padding is
// optional; any other character, padding in the middle, or an impossible length gives nullopt.
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace carechart

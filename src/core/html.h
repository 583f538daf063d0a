// Escaping text for HTML pages the server renders itself (sign-in, activation, the printable
// patient summary), so that no stored or typed value can become markup.
#pragma once

#include <string>
#include <string_view>

namespace carechart {

// `text` with & < > " ' replaced by entities: safe in element content and quoted attributes.
std::string HtmlEscape(std::string_view text);

}  // namespace carechart

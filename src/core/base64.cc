#include "core/base64.h"

#include <openssl/evp.h>

namespace carechart {

std::string Base64Encode(std::string_view bytes, bool url_alphabet) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  if (url_alphabet) {
    for (char& c : out) {
      c = c == '+' ? '-' : (c == '/' ? '_' : c);
    }
  }
  return out;
}

std::optional<std::string> Base64Decode(std::string_view text) {
  std::string clean;
  clean.reserve(text.size() + 3);
  for (char c : text) {
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
      continue;
    }
    clean.push_back(c == '-' ? '+' : (c == '_' ? '/' : c));
  }
  size_t pad = 0;
  while (pad < clean.size() && clean[clean.size() - 1 - pad] == '=') {
    ++pad;
  }
  if (pad > 2 || clean.find('=') < clean.size() - pad) {
    return std::nullopt;
  }
  if (clean.size() % 4 != 0) {
    if (pad > 0 || clean.size() % 4 == 1) {
      return std::nullopt;
    }
    pad = 4 - clean.size() % 4;
    clean.append(pad, '=');
  }
  if (clean.empty()) {
    return std::string();
  }
  std::string out(clean.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(clean.data()),
                          static_cast<int>(clean.size()));
  if (n < 0) {
    return std::nullopt;
  }
  // EVP_DecodeBlock counts the zero bytes that padding stands for: drop them.
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

}  // namespace carechart

// encode()/decode() (base64, urlbase64, hex) and escape()/unescape() (html, json).
#include "fhirpath/functions.h"

namespace carechart::fhirpath {
namespace {

constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string Base64Encode(std::string_view in, bool url) {
  std::string out;
  uint32_t buf = 0;
  int bits = 0;
  for (const unsigned char c : in) {
    buf = (buf << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kBase64[(buf >> bits) & 63]);
    }
  }
  if (bits > 0) {
    out.push_back(kBase64[(buf << (6 - bits)) & 63]);
  }
  while (out.size() % 4 != 0) {
    out.push_back('=');
  }
  if (url) {
    for (char& c : out) {
      c = c == '+' ? '-' : (c == '/' ? '_' : c);
    }
  }
  return out;
}

std::optional<std::string> Base64Decode(std::string_view in) {
  std::string out;
  uint32_t buf = 0;
  int bits = 0;
  for (const char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z') {
      v = c - 'A';
    } else if (c >= 'a' && c <= 'z') {
      v = c - 'a' + 26;
    } else if (c >= '0' && c <= '9') {
      v = c - '0' + 52;
    } else if (c == '+' || c == '-') {
      v = 62;
    } else if (c == '/' || c == '_') {
      v = 63;
    } else if (c == '=') {
      break;
    } else {
      return std::nullopt;
    }
    buf = (buf << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buf >> bits) & 0xFF));
    }
  }
  return out;
}

std::string HexEncode(std::string_view in) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (const unsigned char c : in) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

std::optional<std::string> HexDecode(std::string_view in) {
  if (in.size() % 2 != 0) {
    return std::nullopt;
  }
  std::string out;
  const auto nibble = [](char c) {
    if (c >= '0' && c <= '9') {
      return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
      return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
      return c - 'A' + 10;
    }
    return -1;
  };
  for (size_t i = 0; i < in.size(); i += 2) {
    const int hi = nibble(in[i]), lo = nibble(in[i + 1]);
    if (hi < 0 || lo < 0) {
      return std::nullopt;
    }
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

constexpr std::pair<char, std::string_view> kHtml[] = {
    {'&', "&amp;"}, {'<', "&lt;"}, {'>', "&gt;"}, {'"', "&quot;"}, {'\'', "&#39;"}};
constexpr std::pair<char, std::string_view> kJson[] = {
    {'\\', "\\\\"}, {'"', "\\\""}, {'\n', "\\n"}, {'\r', "\\r"}, {'\t', "\\t"}};

template <size_t N>
std::string Escape(std::string_view in, const std::pair<char, std::string_view> (&table)[N]) {
  std::string out;
  for (const char c : in) {
    bool done = false;
    for (const auto& [ch, rep] : table) {
      if (c == ch) {
        out += rep;
        done = true;
        break;
      }
    }
    if (!done) {
      out.push_back(c);
    }
  }
  return out;
}

template <size_t N>
std::string Unescape(std::string_view in, const std::pair<char, std::string_view> (&table)[N]) {
  std::string out;
  for (size_t i = 0; i < in.size();) {
    bool done = false;
    for (const auto& [ch, rep] : table) {
      if (in.substr(i, rep.size()) == rep) {
        out.push_back(ch);
        i += rep.size();
        done = true;
        break;
      }
    }
    if (!done) {
      out.push_back(in[i++]);
    }
  }
  return out;
}

}  // namespace

FHIRPATH_FUNCTION(EncodingFunction) {
  Item scratch;
  const Item* s;
  RETURN_IF_ERROR(InputString(call, input, &scratch, &s));
  std::string format;
  bool present = false;
  RETURN_IF_ERROR(ArgString(ev, env, call, 0, &format, &present));
  if (s == nullptr || !present) {
    return Status::Ok();
  }
  const std::string_view t = s->text;
  std::optional<std::string> r;
  const std::string_view fn = call.name;
  if (fn == "encode") {
    if (format == "base64" || format == "urlbase64") {
      r = Base64Encode(t, format == "urlbase64");
    } else if (format == "hex") {
      r = HexEncode(t);
    }
  } else if (fn == "decode") {
    if (format == "base64" || format == "urlbase64") {
      r = Base64Decode(t);
    } else if (format == "hex") {
      r = HexDecode(t);
    }
  } else if (fn == "escape") {
    if (format == "html") {
      r = Escape(t, kHtml);
    } else if (format == "json") {
      r = Escape(t, kJson);
    }
  } else {
    if (format == "html") {
      r = Unescape(t, kHtml);
    } else if (format == "json") {
      r = Unescape(t, kJson);
    }
  }
  if (!r) {
    return EvalError(call.name + "(): cannot convert with '" + format + "'", call.position);
  }
  out->push_back(Item::String(std::move(*r)));
  return Status::Ok();
}

}  // namespace carechart::fhirpath

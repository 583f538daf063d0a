// encode()/decode() (base64, urlbase64, hex) and escape()/unescape() (html, json).
#include "core/base64.h"
#include "fhirpath/functions.h"

namespace carechart::fhirpath {
namespace {

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

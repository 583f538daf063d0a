// FHIRPath lexer: identifiers, literals (string escapes, numbers, @dates), operators, comments.
#include "fhirpath/lexer.h"

namespace carechart::fhirpath {
namespace {

bool IsIdentStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsIdentChar(char c) { return IsIdentStart(c) || IsDigit(c); }

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Reads a quoted string or delimited identifier starting at text[*i] (the quote).
StatusOr<std::string> ReadQuoted(std::string_view text, size_t* i) {
  const char quote = text[*i];
  const int start = static_cast<int>(*i);
  std::string out;
  for (++*i; *i < text.size(); ++*i) {
    char c = text[*i];
    if (c == quote) {
      ++*i;
      return out;
    }
    if (c != '\\') {
      out.push_back(c);
      continue;
    }
    if (++*i >= text.size()) {
      break;
    }
    c = text[*i];
    switch (c) {
      case 'n':
        out.push_back('\n');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 't':
        out.push_back('\t');
        break;
      case 'f':
        out.push_back('\f');
        break;
      case 'u': {
        // A malformed \u escape stands for the letter u (as fhirpath.js reads it).
        const auto hex4 = [&](size_t at, uint32_t* cp) {
          if (at + 4 > text.size()) {
            return false;
          }
          *cp = 0;
          for (size_t k = at; k < at + 4; ++k) {
            const char h = text[k];
            *cp <<= 4;
            if (IsDigit(h)) {
              *cp |= h - '0';
            } else if (h >= 'a' && h <= 'f') {
              *cp |= h - 'a' + 10;
            } else if (h >= 'A' && h <= 'F') {
              *cp |= h - 'A' + 10;
            } else {
              return false;
            }
          }
          return true;
        };
        uint32_t cp = 0, low = 0;
        if (!hex4(*i + 1, &cp)) {
          out.push_back('u');
          break;
        }
        *i += 4;
        if (cp >= 0xD800 && cp < 0xDC00 && *i + 2 < text.size() && text[*i + 1] == '\\' &&
            text[*i + 2] == 'u' && hex4(*i + 3, &low) && low >= 0xDC00 && low < 0xE000) {
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          *i += 6;
        }
        AppendUtf8(cp, &out);
        break;
      }
      default:
        out.push_back(c);  // \' \" \` \\ \/
    }
  }
  return SyntaxError("unterminated quoted text", start);
}

// The characters of a date/time literal after '@'.
size_t DateTimeLength(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (IsDigit(c) || c == '-' || c == ':' || c == 'T' || c == 'Z' || c == '+') {
      ++i;
    } else if (c == '.' && i + 1 < s.size() && IsDigit(s[i + 1])) {
      ++i;
    } else {
      break;
    }
  }
  return i;
}

}  // namespace

Status SyntaxError(std::string message, int position) {
  return InvalidError("FHIRPath: " + std::move(message), "@" + std::to_string(position));
}

StatusOr<std::vector<Token>> Tokenize(std::string_view text) {
  std::vector<Token> tokens;
  size_t i = 0;
  while (true) {
    while (i < text.size()) {
      const char c = text[i];
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
        ++i;
      } else if (c == '/' && i + 1 < text.size() && text[i + 1] == '/') {
        while (i < text.size() && text[i] != '\n') {
          ++i;
        }
      } else if (c == '/' && i + 1 < text.size() && text[i + 1] == '*') {
        const size_t end = text.find("*/", i + 2);
        if (end == std::string_view::npos) {
          return SyntaxError("unterminated comment", static_cast<int>(i));
        }
        i = end + 2;
      } else {
        break;
      }
    }
    Token t;
    t.position = static_cast<int>(i);
    if (i >= text.size()) {
      tokens.push_back(std::move(t));
      return tokens;
    }
    const char c = text[i];
    if (IsIdentStart(c)) {
      const size_t s = i;
      while (i < text.size() && IsIdentChar(text[i])) {
        ++i;
      }
      t.kind = TokenKind::kIdentifier;
      t.text = text.substr(s, i - s);
    } else if (c == '`' || c == '\'') {
      ASSIGN_OR_RETURN(t.text, ReadQuoted(text, &i));
      t.kind = c == '`' ? TokenKind::kDelimitedIdentifier : TokenKind::kString;
    } else if (IsDigit(c)) {
      const size_t s = i;
      while (i < text.size() && IsDigit(text[i])) {
        ++i;
      }
      if (i + 1 < text.size() && text[i] == '.' && IsDigit(text[i + 1])) {
        ++i;
        while (i < text.size() && IsDigit(text[i])) {
          ++i;
        }
      }
      t.kind = TokenKind::kNumber;
      t.text = text.substr(s, i - s);
      if (i < text.size() && text[i] == 'L') {
        t.kind = TokenKind::kLongNumber;
        ++i;
      }
    } else if (c == '@') {
      const size_t n = DateTimeLength(text.substr(i + 1));
      t.kind = TokenKind::kDateTime;
      t.text = text.substr(i + 1, n);
      i += 1 + n;
    } else if (c == '%') {
      ++i;
      if (i < text.size() && (text[i] == '`' || text[i] == '\'')) {
        ASSIGN_OR_RETURN(t.text, ReadQuoted(text, &i));
      } else {
        const size_t s = i;
        while (i < text.size() && (IsIdentChar(text[i]) || text[i] == '-')) {
          ++i;
        }
        t.text = text.substr(s, i - s);
      }
      if (t.text.empty()) {
        return SyntaxError("empty variable name", t.position);
      }
      t.kind = TokenKind::kVariable;
    } else if (c == '$') {
      const size_t s = i++;
      while (i < text.size() && IsIdentChar(text[i])) {
        ++i;
      }
      t.kind = TokenKind::kSpecial;
      t.text = text.substr(s, i - s);
    } else {
      static constexpr std::string_view kTwo[] = {"!=", "!~", "<=", ">="};
      t.kind = TokenKind::kSymbol;
      for (std::string_view two : kTwo) {
        if (text.substr(i, 2) == two) {
          t.text = two;
        }
      }
      if (t.text.empty()) {
        if (std::string_view("+-*/|&=~<>()[]{}.,").find(c) == std::string_view::npos) {
          return SyntaxError(std::string("unexpected character '") + c + "'", t.position);
        }
        t.text = std::string(1, c);
      }
      i += t.text.size();
    }
    tokens.push_back(std::move(t));
  }
}

}  // namespace carechart::fhirpath

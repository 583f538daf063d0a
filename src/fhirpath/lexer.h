// Tokens of the FHIRPath grammar (internal to cc_fhirpath).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace carechart::fhirpath {

enum class TokenKind : unsigned char {
  kEnd,
  kIdentifier,           // also keywords (and, or, is, true ...): the parser decides
  kDelimitedIdentifier,  // `...`
  kString,               // '...' (text unescaped)
  kNumber,               // 12, 1.5
  kLongNumber,           // 12L
  kDateTime,             // @2015-02-04T14:34, text without '@'
  kVariable,             // %name, %`name`, %'name' (text = name)
  kSpecial,              // $this, $index, $total (text with '$')
  kSymbol,               // + - * / | & = != ~ !~ < > <= >= ( ) [ ] { } . ,
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::string text;
  int position = 0;  // byte offset in the expression
};

// Splits `text` into tokens, skipping whitespace and comments. Errors name the offset.
StatusOr<std::vector<Token>> Tokenize(std::string_view text);

// Status for a problem at `position` of the expression.
Status SyntaxError(std::string message, int position);

}  // namespace carechart::fhirpath

#include "store/postgres/pg_copy.h"

namespace carechart::store::pg {

void CopyText::Separator() {
  if (row_started_) {
    data_ += '\t';
  }
  row_started_ = true;
}

CopyText& CopyText::Int(int64_t v) {
  Separator();
  data_ += std::to_string(v);
  return *this;
}

CopyText& CopyText::Text(std::string_view v) {
  Separator();
  for (char c : v) {
    switch (c) {
      case '\\':
        data_ += "\\\\";
        break;
      case '\t':
        data_ += "\\t";
        break;
      case '\n':
        data_ += "\\n";
        break;
      case '\r':
        data_ += "\\r";
        break;
      default:
        data_ += c;
    }
  }
  return *this;
}

CopyText& CopyText::NullIfEmpty(std::string_view v) {
  if (v.empty()) {
    Separator();
    data_ += "\\N";
    return *this;
  }
  return Text(v);
}

CopyText& CopyText::Bytea(std::string_view v) {
  static constexpr char kHex[] = "0123456789abcdef";
  Separator();
  data_.reserve(data_.size() + 3 + 2 * v.size());
  data_ += "\\\\x";  // bytea's "\x" prefix, its backslash escaped for COPY
  for (unsigned char c : v) {
    data_ += kHex[c >> 4];
    data_ += kHex[c & 15];
  }
  return *this;
}

void CopyText::EndRow() {
  data_ += '\n';
  row_started_ = false;
  ++rows_;
}

}  // namespace carechart::store::pg

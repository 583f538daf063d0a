// Rows in the text format of PostgreSQL's COPY ... FROM STDIN (tab-separated columns, "\N" for
// NULL, backslash escapes), for Connection::CopyIn: the bulk path of imports (pg_write_txn.cc).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace carechart::store::pg {

class CopyText {
 public:
  CopyText& Int(int64_t v);
  CopyText& Text(std::string_view v);
  CopyText& NullIfEmpty(std::string_view v);  // '' goes in as NULL
  CopyText& Bytea(std::string_view v);        // hex form
  void EndRow();

  const std::string& data() const { return data_; }
  size_t rows() const { return rows_; }

 private:
  void Separator();
  std::string data_;
  bool row_started_ = false;
  size_t rows_ = 0;
};

}  // namespace carechart::store::pg

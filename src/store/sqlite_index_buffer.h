// The search-index rows of a SQLite write function's Puts, inserted together rather than one
// statement per row.
//
// Why: a generated resource has ~15 index rows, and inserting each with its own statement made
// the writer thread spend most of its time in per-statement work (reset, bind, opening a cursor
// and descending each B-tree from its root). Rows held here are inserted at Flush(), per table in
// primary-key order, with multi-row INSERT statements of up to kMaxRowsPerStatement rows: within
// one statement SQLite keeps the cursor on the B-tree's last leaf, and a row whose key is past
// the last one is appended without a descent (the common case: new resources get growing pks).
//
// Semantics are those of inserting at Put: INSERT OR IGNORE, and of rows with the same key the
// one added first wins (the sort is stable). The owner must Flush() before anything reads or
// deletes index rows in the same transaction (SqliteWriteTxn does, and at the end of each write
// function). Values are copied in, so the entries need not outlive Add().
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "fhir/search_index.h"
#include "store/index_rows.h"
#include "store/sqlite_db.h"

namespace carechart::store::sqlite {

class IndexRowBuffer {
 public:
  static constexpr size_t kMaxRowsPerStatement = 64;

  // Holds the index rows of resource `pk` (of type `type`).
  // `patient_of`: the whole resource's entries when `index` holds one parameter's (the token
  // rows' patient column comes from them, index_rows.h).
  void Add(int64_t pk, const std::string& type, const fhir::IndexEntries& index,
           const fhir::IndexEntries* patient_of = nullptr);
  // Rows held, all tables together.
  size_t size() const { return rows_; }
  bool empty() const { return rows_ == 0; }
  // Inserts every row held (then holds none, also on error).
  Status Flush(Connection& conn);
  // Forgets the rows held (their write function failed).
  void Clear();

 private:
  // One column value: integer, real or text (bytes of text_ from `off`, `len` long).
  struct Cell {
    enum class Kind : uint8_t { kInt, kReal, kText } kind = Kind::kInt;
    uint32_t len = 0;
    union {
      int64_t i;
      double d;
      uint64_t off;
    };
    Cell() : i(0) {}
  };
  int CompareCells(const Cell& a, const Cell& b) const;
  std::string_view Text(const Cell& c) const {
    return std::string_view(text_).substr(c.off, c.len);
  }
  Status FlushTable(Connection& conn, size_t table);
  // Raises sp_date_span (decisions D111) to the longest closed range of each parameter among
  // the date rows held.
  Status RaiseDateSpans(Connection& conn);

  // Per table, its rows' cells one after another: res, then the table's columns.
  std::array<std::vector<Cell>, kIndexTableCount> cells_;
  std::string text_;
  size_t rows_ = 0;
  std::vector<uint32_t> order_;  // scratch of Flush
};

}  // namespace carechart::store::sqlite

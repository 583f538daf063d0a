#include "store/sqlite_index_buffer.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <numeric>
#include <utility>

namespace carechart::store::sqlite {
namespace {

// Columns of each table after res (kIndexColumns), and how many of them follow res in its
// primary key (sqlite_schema.cc): the sort order of Flush. sp_token's text and sp_composite's
// component columns are not in the key.
constexpr size_t kKeyColumns[kIndexTableCount] = {3, 3, 3, 4, 5, 2, 2, 2};

size_t ColumnCount(size_t table) {
  static const std::array<size_t, kIndexTableCount> counts = [] {
    std::array<size_t, kIndexTableCount> c{};
    for (size_t t = 0; t < kIndexTableCount; ++t) {
      const std::string_view cols = kIndexColumns[t];
      c[t] = 1 + static_cast<size_t>(std::count(cols.begin(), cols.end(), ','));
    }
    return c;
  }();
  return counts[table];
}

// "INSERT OR IGNORE INTO t VALUES (?, ...), ..." for `rows` rows of `table` (1 to 64).
const std::string& InsertSql(size_t table, size_t rows) {
  static const auto* sql = [] {
    auto* all = new std::array<std::array<std::string, IndexRowBuffer::kMaxRowsPerStatement + 1>,
                               kIndexTableCount>();
    for (size_t t = 0; t < kIndexTableCount; ++t) {
      std::string tuple = "(?";
      for (size_t c = 0; c < ColumnCount(t); ++c) {
        tuple += ",?";
      }
      tuple += ")";
      for (size_t n = 1; n <= IndexRowBuffer::kMaxRowsPerStatement; ++n) {
        std::string& s = (*all)[t][n];
        s = std::string("INSERT OR IGNORE INTO ") + kIndexTables[t] + " VALUES " + tuple;
        for (size_t i = 1; i < n; ++i) {
          s += "," + tuple;
        }
      }
    }
    return all;
  }();
  return (*sql)[table][rows];
}

}  // namespace

void IndexRowBuffer::Add(int64_t pk, const std::string& type, const fhir::IndexEntries& index,
                         const fhir::IndexEntries* patient_of) {
  ForEachIndexRow(
      type, index,
      [&](int table, std::initializer_list<IndexCol> cols) {
        std::vector<Cell>& out = cells_[table];
        Cell res;
        res.i = pk;
        out.push_back(res);
        for (const IndexCol& col : cols) {
          Cell c;
          if (const int64_t* i = std::get_if<int64_t>(&col)) {
            c.i = *i;
          } else if (const double* d = std::get_if<double>(&col)) {
            c.kind = Cell::Kind::kReal;
            c.d = *d;
          } else {
            const std::string_view t = std::get<std::string_view>(col);
            c.kind = Cell::Kind::kText;
            c.off = text_.size();
            c.len = static_cast<uint32_t>(t.size());
            text_.append(t);
          }
          out.push_back(c);
        }
        ++rows_;
      },
      patient_of);
}

void IndexRowBuffer::Clear() {
  for (std::vector<Cell>& c : cells_) {
    c.clear();
  }
  text_.clear();
  rows_ = 0;
}

// SQLite's order of two values of a key column: numbers (integer and real compared by value)
// before text; text by its bytes (BINARY collation), a prefix first.
int IndexRowBuffer::CompareCells(const Cell& a, const Cell& b) const {
  const bool a_text = a.kind == Cell::Kind::kText;
  const bool b_text = b.kind == Cell::Kind::kText;
  if (a_text != b_text) {
    return a_text ? 1 : -1;
  }
  if (a_text) {
    const int c = Text(a).compare(Text(b));
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  if (a.kind == Cell::Kind::kInt && b.kind == Cell::Kind::kInt) {
    return a.i < b.i ? -1 : (a.i > b.i ? 1 : 0);
  }
  const double x = a.kind == Cell::Kind::kInt ? static_cast<double>(a.i) : a.d;
  const double y = b.kind == Cell::Kind::kInt ? static_cast<double>(b.i) : b.d;
  return x < y ? -1 : (x > y ? 1 : 0);
}

Status IndexRowBuffer::Flush(Connection& conn) {
  Status status;
  for (size_t t = 0; t < kIndexTableCount && status.ok(); ++t) {
    status = FlushTable(conn, t);
  }
  Clear();
  return status;
}

Status IndexRowBuffer::FlushTable(Connection& conn, size_t table) {
  const std::vector<Cell>& cells = cells_[table];
  const size_t stride = 1 + ColumnCount(table);
  const size_t rows = cells.size() / stride;
  if (rows == 0) {
    return Status::Ok();
  }
  // Key order (res, then the key columns); stable, so the first of equal keys is inserted first
  // and wins the OR IGNORE, as it did when rows were inserted at Put.
  order_.resize(rows);
  std::iota(order_.begin(), order_.end(), 0);
  const size_t key = 1 + kKeyColumns[table];
  std::stable_sort(order_.begin(), order_.end(), [&](uint32_t x, uint32_t y) {
    const Cell* a = &cells[x * stride];
    const Cell* b = &cells[y * stride];
    for (size_t c = 0; c < key; ++c) {
      if (const int r = CompareCells(a[c], b[c]); r != 0) {
        return r < 0;
      }
    }
    return false;
  });
  for (size_t done = 0; done < rows;) {
    // Statement sizes are powers of two (a few cached statements per table, not one per size).
    size_t n = kMaxRowsPerStatement;
    while (n > rows - done) {
      n /= 2;
    }
    ASSIGN_OR_RETURN(Statement stmt, conn.Prepare(InsertSql(table, n)));
    int param = 1;
    for (size_t r = done; r < done + n; ++r) {
      const Cell* row = &cells[order_[r] * stride];
      for (size_t c = 0; c < stride; ++c, ++param) {
        switch (row[c].kind) {
          case Cell::Kind::kInt:
            stmt.Bind(param, row[c].i);
            break;
          case Cell::Kind::kReal:
            stmt.Bind(param, row[c].d);
            break;
          case Cell::Kind::kText:
            stmt.BindStaticText(param, Text(row[c]));  // text_ outlives stmt
            break;
        }
      }
    }
    RETURN_IF_ERROR(stmt.Run());
    done += n;
  }
  return table == kDateTable ? RaiseDateSpans(conn) : Status::Ok();
}

Status IndexRowBuffer::RaiseDateSpans(Connection& conn) {
  LongestDateSpans spans;
  const std::vector<Cell>& cells = cells_[kDateTable];
  for (size_t r = 0; r + 3 < cells.size(); r += 4) {  // res, param, low, high
    spans.Add(cells[r + 1].i, cells[r + 2].i, cells[r + 3].i);
  }
  // A span only grows (a deleted row's may stay: a looser bound, never a wrong one), and in the
  // rows' own transaction, so a search's snapshot never holds a row longer than its span. The
  // WHERE leaves the row untouched (and its page clean) when the span is not longer.
  for (const auto& [param, span] : spans.spans()) {
    ASSIGN_OR_RETURN(Statement stmt,
                     conn.Prepare("INSERT INTO sp_date_span(param, span) VALUES (?1, ?2) "
                                  "ON CONFLICT(param) DO UPDATE SET span = excluded.span "
                                  "WHERE excluded.span > sp_date_span.span"));
    RETURN_IF_ERROR(stmt.Bind(1, param).Bind(2, span).Run());
  }
  return Status::Ok();
}

}  // namespace carechart::store::sqlite

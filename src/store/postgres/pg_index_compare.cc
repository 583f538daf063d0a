#include "store/postgres/pg_index_compare.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdlib>
#include <utility>

#include "store/index_row_match.h"
#include "store/index_rows.h"

namespace carechart::store::pg {
namespace {

// sp_composite's numeric bounds (lo1, hi1, lo2 ...: columns 5, 6, 10, 11, 15, 16 after res) are
// selected as text (results come in binary, and numeric's binary form is PostgreSQL's own):
// whole numbers (dates' microseconds, integral values) read as integers, others as the double
// they were written from (exact decimal text).
bool IsNumericBound(size_t table, size_t column) {
  return table == kIndexTableCount - 1 && column >= 5 && (column - 5) % 5 < 2;
}

// "SELECT res, <the table's columns> FROM <table> WHERE res ", the bounds cast to text; made
// once per table from kIndexColumns.
const std::string& SelectRows(size_t table) {
  static const std::array<std::string, kIndexTableCount> selects = [] {
    std::array<std::string, kIndexTableCount> out;
    for (size_t t = 0; t < kIndexTableCount; ++t) {
      std::string columns;
      std::string_view list = kIndexColumns[t];
      for (size_t c = 0; !list.empty(); ++c) {
        const size_t comma = list.find(',');
        std::string_view name = list.substr(0, comma);
        while (!name.empty() && name.front() == ' ') {
          name.remove_prefix(1);
        }
        columns += ", " + std::string(name) + (IsNumericBound(t, c) ? "::text" : "");
        list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
      }
      out[t] = "SELECT res" + columns + " FROM " + kIndexTables[t] + " WHERE res ";
    }
    return out;
  }();
  return selects[table];
}

IndexCol NumericValue(const std::string& text) {
  int64_t i = 0;
  const char* end = text.data() + text.size();
  if (auto [p, ec] = std::from_chars(text.data(), end, i); ec == std::errc() && p == end) {
    return i;
  }
  return std::strtod(text.c_str(), nullptr);
}

}  // namespace

StatusOr<std::vector<bool>> IndexRowsSame(Connection& conn,
                                          std::span<const ResourceVersion> resources,
                                          std::span<const fhir::IndexEntries> index,
                                          const std::string& param) {
  std::vector<std::pair<int64_t, uint32_t>> keys;
  for (size_t i = 0; i < resources.size(); ++i) {
    if (resources[i].row_key != 0) {
      keys.emplace_back(resources[i].row_key, static_cast<uint32_t>(i));
    }
  }
  ChunkComparison chunk(std::move(keys), resources, index, param);
  if (chunk.empty()) {
    return chunk.Result();
  }
  const bool dense = chunk.dense();
  const std::vector<int64_t> key_list = dense ? std::vector<int64_t>() : chunk.Keys();
  RETURN_IF_ERROR(conn.Exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
  auto compare = [&]() -> Status {
    std::vector<SqlArg> values;
    std::vector<IndexCol> columns;
    for (size_t table = 0; table < kIndexTableCount; ++table) {
      const std::string& select = SelectRows(table);
      ASSIGN_OR_RETURN(
          Rows rows,
          dense ? conn.Run(select + "BETWEEN $1 AND $2", Args().Int(chunk.low()).Int(chunk.high()))
                : conn.Run(select + "= ANY($1)", Args().IntArray(key_list)));
      for (int r = 0; r < rows.size(); ++r) {
        if (!chunk.Compares(rows.Int(r, 0), rows.Int(r, 1))) {
          continue;
        }
        values.clear();
        bool complete = true;
        for (int c = 1; c < rows.columns() && complete; ++c) {
          std::optional<SqlArg> v = rows.Value(r, c);
          complete = v.has_value();  // NOT NULL columns: a NULL is a damaged row
          if (complete) {
            values.push_back(std::move(*v));
          }
        }
        columns.clear();  // views into `values`, complete before the first view is taken
        for (size_t c = 0; complete && c < values.size(); ++c) {
          const SqlArg& v = values[c];
          if (const auto* text = std::get_if<std::string>(&v)) {
            columns.push_back(IsNumericBound(table, c) ? NumericValue(*text)
                                                       : IndexCol(std::string_view(*text)));
          } else if (const auto* i = std::get_if<int64_t>(&v)) {
            columns.emplace_back(*i);
          } else {
            columns.emplace_back(std::get<double>(v));
          }
        }
        chunk.Row(table, columns, complete);
      }
    }
    return Status::Ok();
  };
  Status status = compare();
  if (!conn.Exec("COMMIT").ok()) {
    (void)conn.Exec("ROLLBACK");
  }
  RETURN_IF_ERROR(status);
  return chunk.Result();
}

}  // namespace carechart::store::pg

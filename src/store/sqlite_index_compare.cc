#include "store/sqlite_index_compare.h"

#include <algorithm>
#include <array>
#include <initializer_list>
#include <utility>
#include <variant>

#include "store/index_keys.h"
#include "store/index_rows.h"
#include "store/sql_dialect.h"

namespace carechart::store::sqlite {
namespace {

// The columns of `stmt`'s row from `first` on, as ForEachIndexRow hands them out (views into the
// row: valid until the next step); false for a NULL (NOT NULL columns: a damaged row).
bool ReadColumns(const Statement& stmt, int first, std::vector<IndexCol>& out) {
  out.clear();
  for (int c = first; c < stmt.ColumnCount(); ++c) {
    switch (stmt.Type(c)) {
      case Statement::ColumnType::kNull:
        return false;
      case Statement::ColumnType::kInteger:
        out.emplace_back(stmt.Int(c));
        break;
      case Statement::ColumnType::kFloat:
        out.emplace_back(stmt.Double(c));
        break;
      case Statement::ColumnType::kText:
        out.emplace_back(stmt.TextView(c));
        break;
    }
  }
  return true;
}

// Each table's rows of one key, or of the keys of a list or a range ("res, " then its columns).
enum class Rows { kOfKey, kOfList, kInRange };
const std::string& SelectRowsSql(size_t table, Rows rows) {
  static const auto sql = [] {
    std::array<std::array<std::string, 3>, kIndexTableCount> s;
    for (size_t t = 0; t < kIndexTableCount; ++t) {
      const std::string select = std::string("SELECT * FROM ") + kIndexTables[t] + " WHERE res ";
      s[t][0] = select + "= ?1";
      s[t][1] = select + "IN (" + SqliteDialect().IntListSubquery("?1") + ")";
      s[t][2] = select + "BETWEEN ?1 AND ?2";
    }
    return s;
  }();
  return sql[table][static_cast<size_t>(rows)];
}

}  // namespace

StatusOr<bool> IndexRowComparison::Same(Connection& conn, int64_t pk, const std::string& type,
                                        const fhir::IndexEntries& ix,
                                        const std::vector<int64_t>& params) {
  wanted_.Clear();
  wanted_.Add(type, ix, params);
  wanted_.Seal();
  for (size_t table = 0; table < kIndexTableCount; ++table) {
    ASSIGN_OR_RETURN(Statement stmt, conn.Prepare(SelectRowsSql(table, Rows::kOfKey)));
    stmt.Bind(1, pk);
    while (true) {
      ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) {
        break;
      }
      if (!ParamWanted(params, stmt.Int(1))) {
        continue;
      }
      if (!ReadColumns(stmt, 1, columns_) || !wanted_.Match(0, table, columns_)) {
        return false;
      }
    }
  }
  return wanted_.AllMatched(0);
}

StatusOr<std::vector<bool>> IndexRowsSame(Connection& conn,
                                          std::span<const ResourceVersion> resources,
                                          std::span<const fhir::IndexEntries> index,
                                          const std::string& param) {
  return InReadTxn(conn, [&]() -> StatusOr<std::vector<bool>> {
    // Each resource's key: the one its read gave, else looked up by its version.
    std::vector<std::pair<int64_t, uint32_t>> keys;
    keys.reserve(resources.size());
    for (size_t i = 0; i < resources.size(); ++i) {
      const ResourceVersion& r = resources[i];
      int64_t pk = r.row_key;
      if (pk == 0) {
        ASSIGN_OR_RETURN(Statement find,
                         conn.Prepare("SELECT pk FROM resource WHERE type = ?1 AND id = ?2 AND "
                                      "version = ?3 AND deleted = 0"));
        find.BindStaticText(1, r.type).BindStaticText(2, r.id).Bind(3, r.version);
        ASSIGN_OR_RETURN(bool row, find.Step());
        if (!row) {
          continue;  // changed since it was read: the writer will see it is not current
        }
        pk = find.Int(0);
      }
      keys.emplace_back(pk, static_cast<uint32_t>(i));
    }
    ChunkComparison chunk(std::move(keys), resources, index, param);
    if (chunk.empty()) {
      return chunk.Result();
    }
    const bool dense = chunk.dense();
    const std::string list = dense ? "" : SqliteDialect().IntListArg(chunk.Keys());
    std::vector<IndexCol> columns;
    for (size_t table = 0; table < kIndexTableCount; ++table) {
      ASSIGN_OR_RETURN(Statement stmt,
                       conn.Prepare(SelectRowsSql(table, dense ? Rows::kInRange : Rows::kOfList)));
      if (dense) {
        stmt.Bind(1, chunk.low()).Bind(2, chunk.high());
      } else {
        stmt.Bind(1, list);
      }
      while (true) {
        ASSIGN_OR_RETURN(bool row, stmt.Step());
        if (!row) {
          break;
        }
        if (chunk.Compares(stmt.Int(0), stmt.Int(1))) {
          const bool complete = ReadColumns(stmt, 1, columns);
          chunk.Row(table, columns, complete);
        }
      }
    }
    return chunk.Result();
  });
}

}  // namespace carechart::store::sqlite

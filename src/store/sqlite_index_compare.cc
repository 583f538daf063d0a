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

// A row as comparable bytes: the owner, the table, then each column typed (i/d/t) and exact.
void AppendColumn(std::string& out, const IndexCol& c) {
  if (const int64_t* i = std::get_if<int64_t>(&c)) {
    out += 'i';
    out.append(reinterpret_cast<const char*>(i), sizeof *i);
  } else if (const double* d = std::get_if<double>(&c)) {
    out += 'd';
    out.append(reinterpret_cast<const char*>(d), sizeof *d);
  } else {
    std::string_view t = std::get<std::string_view>(c);
    const uint32_t n = static_cast<uint32_t>(t.size());
    out += 't';
    out.append(reinterpret_cast<const char*>(&n), sizeof n);
    out.append(t);
  }
}

void AppendHead(std::string& out, uint32_t owner, size_t table) {
  out.append(reinterpret_cast<const char*>(&owner), sizeof owner);
  out += static_cast<char>('0' + table);
}

bool Wanted(const std::vector<int64_t>& params, int64_t param) {
  return params.empty() || std::find(params.begin(), params.end(), param) != params.end();
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

void WantedIndexRows::Clear() {
  bytes_.clear();
  spans_.clear();
  wanted_count_.clear();
  matched_.clear();
}

void WantedIndexRows::Add(const std::string& type, const fhir::IndexEntries& ix,
                          const std::vector<int64_t>& params) {
  const auto owner = static_cast<uint32_t>(wanted_count_.size());
  wanted_count_.push_back(0);
  ForEachIndexRow(type, ix, [&](int table, std::initializer_list<IndexCol> cols) {
    if (!Wanted(params, std::get<int64_t>(*cols.begin()))) {
      return;
    }
    Span span{owner, bytes_.size(), 0, 0};
    AppendHead(bytes_, owner, static_cast<size_t>(table));
    size_t n = 0;
    for (const IndexCol& c : cols) {
      AppendColumn(bytes_, c);
      if (table == kTokenTable && ++n == kTokenKeyColumns) {
        span.token_key_size = bytes_.size() - span.begin;
      }
    }
    span.size = bytes_.size() - span.begin;
    spans_.push_back(span);
  });
}

void WantedIndexRows::Seal() {
  wanted_.clear();
  token_keys_.clear();
  wanted_.reserve(spans_.size());
  matched_.assign(wanted_count_.size(), 0);
  for (const Span& s : spans_) {
    std::string_view row(bytes_.data() + s.begin, s.size);
    // sp_token's key is (res, param, sys, code): the first row of a key wins, as OR IGNORE does.
    if (s.token_key_size > 0 && !token_keys_.insert(row.substr(0, s.token_key_size)).second) {
      continue;
    }
    if (wanted_.emplace(row, false).second) {
      ++wanted_count_[s.owner];
    }
  }
}

bool WantedIndexRows::Match(uint32_t owner, size_t table, const Statement& stmt, int first_column) {
  stored_.clear();
  AppendHead(stored_, owner, table);
  for (int c = first_column; c < stmt.ColumnCount(); ++c) {
    switch (stmt.Type(c)) {
      case Statement::ColumnType::kNull:
        return false;  // NOT NULL columns: a NULL is a damaged row, rewrite it
      case Statement::ColumnType::kInteger:
        AppendColumn(stored_, IndexCol(stmt.Int(c)));
        break;
      case Statement::ColumnType::kFloat:
        AppendColumn(stored_, IndexCol(stmt.Double(c)));
        break;
      case Statement::ColumnType::kText:
        AppendColumn(stored_, IndexCol(stmt.TextView(c)));
        break;
    }
  }
  auto it = wanted_.find(stored_);
  if (it == wanted_.end() || it->second) {
    return false;  // a row not wanted, or the same row twice
  }
  it->second = true;
  ++matched_[owner];
  return true;
}

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
      if (Wanted(params, stmt.Int(1)) && !wanted_.Match(0, table, stmt, 1)) {
        return false;
      }
    }
  }
  return wanted_.AllMatched(0);
}

std::vector<int64_t> ReindexedParamKeys(const std::string& type, const std::string& param) {
  if (param.empty()) {
    return {};
  }
  return {ParamKey(type, param), ParamKey(type, param + ":of-type")};
}

StatusOr<std::vector<bool>> IndexRowsSame(Connection& conn,
                                          std::span<const ResourceVersion> resources,
                                          std::span<const fhir::IndexEntries> index,
                                          const std::string& param) {
  return InReadTxn(conn, [&]() -> StatusOr<std::vector<bool>> {
    const size_t n = resources.size();
    // Each resource's key (the one its read gave, else looked up), sorted with its position.
    std::vector<std::pair<int64_t, uint32_t>> keys;
    keys.reserve(n);
    for (size_t i = 0; i < n; ++i) {
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
    std::vector<bool> same(n, false);
    if (keys.empty()) {
      return same;
    }
    std::sort(keys.begin(), keys.end());
    // Owner numbers are positions in `keys`; every resource's wanted rows, then every table
    // read once for them all: over the keys' range when they are dense in it (a reindex reads
    // in key order, and resources of a type written together have neighbouring keys), else
    // key by key in one statement.
    // With `param`, the rows compared are those of its keys for every type of the chunk (a
    // parameter's key names its type: one type's keys select no row of another's).
    WantedIndexRows wanted;
    std::vector<int64_t> params;
    for (size_t k = 0; k < keys.size(); ++k) {
      const ResourceVersion& r = resources[keys[k].second];
      if (!param.empty() && (k == 0 || r.type != resources[keys[k - 1].second].type)) {
        for (int64_t key : ReindexedParamKeys(r.type, param)) {
          if (std::find(params.begin(), params.end(), key) == params.end()) {
            params.push_back(key);
          }
        }
      }
    }
    for (const auto& [pk, i] : keys) {
      wanted.Add(resources[i].type, index[i], params);
    }
    wanted.Seal();
    const int64_t low = keys.front().first;
    const int64_t high = keys.back().first;
    const bool dense = static_cast<uint64_t>(high - low) < 2 * keys.size();
    std::vector<int64_t> list;
    if (!dense) {
      for (const auto& [pk, i] : keys) {
        list.push_back(pk);
      }
    }
    std::vector<uint8_t> differs(keys.size(), 0);
    for (size_t table = 0; table < kIndexTableCount; ++table) {
      ASSIGN_OR_RETURN(Statement stmt,
                       conn.Prepare(SelectRowsSql(table, dense ? Rows::kInRange : Rows::kOfList)));
      if (dense) {
        stmt.Bind(1, low).Bind(2, high);
      } else {
        stmt.Bind(1, SqliteDialect().IntListArg(list));
      }
      size_t owner = 0;  // rows come grouped by key: the last owner found is the likely one
      while (true) {
        ASSIGN_OR_RETURN(bool row, stmt.Step());
        if (!row) {
          break;
        }
        const int64_t res = stmt.Int(0);
        if (keys[owner].first != res) {
          auto it = std::lower_bound(keys.begin(), keys.end(), std::make_pair(res, uint32_t{0}));
          if (it == keys.end() || it->first != res) {
            continue;  // another resource's, inside the range
          }
          owner = static_cast<size_t>(it - keys.begin());
        }
        if (differs[owner] != 0 || !Wanted(params, stmt.Int(1))) {
          continue;
        }
        if (!wanted.Match(static_cast<uint32_t>(owner), table, stmt, 1)) {
          differs[owner] = 1;
        }
      }
    }
    for (size_t k = 0; k < keys.size(); ++k) {
      same[keys[k].second] = differs[k] == 0 && wanted.AllMatched(static_cast<uint32_t>(k));
    }
    return same;
  });
}

}  // namespace carechart::store::sqlite

#include "store/sqlite_readers.h"

#include <algorithm>

#include "store/include_follow.h"
#include "store/search_sql.h"
#include "store/sqlite_body_dictionaries.h"
#include "store/sqlite_token_systems.h"

namespace carechart::store::sqlite {
namespace {

// Columns 0..6 of every version query: type, id, version, last_updated, deleted, method, body
// (decoded: sqlite_body_dictionaries.h), read on `conn`.
StatusOr<ResourceVersion> VersionFromRow(Connection& conn, const Statement& s) {
  ResourceVersion v;
  v.type = s.Text(0);
  v.id = s.Text(1);
  v.version = s.Int(2);
  v.last_updated_us = s.Int(3);
  v.deleted = s.Int(4) != 0;
  v.method = s.Text(5);
  RETURN_IF_ERROR(DecodeStoredBody(conn, s.TextView(6), &v.body, v.type, v.id));
  return v;
}

// A page row: the version, its key and its sort values (columns 7.. of a kPage query).
struct PageRow {
  ResourceVersion version;
  int64_t pk = 0;
  std::vector<std::string> sort_values;
};

StatusOr<std::vector<PageRow>> CollectPageRows(Connection& conn, Statement& stmt,
                                               size_t sort_keys) {
  std::vector<PageRow> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) {
      return out;
    }
    PageRow r;
    ASSIGN_OR_RETURN(r.version, VersionFromRow(conn, stmt));
    r.pk = stmt.Int(7);
    for (size_t i = 0; i < sort_keys; ++i) {
      std::optional<SqlArg> v = stmt.Value(8 + static_cast<int>(i));
      r.sort_values.push_back(EncodeSortValue(v ? &*v : nullptr));
    }
    out.push_back(std::move(r));
  }
}

// Follows the query's includes from the page's matches (include_follow.h), one statement per
// level.
Status RunIncludes(Connection& conn, const SearchQuery& q, const std::vector<int64_t>& match_pks,
                   std::vector<ResourceVersion>* included) {
  auto run_level =
      [&conn](
          const CompiledSql& sql) -> StatusOr<std::vector<std::pair<int64_t, ResourceVersion>>> {
    ASSIGN_OR_RETURN(Statement s, conn.Prepare(sql.sql));
    s.BindAll(sql.args);
    std::vector<std::pair<int64_t, ResourceVersion>> rows;
    while (true) {
      ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) {
        return rows;
      }
      ASSIGN_OR_RETURN(ResourceVersion v, VersionFromRow(conn, s));
      rows.emplace_back(s.Int(7), std::move(v));
      if (s.ColumnCount() > 8) {  // CompileIncludes selects the stored patient_id too
        rows.back().second.patient_id = s.IsNull(8) ? std::string() : s.Text(8);
      }
    }
  };
  return FollowIncludes(q, match_pks, SqliteDialect(), run_level, included);
}

StatusOr<std::vector<ResourceVersion>> CollectVersions(Connection& conn, Statement& stmt) {
  std::vector<ResourceVersion> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) {
      return out;
    }
    ASSIGN_OR_RETURN(ResourceVersion v, VersionFromRow(conn, stmt));
    out.push_back(std::move(v));
  }
}

// WHERE conditions of the two arms of a history query (current versions, earlier versions),
// with ?1 type, ?2 id, ?3 since, ?4 at.
struct HistoryFilter {
  std::string current = " WHERE 1 = 1";
  std::string earlier = " WHERE 1 = 1";
};

HistoryFilter HistoryConditions(const HistoryQuery& q) {
  HistoryFilter f;
  if (!q.type.empty()) {
    f.current += " AND r.type = ?1";
    f.earlier += " AND h.type = ?1";
  } else {
    // System history lists record changes, not the audit trail that reading it grows
    // (decisions D21): AuditEvents have their own history (AuditEvent/_history).
    f.current += " AND r.type <> 'AuditEvent'";
    f.earlier += " AND h.type <> 'AuditEvent'";
  }
  if (!q.id.empty()) {
    f.current += " AND r.id = ?2";
    f.earlier += " AND r.type = ?1 AND r.id = ?2";
  }
  if (q.since_us) {
    f.current += " AND r.last_updated >= ?3";
    f.earlier += " AND h.last_updated >= ?3";
  }
  if (q.at_us) {
    f.current += " AND r.last_updated <= ?4";
    f.earlier += " AND h.last_updated <= ?4 AND h.superseded > ?4";
  }
  return f;
}

void BindHistory(Statement& s, const HistoryQuery& q) {
  s.Bind(1, q.type).Bind(2, q.id).Bind(3, q.since_us.value_or(0)).Bind(4, q.at_us.value_or(0));
}

}  // namespace

StatusOr<std::unique_ptr<ReaderPool>> ReaderPool::Open(const std::string& path, int size,
                                                       int max_query_ms,
                                                       std::shared_ptr<BodyCodec> codec) {
  auto pool = std::make_unique<ReaderPool>();
  pool->max_query_ms_ = max_query_ms;
  for (int i = 0; i < std::max(1, size); ++i) {
    ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn, Connection::Open(path, true));
    if (codec) {
      conn->set_body_codec(codec);
    }
    pool->idle_.push_back(std::move(conn));
  }
  return pool;
}

ReaderPool::Lease ReaderPool::Acquire() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return !idle_.empty(); });
  std::unique_ptr<Connection> conn = std::move(idle_.back());
  idle_.pop_back();
  conn->SetTimeLimit(max_query_ms_);
  return Lease(this, std::move(conn));
}

ReaderPool::Lease::~Lease() {
  if (conn_ == nullptr) {
    return;
  }
  conn_->SetTimeLimit(0);
  std::lock_guard lock(pool_->mu_);
  pool_->idle_.push_back(std::move(conn_));
  pool_->cv_.notify_one();
}

StatusOr<ResourceVersion> ReadCurrent(Connection& conn, const std::string& type,
                                      const std::string& id) {
  ASSIGN_OR_RETURN(Statement s, conn.Prepare("SELECT type, id, version, last_updated, deleted, "
                                             "method, body FROM resource "
                                             "WHERE type = ?1 AND id = ?2"));
  s.Bind(1, type).Bind(2, id);
  ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) {
    return NotFoundError(type + "/" + id + " is not known");
  }
  return VersionFromRow(conn, s);
}

StatusOr<std::vector<std::optional<ResourceVersion>>> ReadCurrentMany(
    Connection& conn, const std::vector<std::pair<std::string, std::string>>& keys) {
  // The keys go in as a VALUES list of kKeysPerStatement rows joined to `resource`, one
  // statement per chunk, all in one read transaction. For a Bundle's 1,000 keys this took half
  // the time of one statement stepped once per key, and a fifth of one Read per key (decisions
  // D106). A chunk is padded with NULL keys, which match nothing without a look-up, so the
  // statement text and its cached plan stay the same whatever the number of keys. CROSS JOIN
  // keeps `k` the outer loop: every key is one look-up on the (type, id) index, never a scan.
  constexpr size_t kKeysPerStatement = 64;
  static const std::string sql = [] {
    std::string s = "WITH k(n, type, id) AS (VALUES ";
    for (size_t i = 0; i < kKeysPerStatement; ++i) {
      s += (i == 0 ? "(" : ", (") + std::to_string(i) + ", ?" + std::to_string(2 * i + 1) + ", ?" +
           std::to_string(2 * i + 2) + ")";
    }
    return s +
           ") SELECT r.type, r.id, r.version, r.last_updated, r.deleted, r.method, r.body, k.n "
           "FROM k CROSS JOIN resource r ON r.type = k.type AND r.id = k.id";
  }();
  return InReadTxn(conn, [&]() -> StatusOr<std::vector<std::optional<ResourceVersion>>> {
    ASSIGN_OR_RETURN(Statement s, conn.Prepare(sql));
    std::vector<std::optional<ResourceVersion>> out(keys.size());
    for (size_t base = 0; base < keys.size(); base += kKeysPerStatement) {
      for (size_t i = 0; i < kKeysPerStatement; ++i) {
        int type_param = static_cast<int>(2 * i + 1);
        if (base + i < keys.size()) {  // `keys` outlives the statement: no copy
          s.BindStaticText(type_param, keys[base + i].first)
              .BindStaticText(type_param + 1, keys[base + i].second);
        } else {
          s.BindNull(type_param).BindNull(type_param + 1);
        }
      }
      while (true) {
        ASSIGN_OR_RETURN(bool row, s.Step());
        if (!row) {
          break;
        }
        ASSIGN_OR_RETURN(ResourceVersion v, VersionFromRow(conn, s));
        out[base + static_cast<size_t>(s.Int(7))] = std::move(v);
      }
      s.Reset();
    }
    return out;
  });
}

StatusOr<ResourceVersion> ReadVersionOf(Connection& conn, const std::string& type,
                                        const std::string& id, int64_t version) {
  ASSIGN_OR_RETURN(
      Statement s,
      conn.Prepare("SELECT type, id, version, last_updated, deleted, method, body FROM resource "
                   "WHERE type = ?1 AND id = ?2 AND version = ?3 "
                   "UNION ALL SELECT r.type, r.id, h.version, h.last_updated, h.deleted, "
                   "h.method, h.body FROM resource r JOIN resource_history h ON h.res = r.pk "
                   "WHERE r.type = ?1 AND r.id = ?2 AND h.version = ?3"));
  s.Bind(1, type).Bind(2, id).Bind(3, version);
  ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) {
    return NotFoundError(type + "/" + id + " has no version " + std::to_string(version));
  }
  return VersionFromRow(conn, s);
}

StatusOr<HistoryPage> ReadHistory(Connection& conn, const HistoryQuery& q) {
  HistoryFilter f = HistoryConditions(q);
  // Each arm is ordered by seq through an index (resource(type, seq) / (seq), history's
  // (type, seq) / primary key), so SQLite merges them instead of sorting all versions.
  std::string page_sql =
      "SELECT r.type, r.id, r.version, r.last_updated, r.deleted, r.method, r.body, r.seq "
      "FROM resource r" +
      f.current +
      " UNION ALL SELECT h.type, r.id, h.version, h.last_updated, h.deleted, h.method, h.body, "
      "h.seq FROM resource_history h JOIN resource r ON r.pk = h.res" +
      f.earlier + " ORDER BY 8 DESC LIMIT ?5 OFFSET ?6";
  std::string count_sql = "SELECT (SELECT COUNT(*) FROM resource r" + f.current +
                          ") + (SELECT COUNT(*) FROM resource_history h JOIN resource r "
                          "ON r.pk = h.res" +
                          f.earlier + ")";
  return InReadTxn(conn, [&]() -> StatusOr<HistoryPage> {
    HistoryPage page;
    ASSIGN_OR_RETURN(Statement count, conn.Prepare(count_sql));
    BindHistory(count, q);
    ASSIGN_OR_RETURN(bool row, count.Step());
    page.total = row ? count.Int(0) : 0;
    if (q.count > 0) {
      ASSIGN_OR_RETURN(Statement s, conn.Prepare(page_sql));
      BindHistory(s, q);
      s.Bind(5, int64_t{q.count}).Bind(6, q.offset);
      ASSIGN_OR_RETURN(page.versions, CollectVersions(conn, s));
    }
    return page;
  });
}

// The resources with keys `pks`, in key order.
StatusOr<std::vector<ResourceVersion>> ReadByKeys(Connection& conn,
                                                  const std::vector<int64_t>& pks) {
  const SqlDialect& d = SqliteDialect();
  ASSIGN_OR_RETURN(Statement s,
                   conn.Prepare("SELECT type, id, version, last_updated, deleted, method, body, "
                                "COALESCE(patient_id, ''), pk FROM resource WHERE pk IN (" +
                                d.IntListSubquery("?1") + ") ORDER BY pk"));
  s.Bind(1, d.IntListArg(pks));
  std::vector<ResourceVersion> out;
  out.reserve(pks.size());
  while (true) {
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) {
      return out;
    }
    ASSIGN_OR_RETURN(ResourceVersion v, VersionFromRow(conn, s));
    out.push_back(std::move(v));
    out.back().patient_id = s.Text(7);  // for the access check (ResourceVersion::patient_id)
    out.back().row_key = s.Int(8);
  }
}

// A page in the default order (no _sort, no _offset) is a listing of its matches' keys, then a
// read of the page's bodies by key. A first page that needs its total lists past the page, up
// to the total's cap, so one evaluation of the driving key set gives the page, the next cursor
// and the total (page and count statements would each evaluate it: every Patient with an
// Observation of a code, for _has); any other page lists count + 1 keys after its cursor. The
// listing reads index rows only where it can (decisions D49), so candidates that fail a probe
// cost no read of their row, whose page holds the JSON body.
StatusOr<SearchResult> PageByKeys(Connection& conn, const SearchQuery& q, int64_t now_us,
                                  bool counted_elsewhere) {
  const bool count_here = q.want_total && !q.after && !counted_elsewhere;
  int64_t cap = q.total_limit > 0 ? q.total_limit : (q.estimate_total ? kEstimateLimit : 0);
  int64_t limit = q.count + 1;
  if (count_here) {
    limit = cap > 0 ? std::max<int64_t>(cap, q.count) + 1 : 0;
  }
  ASSIGN_OR_RETURN(CompiledSql sql, CompileSearch(q, SqliteDialect(), SearchSqlMode::kKeys, now_us,
                                                  static_cast<int>(limit)));
  ASSIGN_OR_RETURN(Statement s, conn.Prepare(sql.sql));
  s.BindAll(sql.args);
  // A walked listing (a chain's by target, D75; the Patients' by id, D88): its second column
  // is the order's value, which the next page's cursor carries.
  const bool ordered_by_value = sql.ordered_by_value;
  std::vector<int64_t> keys;
  std::string last_value;
  while (true) {
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) {
      break;
    }
    keys.push_back(s.Int(0));
    if (ordered_by_value && static_cast<int64_t>(keys.size()) == q.count) {
      last_value = s.Text(1);
    }
  }
  SearchResult result;
  const auto n = static_cast<int64_t>(keys.size());
  if (count_here) {
    result.total = cap > 0 && n > cap ? -1 : n;
  }
  std::vector<int64_t> page(keys.begin(), keys.begin() + std::min<int64_t>(n, q.count));
  if (n > q.count) {
    result.next = PageCursor{page.back(), {}};
    if (ordered_by_value) {
      SqlArg value{std::in_place_type<std::string>, last_value};
      result.next->values.push_back(EncodeSortValue(&value));
    }
  }
  if (page.empty()) {
    return result;
  }
  ASSIGN_OR_RETURN(result.matches, ReadByKeys(conn, page));
  if (result.matches.size() != page.size()) {
    return Status(StatusCode::kInternal, "a search's page changed within its read transaction");
  }
  if (ordered_by_value) {  // ReadByKeys gives key order; the page keeps the listing's
    std::vector<ResourceVersion> in_order(page.size());
    std::vector<int64_t> sorted = page;
    std::sort(sorted.begin(), sorted.end());
    for (size_t i = 0; i < page.size(); ++i) {
      auto at = std::lower_bound(sorted.begin(), sorted.end(), page[i]) - sorted.begin();
      in_order[i] = std::move(result.matches[at]);
    }
    result.matches = std::move(in_order);
  }
  if (!q.include_specs.empty()) {
    RETURN_IF_ERROR(RunIncludes(conn, q, page, &result.included));
  }
  return result;
}

StatusOr<SearchResult> RunSearch(Connection& conn, const SearchQuery& query, int64_t now_us,
                                 const SearchQuery* count_query) {
  return InReadTxn(conn, [&]() -> StatusOr<SearchResult> {
    // A system-less code's systems are read in this snapshot (decisions D83).
    ASSIGN_OR_RETURN(std::optional<SearchQuery> sole, WithSoleTokenSystems(conn, query));
    const SearchQuery& q = sole ? *sole : query;
    SearchResult result;
    const bool by_keys = q.count > 0 && q.sort.empty() && q.offset == 0;
    const bool count_apart = count_query != nullptr && by_keys && q.want_total && !q.after;
    if (by_keys) {
      ASSIGN_OR_RETURN(result, PageByKeys(conn, q, now_us, count_apart));
      if (!q.want_total || (!q.after && !count_apart)) {
        return result;  // counted with the page, or not wanted
      }
    } else if (q.count > 0) {
      ASSIGN_OR_RETURN(CompiledSql sql,
                       CompileSearch(q, SqliteDialect(), SearchSqlMode::kPage, now_us));
      ASSIGN_OR_RETURN(Statement s, conn.Prepare(sql.sql));
      s.BindAll(sql.args);
      ASSIGN_OR_RETURN(std::vector<PageRow> rows, CollectPageRows(conn, s, q.sort.size()));
      if (rows.size() > static_cast<size_t>(q.count)) {
        rows.resize(q.count);
        result.next = PageCursor{rows.back().pk, rows.back().sort_values};
      }
      std::vector<int64_t> pks;
      for (PageRow& r : rows) {
        pks.push_back(r.pk);
        result.matches.push_back(std::move(r.version));
      }
      if (!q.include_specs.empty() && !pks.empty()) {
        RETURN_IF_ERROR(RunIncludes(conn, q, pks, &result.included));
      }
    }
    if (q.want_total || q.count == 0) {
      // A first page holding every match (no next page) is the total itself, read in the same
      // snapshot: no count statement (most searches fit on one page).
      const auto n = static_cast<int64_t>(result.matches.size());
      if (q.count > 0 && !q.after && q.offset == 0 && !result.next) {
        const bool over_cap =
            (q.total_limit > 0 && n > q.total_limit) || (q.estimate_total && n > kEstimateLimit);
        result.total = over_cap ? -1 : n;
        return result;
      }
      ASSIGN_OR_RETURN(CompiledSql sql,
                       CompileSearch(count_apart ? *count_query : q, SqliteDialect(),
                                     SearchSqlMode::kCount, now_us));
      ASSIGN_OR_RETURN(Statement s, conn.Prepare(sql.sql));
      s.BindAll(sql.args);
      ASSIGN_OR_RETURN(bool row, s.Step());
      result.total = row ? s.Int(0) : 0;
      if (q.estimate_total && result.total > kEstimateLimit) {
        result.total = -1;  // more than an estimate looks at: not counted
      }
    }
    return result;
  });
}

CountStatement CountOn(Connection& conn) {
  return [&conn](const std::string& sql, const std::vector<SqlArg>& args) -> StatusOr<int64_t> {
    int64_t n = 0;
    RETURN_IF_ERROR(InReadTxn(conn, [&]() -> Status {
      ASSIGN_OR_RETURN(Statement s, conn.Prepare(sql));
      s.BindAll(args);
      ASSIGN_OR_RETURN(bool row, s.Step());
      n = row ? s.Int(0) : 0;
      return Status::Ok();
    }));
    return n;
  };
}

}  // namespace carechart::store::sqlite

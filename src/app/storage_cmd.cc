// carechart storage: what a SQLite database file holds and what it costs on disk — resources and
// versions, the bodies as stored and as JSON (their compression, D101), the body dictionaries,
// and the search index against the JSON (issue 3's "index size ≤ 1.5 × the stored JSON").
// Read-only: the file may be in use by a running server. Reads every body once (its header only
// for a compressed one), so it takes about as long as reading the file.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>

#include "app/commands.h"
#include "store/sqlite_body_codec.h"
#include "store/sqlite_db.h"

namespace carechart::app {
namespace {

using store::sqlite::BodyCodec;
using store::sqlite::Connection;
using store::sqlite::Statement;

struct BodyTotals {
  int64_t count = 0;
  int64_t compressed = 0;
  int64_t damaged = 0;
  uint64_t stored_bytes = 0;
  uint64_t json_bytes = 0;
};

Status AddBodies(Connection& conn, const char* table, BodyTotals& t) {
  ASSIGN_OR_RETURN(Statement s, conn.Prepare(std::string("SELECT body FROM ") + table));
  while (true) {
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) {
      return Status::Ok();
    }
    std::string_view body = s.TextView(0);
    ++t.count;
    t.stored_bytes += body.size();
    if (BodyCodec::IsCompressed(body)) {
      ++t.compressed;
    }
    if (std::optional<uint64_t> json = BodyCodec::JsonSizeOf(body)) {
      t.json_bytes += *json;
    } else {
      ++t.damaged;
    }
  }
}

StatusOr<int64_t> Scalar(Connection& conn, const std::string& sql) {
  ASSIGN_OR_RETURN(Statement s, conn.Prepare(sql));
  ASSIGN_OR_RETURN(bool row, s.Step());
  return row && !s.IsNull(0) ? s.Int(0) : int64_t{0};
}

// What only serves search: the sp_* tables with their indexes, and the resource table's indexes
// other than its (type, id) key. Needs SQLite's dbstat table (Debian's library has it); nullopt
// without it.
std::optional<int64_t> SearchIndexBytes(Connection& conn) {
  auto bytes = Scalar(conn,
                      "SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'sp\\_%' ESCAPE '\\' OR "
                      "name IN (SELECT name FROM sqlite_master WHERE type = 'index' AND "
                      "tbl_name = 'resource' AND sql IS NOT NULL)");
  return bytes.ok() ? std::optional<int64_t>(*bytes) : std::nullopt;
}

double Mb(uint64_t bytes) { return static_cast<double>(bytes) / 1048576.0; }
double Ratio(uint64_t a, uint64_t b) { return b == 0 ? 0.0 : static_cast<double>(a) / b; }

}  // namespace

CLI::App* AddStorageCommand(CLI::App& app, CommonOptions& common, bool& json_output) {
  CLI::App* cmd = app.add_subcommand(
      "storage",
      "Show what a SQLite database holds on disk: resources, versions, bodies as stored and as "
      "JSON (compression), body dictionaries, search index size");
  cmd->add_option("--db", common.db_path, "SQLite database file")
      ->envname("CARECHART_DB")
      ->capture_default_str();
  cmd->add_flag("--json", json_output, "one JSON object instead of the table (for scripts)");
  return cmd;
}

int RunStorage(const CommonOptions& common, bool json_output) {
  std::error_code ec;
  if (!std::filesystem::exists(common.db_path, ec)) {
    std::fprintf(stderr, "carechart storage: %s does not exist (give the database with --db)\n",
                 common.db_path.c_str());
    return 1;
  }
  auto opened = Connection::Open(common.db_path, /*read_only=*/true);
  if (!opened.ok()) {
    std::fprintf(stderr, "carechart storage: cannot open %s: %s\n", common.db_path.c_str(),
                 opened.status().ToString().c_str());
    return 1;
  }
  Connection& conn = **opened;
  // One snapshot for every figure, so that a server writing meanwhile cannot skew them.
  Status s = conn.Exec("BEGIN");
  BodyTotals current;
  BodyTotals history;
  StatusOr<int64_t> deleted = int64_t{0};
  StatusOr<int64_t> dictionaries = int64_t{0};
  StatusOr<int64_t> file_bytes = int64_t{0};
  if (s.ok()) s = AddBodies(conn, "resource", current);
  if (s.ok()) s = AddBodies(conn, "resource_history", history);
  if (s.ok()) deleted = Scalar(conn, "SELECT count(*) FROM resource WHERE deleted = 1");
  if (s.ok() && deleted.ok()) {
    dictionaries = Scalar(conn,
                          "SELECT count(*) FROM sqlite_master WHERE name = 'body_dictionary' AND "
                          "type = 'table'");
    if (dictionaries.ok() && *dictionaries > 0) {
      dictionaries = Scalar(conn, "SELECT count(*) FROM body_dictionary");
    }
  }
  if (s.ok()) {
    file_bytes =
        Scalar(conn, "SELECT page_count * page_size FROM pragma_page_count, pragma_page_size");
  }
  std::optional<int64_t> index_bytes = s.ok() ? SearchIndexBytes(conn) : std::nullopt;
  (void)conn.Exec("COMMIT");  // a read-only snapshot: nothing to lose if it fails
  for (const Status& st : {s, deleted.status(), dictionaries.status(), file_bytes.status()}) {
    if (!st.ok()) {
      std::fprintf(stderr, "carechart storage: cannot read %s: %s (is it a Carechart database?)\n",
                   common.db_path.c_str(), st.ToString().c_str());
      return 1;
    }
  }
  const uint64_t stored = current.stored_bytes + history.stored_bytes;
  const uint64_t json = current.json_bytes + history.json_bytes;
  const int64_t damaged = current.damaged + history.damaged;
  if (json_output) {
    std::printf(
        "{\"resources\":%lld,\"deleted\":%lld,\"earlierVersions\":%lld,\"bodyBytesStored\":%llu,"
        "\"bodyBytesJson\":%llu,\"bodiesCompressed\":%lld,\"bodiesDamaged\":%lld,"
        "\"dictionaries\":%lld,\"searchIndexBytes\":%s,\"fileBytes\":%lld}\n",
        static_cast<long long>(current.count - *deleted), static_cast<long long>(*deleted),
        static_cast<long long>(history.count), static_cast<unsigned long long>(stored),
        static_cast<unsigned long long>(json),
        static_cast<long long>(current.compressed + history.compressed),
        static_cast<long long>(damaged), static_cast<long long>(*dictionaries),
        index_bytes ? std::to_string(*index_bytes).c_str() : "null",
        static_cast<long long>(*file_bytes));
    return damaged == 0 ? 0 : 1;
  }
  std::printf("carechart storage: %s\n", common.db_path.c_str());
  std::printf("  file              %10.1f MB\n", Mb(*file_bytes));
  std::printf("  resources         %10lld current, %lld deleted, %lld earlier versions\n",
              static_cast<long long>(current.count - *deleted), static_cast<long long>(*deleted),
              static_cast<long long>(history.count));
  std::printf("  bodies as JSON    %10.1f MB\n", Mb(json));
  std::printf(
      "  bodies as stored  %10.1f MB (%.2fx smaller; %lld of %lld compressed, %lld body "
      "dictionaries)\n",
      Mb(stored), Ratio(json, stored),
      static_cast<long long>(current.compressed + history.compressed),
      static_cast<long long>(current.count + history.count), static_cast<long long>(*dictionaries));
  if (index_bytes) {
    std::printf("  search index      %10.1f MB (%.2f x the JSON)\n", Mb(*index_bytes),
                Ratio(*index_bytes, json));
  } else {
    std::printf("  search index      not measured (this SQLite library has no dbstat table)\n");
  }
  if (damaged > 0) {
    std::printf(
        "  damaged bodies    %lld (neither JSON nor a readable zstd frame: restore from a "
        "backup)\n",
        static_cast<long long>(damaged));
    return 1;
  }
  return 0;
}

}  // namespace carechart::app

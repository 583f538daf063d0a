#include "store/store_test_util.h"

#include <cstdlib>
#include <stdexcept>

namespace carechart::store::testing {

std::string TempDbPath(const std::string& name) {
  const char* tmp = std::getenv("TMPDIR");
  std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/cc_store_test_XXXXXX";
  if (mkdtemp(templ.data()) == nullptr) {
    throw std::runtime_error("mkdtemp failed");
  }
  return templ + "/" + name + ".db";
}

std::unique_ptr<ResourceStore> OpenOrDie(const std::string& path, int reader_connections) {
  SqliteOptions options;
  options.path = path;
  options.reader_connections = reader_connections;
  auto store = OpenSqliteStore(options);
  if (!store.ok()) {
    throw std::runtime_error(store.status().ToString());
  }
  return std::move(store).value();
}

std::string BodyFor(const std::string& type, const std::string& id, int64_t lu) {
  return R"({"resourceType":")" + type + R"(","id":")" + id + R"(","meta":{"lu":)" +
         std::to_string(lu) + "}}";
}

PreparedWrite MakeWrite(const std::string& type, const std::string& id, int64_t lu,
                        fhir::IndexEntries index) {
  PreparedWrite w;
  w.type = type;
  w.id = id;
  w.last_updated_us = lu;
  w.method = "PUT";
  w.body = BodyFor(type, id, lu);
  w.index = std::move(index);
  return w;
}

Status PutNext(ResourceStore& store, PreparedWrite w) {
  return store.Write([&](WriteTxn& txn) -> Status {
    ASSIGN_OR_RETURN(CurrentVersion cur, txn.Current(w.type, w.id));
    w.version = cur.version + 1;
    if (w.deleted) {
      w.body.clear();
      w.method = "DELETE";
    }
    return txn.Put(w);
  });
}

}  // namespace carechart::store::testing

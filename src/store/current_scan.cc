// The default ResourceStore::ScanCurrent: keyset pages of a type search, type by type. Backends
// with a cheaper way to stream their rows (SQLite: sqlite_current_scan.cc) override it.
#include "fhir/definitions.h"
#include "store/resource_store.h"

namespace carechart::store {
namespace {

constexpr int kScanPageSize = 1000;

}  // namespace

Status ResourceStore::ScanCurrent(const CurrentScan& scan, const ScanFunction& fn) {
  std::vector<std::string> types = scan.types;
  if (types.empty()) {
    for (std::string_view t : fhir::ResourceTypes()) {
      if (t != "AuditEvent") {
        types.emplace_back(t);
      }
    }
  }
  for (const std::string& type : types) {
    SearchQuery q;
    q.type = type;
    q.count = kScanPageSize;
    q.want_total = false;
    q.since_us = scan.since_us;
    while (true) {
      ASSIGN_OR_RETURN(SearchResult page, Search(q));
      for (const ResourceVersion& v : page.matches) {
        RETURN_IF_ERROR(fn({v.type, v.id, v.last_updated_us, v.body}));
      }
      if (!page.next) {
        break;
      }
      q.after = std::move(page.next);
    }
  }
  return Status::Ok();
}

}  // namespace carechart::store

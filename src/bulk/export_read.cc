#include "bulk/export_read.h"

namespace carechart::bulk {

StatusOr<store::SearchResult> ReadExportPage(store::ResourceStore& store,
                                             const store::SearchQuery& query) {
  return store.Search(query);
}

Status ScanExport(store::ResourceStore& store, const store::CurrentScan& scan,
                  const store::ScanFunction& fn) {
  return store.ScanCurrent(scan, fn);
}

}  // namespace carechart::bulk

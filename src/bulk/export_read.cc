#include "bulk/export_read.h"

namespace carechart::bulk {

StatusOr<store::SearchResult> ReadExportPage(store::ResourceStore& store,
                                             const store::SearchQuery& query) {
  return store.Search(query);
}

}  // namespace carechart::bulk

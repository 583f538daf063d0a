#include "store/search_param_keys.h"

#include "fhir/search_union_params.h"
#include "store/index_keys.h"

namespace carechart::store::internal {

std::string ParamKeyList(std::string_view type, std::string_view param, ArgList& args) {
  const auto parts = fhir::UnionParamParts(type, param);
  if (parts.empty()) {
    return args.Arg(ParamKey(type, param));
  }
  std::string out;
  for (std::string_view part : parts) {
    out += (out.empty() ? "" : ", ") + args.Arg(ParamKey(type, part));
  }
  return out;
}

std::string ParamKeysSql(std::string_view type, std::string_view param, ArgList& args) {
  if (StoredUnderOwnKey(type, param)) {
    return " = " + args.Arg(ParamKey(type, param));
  }
  return " IN (" + ParamKeyList(type, param, args) + ")";
}

bool StoredUnderOwnKey(std::string_view type, std::string_view param) {
  return fhir::UnionParamParts(type, param).empty();
}

}  // namespace carechart::store::internal

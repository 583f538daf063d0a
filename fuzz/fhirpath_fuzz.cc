// libFuzzer target for FHIRPath (custom SearchParameters and invariants take expressions from
// outside): compile, and evaluate what compiles on a small Patient with and without the model.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fhir/json.h"
#include "fhirpath/fhirpath.h"

namespace {
const carechart::json::Value& Sample() {
  static const carechart::json::Value v = *carechart::json::Parse(R"({
    "resourceType":"Patient","id":"p1","active":true,
    "name":[{"family":"Doe","given":["Jane","Q"]},{"use":"old","family":"Roe"}],
    "birthDate":"1980-01-02","gender":"female",
    "telecom":[{"system":"phone","value":"555"}],
    "contained":[{"resourceType":"Observation","id":"o","status":"final",
      "code":{"text":"x"},"valueQuantity":{"value":1.5,"unit":"mg","system":"http://unitsofmeasure.org","code":"mg"}}],
    "extension":[{"url":"http://e","valueDecimal":3.14}]})");
  return v;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace carechart;
  if (size > 4096) {
    return 0;  // expressions are short; long ones only slow the search down
  }
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto expr = fhirpath::Compile(in);
  if (!expr.ok()) {
    return 0;
  }
  fhirpath::EvaluationContext ctx;
  ctx.now_micros = 1700000000000000;
  (void)fhirpath::Evaluate(*expr, Sample(), ctx);
  ctx.use_model = false;
  (void)fhirpath::Evaluate(*expr, Sample(), ctx);
  return 0;
}

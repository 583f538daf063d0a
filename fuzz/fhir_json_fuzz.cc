// libFuzzer target for FHIR JSON: the JSON parser (what every request body goes through), the
// R4 validator on whatever parses, and the writer: what we write must parse back to the same text.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "fhir/json.h"
#include "fhir/validator.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace carechart;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto parsed = json::Parse(in);
  if (!parsed.ok()) {
    return 0;
  }
  (void)fhir::Validate(*parsed);
  std::string written = json::Write(*parsed);
  auto again = json::Parse(written);
  if (!again.ok() || json::Write(*again) != written) std::abort();
  return 0;
}

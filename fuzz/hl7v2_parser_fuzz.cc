// libFuzzer target for the HL7 v2 parser: parse, and for accepted input check the byte-exact
// round trip, field access on every segment and the ACK builder. Built by fuzz/run.sh.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "hl7v2/message.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace carechart::hl7v2;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  Document doc;
  Error err;
  ParseOptions opt;
  opt.max_bytes = 1 << 20;
  if (!Parse(in, &doc, &err, opt)) {
    (void)BuildRejectForUnparsable(in, err);
    return 0;
  }
  if (doc.Serialize() != in) std::abort();  // the round trip must be exact
  for (size_t i = 0; i < doc.messages.size(); ++i) {
    Message m = doc.MessageAt(i);
    for (const auto& s : m.segments) {
      for (size_t f = 1; f < s.fields.size() && f < 40; ++f) {
        for (size_t r = 0; r < m.Reps(s, f) && r < 4; ++r) {
          (void)m.Get(s, f, r, 1, 1);
          (void)m.Get(s, f, r, 2, 2);
        }
      }
    }
    AckOptions ao;
    ao.code = "AE";
    ao.errors.push_back({"PID", 2, 3, 101, "x|y^z"});
    std::string ack = BuildAck(m, ao);
    Document ad;
    if (!Parse(ack, &ad, &err)) std::abort();  // our ACKs always parse
  }
  return 0;
}

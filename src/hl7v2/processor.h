// Reliable processing of HL7 v2 messages: each message — its raw text (a Binary) and every
// resource it yields — is committed in one store transaction before the ACK is built; a
// duplicate (same MSH-10 from the same sender, MSH-3/MSH-4) is acknowledged without being applied
// again; a message that cannot be processed is answered AE/AR with an ERR segment and kept in an
// error queue (Binary resources tagged hl7v2-status|error) from which it can be replayed.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "hl7v2/mapping_config.h"
#include "hl7v2/message.h"
#include "store/resource_store.h"

namespace carechart::hl7v2 {

inline constexpr const char* kStatusTagSystem =
    "https://carechart.dev/fhir/CodeSystem/hl7v2-status";
inline constexpr const char* kMessageTagSystem =
    "https://carechart.dev/fhir/CodeSystem/hl7v2-message";
inline constexpr const char* kHl7ContentType = "x-application/hl7-v2+er7";

struct ProcessorOptions {
  MappingConfig mapping = DefaultMapping();
  bool validate = true;  // validate every resource against R4 before committing
};

struct Outcome {
  std::string ack;   // the acknowledgement(s), unframed (one per message of the input)
  std::string code;  // AA, AE or AR (of the last message)
  bool duplicate = false;
  std::vector<std::string> written;  // "Type/id/_history/N" committed
  std::string error_id;              // the error-queue Binary id when the message was queued
  Error error;                       // when code != AA
};

struct ErrorEntry {
  std::string id;  // Binary id, for `carechart hl7 replay`
  std::string last_updated;
  std::string status;   // "error" or "resolved"
  std::string message;  // "ORU^R01 C123 from LAB|FAC"
  std::string text;     // the reason
};

class Processor {
 public:
  Processor(store::ResourceStore& store, ProcessorOptions options);
  ~Processor();

  // Processes one MLLP payload (a message, or several / a batch: each is processed in order).
  // Thread-safe; calls for one sender must be made one at a time to keep its order.
  Outcome Process(std::string_view raw);
  // Re-applies a queued message (after the mapping was fixed). kNotFound for an unknown id.
  StatusOr<Outcome> Replay(const std::string& error_id);
  // Queued messages, newest first (resolved ones too when `all`).
  StatusOr<std::vector<ErrorEntry>> ListErrors(int limit, bool all = false);

  struct Impl;  // internal (processor.cc)

 private:
  std::unique_ptr<Impl> impl_;
};

// The Binary id of a processed message / of its error-queue entry.
std::string MessageBinaryId(const std::string& sender, const std::string& control_id);
std::string ErrorBinaryId(const std::string& sender, const std::string& control_id);

}  // namespace carechart::hl7v2

// HL7 v2 (2.1 to 2.8) messages: parsing, field access, escapes and serialisation.
//
// The model is lossless: a segment keeps its fields as the raw (escaped) text between field
// separators and the exact bytes that ended it, a document keeps its UTF-8 BOM and any leading
// line breaks, so Serialize(Parse(x)) == x for every input Parse accepts. Values are split into
// repetitions, components and sub-components and unescaped only when read.
//
// This file and message.cc depend on the C++ standard library only (the fuzz target builds them
// alone with clang).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace carechart::hl7v2 {

struct Delimiters {
  char field = '|';
  char component = '^';
  char repetition = '~';
  char escape = '\\';
  char subcomponent = '&';
  char truncation = 0;  // v2.7+: optional fifth encoding character; 0 when absent
};

// Where and why a message is unusable: enough for an ERR segment (HL7 table 0357 codes:
// 100 segment sequence error, 101 required field missing, 102 data type error, 103 table value
// not found, 200 unsupported message type, 201 unsupported event code, 203 unsupported version,
// 204 unknown key identifier, 206 application record locked, 207 application internal error).
struct Error {
  std::string segment;  // segment id ("PID"), or what stood in its place
  int sequence = 0;     // 1-based position of the segment in the message (0: unknown)
  int field = 0;        // 1-based field number (0: the segment as a whole)
  int code = 207;
  std::string text;
  // "PID-3 (segment 3): reason"
  std::string ToString() const;
};

class Segment {
 public:
  std::string id;
  // fields[0] is the segment id; for MSH/FHS/BHS fields[1] is the field separator and fields[2]
  // the encoding characters, as HL7 numbers them. Raw text: escapes are not decoded.
  std::vector<std::string> fields;
  std::string terminator;  // the bytes that ended the segment ("\r", "\n", "\r\n", "\n\n", "")
  char separator = '|';

  // Raw text of field `n` (1-based), empty when absent.
  std::string_view Raw(size_t n) const {
    return n < fields.size() ? std::string_view(fields[n]) : std::string_view();
  }
  bool Has(size_t n) const { return !Raw(n).empty(); }
  // Serialised segment, without its terminator.
  std::string Serialize() const;
  void AppendTo(std::string& out) const;
};

// One message: MSH and the segments after it up to the next MSH/BHS/BTS/FHS/FTS.
class Message {
 public:
  Delimiters delims;
  std::vector<Segment> segments;
  bool bom = false;  // the input started with a UTF-8 BOM (kept for serialisation)

  // The first segment with this id (nth: 0-based among those with that id), or null.
  const Segment* Find(std::string_view id, size_t nth = 0) const;
  const Segment& msh() const { return segments.front(); }

  // Field value helpers: field (1-based), repetition (0-based), component and sub-component
  // (1-based). Unescaped. The explicit null "" is returned as is; see IsNull().
  std::string Get(const Segment& s, size_t field, size_t rep = 0, size_t comp = 1,
                  size_t sub = 1) const;
  // Number of repetitions of a field (0 when empty).
  size_t Reps(const Segment& s, size_t field) const;
  // The raw text of one repetition of a field.
  std::string_view RawRep(const Segment& s, size_t field, size_t rep) const;
  // Components of a raw value (a repetition), raw.
  std::vector<std::string_view> Components(std::string_view raw) const;
  std::string Unescape(std::string_view raw) const;
  std::string Escape(std::string_view text) const;

  // MSH shortcuts.
  std::string MessageType() const { return Get(msh(), 9, 0, 1); }   // "ADT"
  std::string TriggerEvent() const { return Get(msh(), 9, 0, 2); }  // "A01"
  std::string ControlId() const { return Get(msh(), 10); }
  std::string Version() const { return Get(msh(), 12, 0, 1); }

  std::string Serialize() const;  // segments with their own terminators (BOM when bom)
};

// A whole input: one message, several messages, or a batch file (FHS/BHS ... BTS/FTS).
struct Document {
  bool bom = false;
  std::string leading;            // line breaks before the first segment
  std::vector<Segment> segments;  // every segment, envelope ones included, in order
  // Message boundaries: [first, last) indexes into `segments` (MSH first).
  struct Range {
    size_t first = 0, last = 0;
    Delimiters delims;
  };
  std::vector<Range> messages;

  Message MessageAt(size_t i) const;
  std::string Serialize() const;
};

struct ParseOptions {
  size_t max_bytes = 64 * 1024 * 1024;
  size_t max_segments = 100000;
  size_t max_fields = 1000;  // per segment
};

// Parses `bytes` as one or more messages. Returns false and sets `error` (naming the segment and
// field) when the input is not usable HL7 v2: no MSH, a bad segment id, bad encoding
// characters, a missing MSH-9 or MSH-12 (an empty MSH-10 is
// accepted here; the processor needs it), an unsupported version, segments outside a message.
bool Parse(std::string_view bytes, Document* out, Error* error, const ParseOptions& options = {});

// Splits `s` on `sep` (views into `s`).
std::vector<std::string_view> Split(std::string_view s, char sep);

// Unescapes \F\ \S\ \T\ \R\ \E\ \Xhh..\ \.br\ (and drops \H\ \N\ \Cxxyy\ \Mxxyyzz\ \Zxx\);
// an unknown or unterminated escape is kept literally.
std::string Unescape(std::string_view raw, const Delimiters& d);
// Escapes delimiters and the escape character; CR and LF become \.br\ (CRLF one \.br\).
std::string Escape(std::string_view text, const Delimiters& d);

// The current time as an HL7 timestamp (YYYYMMDDHHMMSS+0000, UTC).
std::string NowTimestamp();

struct AckOptions {
  std::string code = "AA";  // AA, AE, AR (or CA/CE/CR)
  std::string text;         // MSA-3 text message, optional
  std::vector<Error> errors;
  std::string control_id;  // MSH-10 of the ACK; empty: derived from the original's
};

// An ACK for `original` (MSH-3/4 and MSH-5/6 swapped, MSH-9 ACK^<event>^ACK, same version and
// delimiters, MSA-1 code, MSA-2 the original control id; ERR segments in the layout of the
// version: ERR-1 before 2.5, ERR-2/3/4/8 from 2.5). Segments end with CR.
std::string BuildAck(const Message& original, const AckOptions& options);

// An ACK for input that could not be parsed at all (no usable MSH): AR with a default header.
std::string BuildRejectForUnparsable(std::string_view raw, const Error& error);

// MLLP framing: <VT> payload <FS><CR>.
inline constexpr char kMllpStart = 0x0b;
inline constexpr char kMllpEnd = 0x1c;
inline constexpr char kMllpCr = 0x0d;
std::string Frame(std::string_view payload);

}  // namespace carechart::hl7v2

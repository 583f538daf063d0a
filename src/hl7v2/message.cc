#include "hl7v2/message.h"

#include <algorithm>
#include <cstdint>
#include <ctime>
#include <string>

namespace carechart::hl7v2 {

namespace {

bool IsHeaderId(std::string_view id) { return id == "MSH" || id == "FHS" || id == "BHS"; }
bool IsEnvelopeId(std::string_view id) {
  return id == "FHS" || id == "BHS" || id == "BTS" || id == "FTS";
}

bool IsAlnum(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool ValidSegmentId(std::string_view id) {
  if (id.size() != 3) {
    return false;
  }
  if (!(id[0] >= 'A' && id[0] <= 'Z')) {
    return false;
  }
  for (char c : id) {
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) {
      return false;
    }
  }
  return true;
}

// A printable rendering of a (possibly binary) segment id for error messages.
std::string Printable(std::string_view s, size_t max = 16) {
  std::string out;
  for (char c : s.substr(0, max)) {
    auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f) {
      out += c;
    } else {
      static const char* hex = "0123456789ABCDEF";
      out += "\\x";
      out += hex[u >> 4];
      out += hex[u & 15];
    }
  }
  if (s.size() > max) {
    out += "...";
  }
  return out;
}

bool ValidVersion(std::string_view v) {
  // 2.1 .. 2.9, optionally with more dotted parts (2.3.1, 2.5.1, 2.8.2).
  if (v.size() < 3 || v[0] != '2' || v[1] != '.' || v[2] < '1' || v[2] > '9') {
    return false;
  }
  size_t i = 3;
  while (i < v.size()) {
    if (v[i] != '.' || i + 1 >= v.size()) {
      return false;
    }
    ++i;
    size_t start = i;
    while (i < v.size() && v[i] >= '0' && v[i] <= '9') {
      ++i;
    }
    if (i == start) {
      return false;
    }
  }
  return true;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  return -1;
}

const char* CodeText(int code) {
  switch (code) {
    case 0:
      return "Message accepted";
    case 100:
      return "Segment sequence error";
    case 101:
      return "Required field missing";
    case 102:
      return "Data type error";
    case 103:
      return "Table value not found";
    case 200:
      return "Unsupported message type";
    case 201:
      return "Unsupported event code";
    case 202:
      return "Unsupported processing id";
    case 203:
      return "Unsupported version id";
    case 204:
      return "Unknown key identifier";
    case 205:
      return "Duplicate key identifier";
    case 206:
      return "Application record locked";
    default:
      return "Application internal error";
  }
}

}  // namespace

std::string Error::ToString() const {
  std::string s = segment.empty() ? std::string("message") : segment;
  if (field > 0) {
    s += "-" + std::to_string(field);
  }
  if (sequence > 0) {
    s += " (segment " + std::to_string(sequence) + ")";
  }
  return s + ": " + text;
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    size_t p = s.find(sep, start);
    if (p == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, p - start));
    start = p + 1;
  }
}

void Segment::AppendTo(std::string& out) const {
  if (fields.empty()) {
    return;
  }
  out += fields[0];
  size_t first = 1;
  if (IsHeaderId(id) && fields.size() >= 3) {
    out += fields[1];
    out += fields[2];
    first = 3;
  }
  for (size_t i = first; i < fields.size(); ++i) {
    out += separator;
    out += fields[i];
  }
}

std::string Segment::Serialize() const {
  std::string s;
  AppendTo(s);
  return s;
}

const Segment* Message::Find(std::string_view id, size_t nth) const {
  for (const auto& s : segments) {
    if (s.id == id && nth-- == 0) {
      return &s;
    }
  }
  return nullptr;
}

std::string_view Message::RawRep(const Segment& s, size_t field, size_t rep) const {
  std::string_view raw = s.Raw(field);
  if (raw.empty()) {
    return raw;
  }
  if (IsHeaderId(s.id) && field <= 2) {
    return rep == 0 ? raw : std::string_view();
  }
  size_t start = 0;
  for (size_t r = 0;; ++r) {
    size_t p = raw.find(delims.repetition, start);
    if (r == rep) {
      return raw.substr(start, p == std::string_view::npos ? raw.npos : p - start);
    }
    if (p == std::string_view::npos) {
      return {};
    }
    start = p + 1;
  }
}

size_t Message::Reps(const Segment& s, size_t field) const {
  std::string_view raw = s.Raw(field);
  if (raw.empty()) {
    return 0;
  }
  if (IsHeaderId(s.id) && field <= 2) {
    return 1;
  }
  return static_cast<size_t>(std::count(raw.begin(), raw.end(), delims.repetition)) + 1;
}

std::vector<std::string_view> Message::Components(std::string_view raw) const {
  return Split(raw, delims.component);
}

std::string Message::Get(const Segment& s, size_t field, size_t rep, size_t comp,
                         size_t sub) const {
  if (IsHeaderId(s.id) && field <= 2) {
    return std::string(s.Raw(field));
  }
  std::string_view v = RawRep(s, field, rep);
  if (v.empty()) {
    return {};
  }
  // Component `comp`, then sub-component `sub`.
  size_t start = 0;
  for (size_t c = 1; c < comp; ++c) {
    size_t p = v.find(delims.component, start);
    if (p == std::string_view::npos) {
      return {};
    }
    start = p + 1;
  }
  size_t end = v.find(delims.component, start);
  v = v.substr(start, end == std::string_view::npos ? v.npos : end - start);
  start = 0;
  for (size_t c = 1; c < sub; ++c) {
    size_t p = v.find(delims.subcomponent, start);
    if (p == std::string_view::npos) {
      return {};
    }
    start = p + 1;
  }
  end = v.find(delims.subcomponent, start);
  v = v.substr(start, end == std::string_view::npos ? v.npos : end - start);
  return hl7v2::Unescape(v, delims);
}

std::string Message::Unescape(std::string_view raw) const { return hl7v2::Unescape(raw, delims); }
std::string Message::Escape(std::string_view text) const { return hl7v2::Escape(text, delims); }

std::string Message::Serialize() const {
  std::string out;
  if (bom) {
    out += "\xEF\xBB\xBF";
  }
  for (const auto& s : segments) {
    s.AppendTo(out);
    out += s.terminator;
  }
  return out;
}

Message Document::MessageAt(size_t i) const {
  Message m;
  const Range& r = messages.at(i);
  m.delims = r.delims;
  m.segments.assign(segments.begin() + static_cast<std::ptrdiff_t>(r.first),
                    segments.begin() + static_cast<std::ptrdiff_t>(r.last));
  m.bom = bom && r.first == 0;
  return m;
}

std::string Document::Serialize() const {
  std::string out;
  if (bom) {
    out += "\xEF\xBB\xBF";
  }
  out += leading;
  for (const auto& s : segments) {
    s.AppendTo(out);
    out += s.terminator;
  }
  return out;
}

std::string Unescape(std::string_view raw, const Delimiters& d) {
  if (raw.find(d.escape) == std::string_view::npos) {
    return std::string(raw);
  }
  std::string out;
  out.reserve(raw.size());
  size_t i = 0;
  while (i < raw.size()) {
    char c = raw[i];
    if (c != d.escape) {
      out += c;
      ++i;
      continue;
    }
    size_t close = raw.find(d.escape, i + 1);
    if (close == std::string_view::npos) {  // unterminated: literal
      out.append(raw.substr(i));
      break;
    }
    std::string_view seq = raw.substr(i + 1, close - i - 1);
    bool known = true;
    if (seq == "F") {
      out += d.field;
    } else if (seq == "S") {
      out += d.component;
    } else if (seq == "T") {
      out += d.subcomponent;
    } else if (seq == "R") {
      out += d.repetition;
    } else if (seq == "E") {
      out += d.escape;
    } else if (seq == "P" && d.truncation) {
      out += d.truncation;
    } else if (seq == ".br" || seq == ".sp") {
      out += '\n';
    } else if (seq == "H" || seq == "N" || seq == ".fi" || seq == ".nf" || seq == ".ce" ||
               seq.starts_with(".in") || seq.starts_with(".ti") || seq.starts_with(".sk")) {
      // formatting: dropped in plain text
    } else if (!seq.empty() && seq[0] == 'X' && seq.size() % 2 == 1 && seq.size() > 1) {
      std::string bytes;
      for (size_t k = 1; k + 1 < seq.size() + 1 && known; k += 2) {
        int hi = HexValue(seq[k]), lo = HexValue(seq[k + 1]);
        if (hi < 0 || lo < 0) {
          known = false;
        } else {
          bytes += static_cast<char>(hi * 16 + lo);
        }
      }
      if (known) {
        out += bytes;
      }
    } else if (!seq.empty() && (seq[0] == 'C' || seq[0] == 'M' || seq[0] == 'Z')) {
      // character set switches and locally defined escapes: dropped
    } else {
      known = false;
    }
    if (!known) {
      out.append(raw.substr(i, close - i + 1));
    }
    i = close + 1;
  }
  return out;
}

std::string Escape(std::string_view text, const Delimiters& d) {
  std::string out;
  out.reserve(text.size() + 8);
  auto esc = [&](const char* code) {
    out += d.escape;
    out += code;
    out += d.escape;
  };
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == d.escape) {
      esc("E");
    } else if (c == d.field) {
      esc("F");
    } else if (c == d.component) {
      esc("S");
    } else if (c == d.subcomponent) {
      esc("T");
    } else if (c == d.repetition) {
      esc("R");
    } else if (d.truncation && c == d.truncation) {
      esc("P");
    } else if (c == '\r' || c == '\n') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
        ++i;
      }
      esc(".br");
    } else {
      out += c;
    }
  }
  return out;
}

bool Parse(std::string_view bytes, Document* out, Error* error, const ParseOptions& options) {
  *out = Document();
  auto fail = [&](std::string seg, int seq, int field, int code, std::string text) {
    error->segment = std::move(seg);
    error->sequence = seq;
    error->field = field;
    error->code = code;
    error->text = std::move(text);
    return false;
  };
  if (bytes.size() > options.max_bytes) {
    return fail("MSH", 1, 0, 207,
                "the input is " + std::to_string(bytes.size()) + " bytes, more than the limit of " +
                    std::to_string(options.max_bytes));
  }
  size_t pos = 0;
  if (bytes.starts_with("\xEF\xBB\xBF")) {
    out->bom = true;
    pos = 3;
  }
  while (pos < bytes.size() && (bytes[pos] == '\r' || bytes[pos] == '\n')) {
    out->leading += bytes[pos++];
  }
  if (pos >= bytes.size()) {
    return fail("MSH", 1, 0, 100, "empty input: there is no MSH segment");
  }

  Delimiters cur;
  bool have_delims = false;
  bool in_message = false;
  size_t msg_first = 0;
  int seq = 0;  // position of the segment within its message (or the file, outside messages)
  auto close_message = [&]() {
    if (in_message) {
      out->messages.push_back({msg_first, out->segments.size(), cur});
      in_message = false;
    }
  };

  while (pos < bytes.size()) {
    size_t end = bytes.find_first_of("\r\n", pos);
    if (end == std::string_view::npos) {
      end = bytes.size();
    }
    std::string_view line = bytes.substr(pos, end - pos);
    size_t tend = end;
    while (tend < bytes.size() && (bytes[tend] == '\r' || bytes[tend] == '\n')) {
      ++tend;
    }
    std::string_view term = bytes.substr(end, tend - end);
    pos = tend;
    ++seq;
    if (out->segments.size() >= options.max_segments) {
      return fail("", seq, 0, 207,
                  "more than " + std::to_string(options.max_segments) + " segments");
    }

    Segment seg;
    seg.terminator = std::string(term);
    std::string_view id3 = line.substr(0, 3);
    bool header = line.size() >= 3 && IsHeaderId(id3) && (line.size() == 3 || !IsAlnum(line[3]));
    if (header) {
      close_message();  // a header starts a new scope
      if (id3 == "MSH") {
        seq = 1;
      }
      if (line.size() < 4) {
        return fail(std::string(id3), seq, 1, 101, "the field separator is missing");
      }
      Delimiters d;
      d.field = line[3];
      if (d.field == ' ' || d.field == '\0') {
        return fail(std::string(id3), seq, 1, 102,
                    "the field separator must be a visible character");
      }
      size_t enc_end = line.find(d.field, 4);
      std::string_view enc =
          line.substr(4, enc_end == std::string_view::npos ? line.npos : enc_end - 4);
      if (enc.size() < 4 || enc.size() > 5) {
        return fail(std::string(id3), seq, 2, 102,
                    "the encoding characters '" + Printable(enc) +
                        "' must be 4 (component, repetition, escape, sub-component) or 5 "
                        "(plus truncation) characters");
      }
      std::string all = std::string(1, d.field) + std::string(enc);
      for (size_t i = 0; i < all.size(); ++i) {
        char c = all[i];
        if (IsAlnum(c) || c == ' ' || c == '\r' || c == '\n' || c == '\0' ||
            all.find(c, i + 1) != std::string::npos) {
          return fail(std::string(id3), seq, 2, 102,
                      "the encoding characters '" + Printable(enc) +
                          "' must be distinct, distinct from the field separator, and not "
                          "letters, digits or spaces");
        }
      }
      d.component = enc[0];
      d.repetition = enc[1];
      d.escape = enc[2];
      d.subcomponent = enc[3];
      d.truncation = enc.size() == 5 ? enc[4] : 0;
      cur = d;
      have_delims = true;
      seg.id = std::string(id3);
      seg.separator = d.field;
      seg.fields.emplace_back(id3);
      seg.fields.emplace_back(1, d.field);
      seg.fields.emplace_back(enc);
      if (enc_end != std::string_view::npos) {
        for (auto f : Split(line.substr(enc_end + 1), d.field)) {
          seg.fields.emplace_back(f);
        }
      }
    } else {
      if (!have_delims) {
        std::string id(line.substr(0, line.find('|')).substr(0, 16));
        return fail(Printable(id), seq, 0, 100,
                    "the input does not start with an MSH (or FHS/BHS) segment");
      }
      seg.separator = cur.field;
      for (auto f : Split(line, cur.field)) {
        seg.fields.emplace_back(f);
      }
      seg.id = seg.fields[0];
    }
    if (!ValidSegmentId(seg.id)) {
      return fail(Printable(seg.id), seq, 0, 100,
                  "segment id '" + Printable(seg.id) +
                      "' is not 3 upper-case letters or digits (a wrapped line or a missing "
                      "segment terminator?)");
    }
    if (seg.fields.size() > options.max_fields) {
      return fail(seg.id, seq, static_cast<int>(options.max_fields), 207,
                  "more than " + std::to_string(options.max_fields) + " fields");
    }
    if (seg.id == "MSH") {
      in_message = true;
      msg_first = out->segments.size();
    } else if (IsEnvelopeId(seg.id)) {
      close_message();
    } else if (!in_message) {
      return fail(seg.id, seq, 0, 100, "segment outside a message: no MSH segment before it");
    }
    out->segments.push_back(std::move(seg));
  }
  close_message();
  if (out->messages.empty()) {
    return fail("MSH", 0, 0, 100, "there is no MSH segment");
  }

  // Header checks of every message.
  for (const auto& r : out->messages) {
    const Segment& msh = out->segments[r.first];
    Message probe;
    probe.delims = r.delims;
    if (msh.fields.size() > 40) {
      return fail("MSH", 1, 41, 102,
                  "MSH has " + std::to_string(msh.fields.size() - 1) +
                      " fields; no HL7 v2 version defines more than 28 (segments joined on one "
                      "line?)");
    }
    if (probe.Get(msh, 9, 0, 1).empty()) {
      return fail("MSH", 1, 9, 101, "MSH-9 (message type) is empty");
    }
    std::string version = probe.Get(msh, 12, 0, 1);
    if (version.empty()) {
      return fail("MSH", 1, 12, 101, "MSH-12 (version id) is empty");
    }
    if (!ValidVersion(version)) {
      return fail(
          "MSH", 1, 12, 203,
          "MSH-12 version '" + Printable(version, 20) + "' is not supported (HL7 v2.1 to v2.8)");
    }
  }
  return true;
}

std::string NowTimestamp() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d%H%M%S+0000", &tm);
  return buf;
}

namespace {

std::string VersionAtLeast25(const std::string& v) {
  // "2.5", "2.5.1", "2.6" ... -> "y"; "2.1" .. "2.4" -> ""
  if (v.size() >= 3 && v[0] == '2' && v[1] == '.' && v[2] >= '5') {
    return "y";
  }
  return "";
}

void AppendErr(std::string& out, const Delimiters& d, const std::string& version, const Error& e) {
  std::string seg = e.segment.empty() ? std::string("MSH") : e.segment;
  seg = Escape(seg, d);
  std::string seqs = e.sequence > 0 ? std::to_string(e.sequence) : "";
  std::string field = e.field > 0 ? std::to_string(e.field) : "";
  std::string text = Escape(e.text, d);
  std::string code = std::to_string(e.code);
  out += "ERR";
  if (!VersionAtLeast25(version).empty()) {
    // ERR-1 empty, ERR-2 location (ERL), ERR-3 code (CWE), ERR-4 severity, ERR-8 user message
    out += d.field;
    out += d.field;
    out += seg + d.component + seqs + d.component + field;
    out += d.field;
    out += code + d.component + Escape(CodeText(e.code), d) + d.component + "HL70357";
    out += d.field;
    out += "E";
    out += d.field;
    out += d.field;
    out += d.field;
    out += d.field;
    out += text;
  } else {
    // ERR-1 (ELD): segment^sequence^field^code&text&HL70357
    out += d.field;
    out += seg + d.component + seqs + d.component + field + d.component + code + d.subcomponent +
           text + d.subcomponent + "HL70357";
  }
  out += '\r';
}

}  // namespace

std::string BuildAck(const Message& original, const AckOptions& options) {
  const Delimiters& d = original.delims;
  const Segment& msh = original.msh();
  std::string version = original.Version();
  std::string out = "MSH";
  out += d.field;
  out += msh.Raw(2);
  auto f = [&](std::string_view v) {
    out += d.field;
    out += v;
  };
  f(msh.Raw(5));
  f(msh.Raw(6));
  f(msh.Raw(3));
  f(msh.Raw(4));
  f(NowTimestamp());
  f("");
  std::string event = original.TriggerEvent();
  f(std::string("ACK") +
    (event.empty() ? "" : d.component + Escape(event, d) + d.component + "ACK"));
  std::string ctrl = options.control_id;
  if (ctrl.empty()) {
    ctrl = "A" + original.ControlId();
    if (ctrl.size() > 20) {
      ctrl = ctrl.substr(0, 20);
    }
  }
  f(Escape(ctrl, d));
  f(msh.Has(11) ? msh.Raw(11) : std::string_view("P"));
  f(msh.Raw(12));
  out += '\r';
  out += "MSA";
  out += d.field;
  out += options.code;
  out += d.field;
  out += msh.Raw(10);
  if (!options.text.empty()) {
    out += d.field;
    out += Escape(options.text.substr(0, 80), d);
  }
  out += '\r';
  for (const auto& e : options.errors) {
    AppendErr(out, d, version, e);
  }
  return out;
}

std::string BuildRejectForUnparsable(std::string_view raw, const Error& error) {
  Delimiters d;
  std::string ctrl;
  if (raw.starts_with("\xEF\xBB\xBF")) {
    raw.remove_prefix(3);
  }
  if (raw.size() > 4 && raw.starts_with("MSH")) {
    std::string_view first = raw.substr(0, raw.find_first_of("\r\n"));
    auto fields = Split(first, raw[3]);
    if (fields.size() > 9) {
      ctrl = std::string(fields[9]).substr(0, 199);
    }
  }
  std::string out = "MSH|^~\\&|CARECHART||||" + NowTimestamp() + "||ACK|AR" +
                    std::to_string(std::time(nullptr)) + "|P|2.5\r";
  out += "MSA|AR|" + Escape(ctrl, d) + "|" + Escape(error.text.substr(0, 80), d) + "\r";
  AppendErr(out, d, "2.5", error);
  return out;
}

std::string Frame(std::string_view payload) {
  std::string out;
  out.reserve(payload.size() + 3);
  out += kMllpStart;
  out += payload;
  out += kMllpEnd;
  out += kMllpCr;
  return out;
}

}  // namespace carechart::hl7v2

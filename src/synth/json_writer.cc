#include "synth/json_writer.h"

#include <charconv>
#include <cmath>

namespace carechart::synth {

namespace {
constexpr std::string_view kUcum = "http://unitsofmeasure.org";
}

JsonWriter& JsonWriter::Quoted(std::string_view value) {
  static constexpr char kHex[] = "0123456789abcdef";
  out_ += '"';
  size_t run = 0;  // start of the pending run of characters that need no escape
  for (size_t i = 0; i < value.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(value[i]);
    if (c >= 0x20 && c != '"' && c != '\\') {
      continue;
    }
    out_.append(value.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        out_ += "\\\"";
        break;
      case '\\':
        out_ += "\\\\";
        break;
      case '\n':
        out_ += "\\n";
        break;
      case '\r':
        out_ += "\\r";
        break;
      case '\t':
        out_ += "\\t";
        break;
      default: {
        char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
        out_.append(esc, 6);
      }
    }
  }
  out_.append(value.data() + run, value.size() - run);
  out_ += '"';
  return *this;
}

JsonWriter& JsonWriter::Int(std::string_view key, int64_t value) {
  Key(key);
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, value);
  out_.append(buf, r.ptr);
  return *this;
}

JsonWriter& JsonWriter::Int(int64_t value) {
  Sep();
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, value);
  out_.append(buf, r.ptr);
  return *this;
}

JsonWriter& JsonWriter::Dec(std::string_view key, double value, int places) {
  static constexpr int64_t kPow[] = {1, 10, 100, 1000, 10000, 100000, 1000000};
  Key(key);
  int64_t scaled = std::llround(value * static_cast<double>(kPow[places]));
  if (scaled < 0) {
    out_ += '-';
    scaled = -scaled;
  }
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, scaled / kPow[places]);
  out_.append(buf, r.ptr);
  if (places > 0) {
    out_ += '.';
    int64_t frac = scaled % kPow[places];
    for (int p = places - 1; p >= 0; --p) {
      out_ += static_cast<char>('0' + frac / kPow[p] % 10);
    }
  }
  return *this;
}

JsonWriter& JsonWriter::Date(std::string_view key, Day day) {
  Key(key);
  char buf[12];
  buf[0] = '"';
  FormatDate(day, buf + 1);
  buf[11] = '"';
  out_.append(buf, 12);
  return *this;
}

JsonWriter& JsonWriter::Date(Day day) {
  Sep();
  char buf[12];
  buf[0] = '"';
  FormatDate(day, buf + 1);
  buf[11] = '"';
  out_.append(buf, 12);
  return *this;
}

JsonWriter& JsonWriter::DateTime(std::string_view key, Instant t) {
  Key(key);
  char buf[22];
  buf[0] = '"';
  FormatInstant(t, buf + 1);
  buf[21] = '"';
  out_.append(buf, 22);
  return *this;
}

JsonWriter& JsonWriter::Coding(std::string_view system, std::string_view code,
                               std::string_view display) {
  Obj().Str("system", system).Str("code", code);
  if (!display.empty()) {
    Str("display", display);
  }
  return End();
}

JsonWriter& JsonWriter::Coding(std::string_view key, std::string_view system, std::string_view code,
                               std::string_view display) {
  Obj(key).Str("system", system).Str("code", code);
  if (!display.empty()) {
    Str("display", display);
  }
  return End();
}

JsonWriter& JsonWriter::Concept(std::string_view key, std::string_view system,
                                std::string_view code, std::string_view display, bool array) {
  if (array) {
    Arr(key);
    ConceptItem(system, code, display);
    return End();
  }
  Obj(key).Arr("coding").Coding(system, code, display).End();
  if (!display.empty()) {
    Str("text", display);
  }
  return End();
}

JsonWriter& JsonWriter::ConceptItem(std::string_view system, std::string_view code,
                                    std::string_view display) {
  Obj().Arr("coding").Coding(system, code, display).End();
  if (!display.empty()) {
    Str("text", display);
  }
  return End();
}

namespace {
void AppendRef(std::string& out, std::string_view type, std::string_view id) {
  out += "\"reference\":\"";
  out += type;
  out += '/';
  out += id;  // ids are generated: [A-Za-z0-9-.] only
  out += '"';
}
}  // namespace

JsonWriter& JsonWriter::Ref(std::string_view key, std::string_view type, std::string_view id,
                            std::string_view display) {
  Obj(key);
  first_[depth_] = false;
  AppendRef(out_, type, id);
  if (!display.empty()) {
    Str("display", display);
  }
  return End();
}

JsonWriter& JsonWriter::RefItem(std::string_view type, std::string_view id,
                                std::string_view display) {
  Obj();
  first_[depth_] = false;
  AppendRef(out_, type, id);
  if (!display.empty()) {
    Str("display", display);
  }
  return End();
}

JsonWriter& JsonWriter::Quantity(std::string_view key, double value, int places,
                                 std::string_view unit, std::string_view ucum) {
  Obj(key).Dec("value", value, places).Str("unit", unit).Str("system", kUcum).Str("code", ucum);
  return End();
}

JsonWriter& JsonWriter::Money(std::string_view key, double value) {
  return Obj(key).Dec("value", value, 2).Str("currency", "USD").End();
}

JsonWriter& JsonWriter::Period(std::string_view key, Instant start, Instant end) {
  Obj(key).DateTime("start", start);
  if (end > start) {
    DateTime("end", end);
  }
  return End();
}

JsonWriter& JsonWriter::DatePeriod(std::string_view key, Day start, Day end) {
  Obj(key).Date("start", start);
  if (end >= start) {
    Date("end", end);
  }
  return End();
}

}  // namespace carechart::synth

// A small, fast JSON text writer for generated resources: appends straight into a reused string
// (no tree, no per-value allocation), escapes strings properly, writes decimals with a fixed
// number of places. Keys are trusted ASCII literals; values are escaped.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "synth/dates.h"

namespace carechart::synth {

class JsonWriter {
 public:
  JsonWriter() { out_.reserve(1 << 14); }

  void Reset() {
    out_.clear();
    depth_ = 0;
    first_[0] = true;
  }
  const std::string& text() const { return out_; }

  // Containers: the keyed forms are for object members, the plain ones for array items.
  JsonWriter& Obj() { return Open('{', '}'); }
  JsonWriter& Obj(std::string_view key) { return Key(key).OpenValue('{', '}'); }
  JsonWriter& Arr(std::string_view key) { return Key(key).OpenValue('[', ']'); }
  JsonWriter& End() {
    out_ += close_[depth_--];
    return *this;
  }

  JsonWriter& Str(std::string_view key, std::string_view value) {
    Key(key);
    return Quoted(value);
  }
  JsonWriter& Str(std::string_view value) {
    Sep();
    return Quoted(value);
  }
  JsonWriter& Int(std::string_view key, int64_t value);
  JsonWriter& Int(int64_t value);
  // `value` rounded to `places` decimals, written with exactly that many (FHIR keeps precision).
  JsonWriter& Dec(std::string_view key, double value, int places);
  JsonWriter& Bool(std::string_view key, bool value) {
    Key(key);
    out_ += value ? "true" : "false";
    return *this;
  }
  JsonWriter& Date(std::string_view key, Day day);
  JsonWriter& Date(Day day);
  JsonWriter& DateTime(std::string_view key, Instant t);

  // --- FHIR data types -------------------------------------------------------------------
  // {"system":..,"code":..,"display":..} as an array item.
  JsonWriter& Coding(std::string_view system, std::string_view code, std::string_view display);
  // "key":{"system":..,"code":..,"display":..} (a Coding-typed element).
  JsonWriter& Coding(std::string_view key, std::string_view system, std::string_view code,
                     std::string_view display);
  // "key":{"coding":[one coding],"text":display}; with `array`, "key":[{...}].
  JsonWriter& Concept(std::string_view key, std::string_view system, std::string_view code,
                      std::string_view display, bool array = false);
  // A CodeableConcept as an array item.
  JsonWriter& ConceptItem(std::string_view system, std::string_view code, std::string_view display);
  // "key":{"reference":"Type/id"} (with display when given).
  JsonWriter& Ref(std::string_view key, std::string_view type, std::string_view id,
                  std::string_view display = {});
  JsonWriter& RefItem(std::string_view type, std::string_view id, std::string_view display = {});
  // "key":{"value":v,"unit":u,"system":"http://unitsofmeasure.org","code":ucum}
  JsonWriter& Quantity(std::string_view key, double value, int places, std::string_view unit,
                       std::string_view ucum);
  JsonWriter& Money(std::string_view key, double value);
  JsonWriter& Period(std::string_view key, Instant start, Instant end);
  JsonWriter& DatePeriod(std::string_view key, Day start, Day end);  // end < 0: open

 private:
  void Sep() {
    if (!first_[depth_]) {
      out_ += ',';
    }
    first_[depth_] = false;
  }
  JsonWriter& Key(std::string_view key) {
    Sep();
    out_ += '"';
    out_ += key;
    out_ += "\":";
    return *this;
  }
  JsonWriter& Open(char open, char close) {
    Sep();
    return OpenValue(open, close);
  }
  JsonWriter& OpenValue(char open, char close) {
    out_ += open;
    ++depth_;
    first_[depth_] = true;
    close_[depth_] = close;
    return *this;
  }
  JsonWriter& Quoted(std::string_view value);

  std::string out_;
  int depth_ = 0;
  bool first_[32] = {true};
  char close_[32] = {0};
};

}  // namespace carechart::synth

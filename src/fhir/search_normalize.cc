// NormalizeForSearch: lower case, accents removed ("Zoë Ñúñez" → "zoe nunez").
//
// ASCII text (the common case) never reaches ICU. Otherwise a per-thread ICU transliterator
// "NFD; [:Nonspacing Mark:] Remove; NFC; Lower" does the folding: transliterators are not
// thread-safe, and building one costs ~1 ms, so each thread builds its own once.
#include <memory>

#include <unicode/translit.h>
#include <unicode/unistr.h>

#include "fhir/search_index.h"

namespace carechart::fhir {
namespace {

icu::Transliterator* ThreadTransliterator() {
  thread_local std::unique_ptr<icu::Transliterator> translit = [] {
    UErrorCode status = U_ZERO_ERROR;
    std::unique_ptr<icu::Transliterator> t(icu::Transliterator::createInstance(
        "NFD; [:Nonspacing Mark:] Remove; NFC; Lower", UTRANS_FORWARD, status));
    return U_SUCCESS(status) ? std::move(t) : nullptr;
  }();
  return translit.get();
}

}  // namespace

std::string NormalizeForSearch(std::string_view text) {
  bool ascii = true;
  for (const char c : text) {
    ascii &= static_cast<unsigned char>(c) < 0x80;
  }
  if (ascii) {
    std::string out(text);
    for (char& c : out) {
      if (c >= 'A' && c <= 'Z') {
        c = static_cast<char>(c + 32);
      }
    }
    return out;
  }
  icu::UnicodeString u = icu::UnicodeString::fromUTF8(
      icu::StringPiece(text.data(), static_cast<int32_t>(text.size())));
  if (icu::Transliterator* t = ThreadTransliterator()) {
    t->transliterate(u);
  } else {
    u.toLower();
  }
  std::string out;
  u.toUTF8String(out);
  return out;
}

}  // namespace carechart::fhir

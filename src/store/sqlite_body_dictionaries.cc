#include "store/sqlite_body_dictionaries.h"

#include "store/sqlite_body_codec.h"

namespace carechart::store::sqlite {

StatusOr<int> LoadBodyDictionaries(Connection& conn, bool newest_for_new_bodies) {
  ASSIGN_OR_RETURN(Statement s, conn.Prepare("SELECT id, bytes FROM body_dictionary ORDER BY "
                                             "seq, created_us"));
  BodyCodec& codec = conn.body_codec();
  int n = 0;
  while (true) {
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) {
      return n;
    }
    ++n;
    const auto id = static_cast<uint32_t>(s.Int(0));
    if (codec.HasDictionary(id) && !newest_for_new_bodies) {
      continue;
    }
    ASSIGN_OR_RETURN(uint32_t loaded, codec.AddDictionary(s.TextView(1), newest_for_new_bodies));
    if (loaded != id) {
      return InternalError("body_dictionary row " + std::to_string(id) +
                           " holds the dictionary of id " + std::to_string(loaded) +
                           " (a damaged row)");
    }
  }
}

Status InsertBodyDictionary(Connection& conn, uint32_t id, std::string_view bytes, int64_t seq,
                            int64_t created_us) {
  ASSIGN_OR_RETURN(Statement s,
                   conn.Prepare("INSERT OR IGNORE INTO body_dictionary(id, created_us, seq, "
                                "bytes) VALUES (?1, ?2, ?3, ?4)"));
  return s.Bind(1, int64_t{id}).Bind(2, created_us).Bind(3, seq).BindBlob(4, bytes).Run();
}

StatusOr<int64_t> NewestBodyDictionarySeq(Connection& conn) {
  ASSIGN_OR_RETURN(Statement s, conn.Prepare("SELECT COALESCE(MAX(seq), 0) FROM body_dictionary"));
  ASSIGN_OR_RETURN(bool row, s.Step());
  return row ? s.Int(0) : 0;
}

Status DecodeStoredBody(Connection& conn, std::string_view stored, std::string* json,
                        std::string_view type, std::string_view id) {
  BodyCodec& codec = conn.body_codec();
  if (BodyCodec::IsCompressed(stored)) {
    const uint32_t id = BodyCodec::DictionaryIdOf(stored);
    if (id != 0 && !codec.HasDictionary(id)) {
      // Read in the caller's snapshot: the dictionary was committed before any body using it.
      RETURN_IF_ERROR(LoadBodyDictionaries(conn, /*newest_for_new_bodies=*/false).status());
    }
  }
  Status s = codec.Decode(stored, json);
  if (!s.ok()) {
    return Status(s.code(), "the stored body of " + std::string(type) + "/" + std::string(id) +
                                " cannot be read: " + s.message());
  }
  return s;
}

}  // namespace carechart::store::sqlite

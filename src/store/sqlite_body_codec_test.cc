// BodyCodec: the stored forms of a SQLite resource body (plain JSON, zstd with a dictionary).
#include "store/sqlite_body_codec.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#define ZDICT_STATIC_LINKING_ONLY
#include <zdict.h>

namespace carechart::store::sqlite {
namespace {

// FHIR-like bodies that repeat keys and codes the way real ones do.
std::string ObservationBody(int i) {
  return R"({"resourceType":"Observation","id":"obs-)" + std::to_string(i) +
         R"(","meta":{"versionId":"1","lastUpdated":"2024-01-)" + std::to_string(10 + i % 20) +
         R"(T10:00:00Z","source":"urn:carechart:facility:riverside"},"status":"final",)"
         R"("category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/)"
         R"(observation-category","code":"vital-signs"}]}],"code":{"coding":[{"system":)"
         R"("http://loinc.org","code":")" +
         std::to_string(8000 + i % 37) +
         R"(-4","display":"Body weight"}]},"subject":)"
         R"({"reference":"Patient/p)" +
         std::to_string(i % 101) + R"("},"valueQuantity":{"value":)" + std::to_string(50 + i % 53) +
         R"(.)" + std::to_string(i % 10) +
         R"(,"unit":"kg","system":"http://unitsofmeasure.org","code":"kg"}})";
}

std::string TrainDictionary(int salt = 0) {
  std::string samples;
  std::vector<size_t> sizes;
  for (int i = 0; i < 2000; ++i) {
    std::string body = ObservationBody(i * 7 + salt);
    samples += body;
    sizes.push_back(body.size());
  }
  std::string dict(16 * 1024, '\0');
  ZDICT_fastCover_params_t params{};
  params.d = 8;
  params.steps = 4;
  params.nbThreads = 1;
  params.zParams.dictID = 40000 + salt;  // fixed, so two dictionaries differ
  size_t n = ZDICT_optimizeTrainFromBuffer_fastCover(dict.data(), dict.size(), samples.data(),
                                                     sizes.data(), sizes.size(), &params);
  EXPECT_FALSE(ZDICT_isError(n)) << ZDICT_getErrorName(n);
  dict.resize(ZDICT_isError(n) ? 0 : n);
  return dict;
}

TEST(BodyCodec, PlainJsonAndEmptyBodiesPassThrough) {
  BodyCodec codec;
  std::string out = "left over";
  ASSERT_TRUE(codec.Decode(R"({"resourceType":"Patient"})", &out).ok());
  EXPECT_EQ(out, R"({"resourceType":"Patient"})");
  ASSERT_TRUE(codec.Decode("", &out).ok());
  EXPECT_EQ(out, "");
  EXPECT_FALSE(BodyCodec::IsCompressed(R"({"a":1})"));
  EXPECT_EQ(BodyCodec::DictionaryIdOf(R"({"a":1})"), 0U);
}

TEST(BodyCodec, WithoutADictionaryNothingIsCompressed) {
  BodyCodec codec;
  std::string stored = "untouched";
  EXPECT_FALSE(codec.Encode(ObservationBody(1), &stored));
  EXPECT_EQ(stored, "untouched");
  EXPECT_EQ(codec.CurrentDictionary(), 0U);
}

TEST(BodyCodec, RoundTripWithADictionaryNamesItInTheFrame) {
  BodyCodec codec;
  auto id = codec.AddDictionary(TrainDictionary(), /*use_for_new_bodies=*/true);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(*id, 40000U);
  EXPECT_EQ(codec.CurrentDictionary(), 40000U);
  size_t plain = 0;
  size_t packed = 0;
  for (int i = 0; i < 300; ++i) {
    const std::string json = ObservationBody(i * 13 + 5);
    std::string stored;
    ASSERT_TRUE(codec.Encode(json, &stored));
    ASSERT_TRUE(BodyCodec::IsCompressed(stored));
    EXPECT_EQ(BodyCodec::DictionaryIdOf(stored), 40000U);
    std::string back;
    ASSERT_TRUE(codec.Decode(stored, &back).ok());
    ASSERT_EQ(back, json);
    plain += json.size();
    packed += stored.size();
  }
  // The dictionary holds what every body repeats: far better than zstd alone on ~500 bytes.
  EXPECT_LT(packed * 4, plain) << packed << " of " << plain;
}

// `carechart storage` reads the JSON size of every body from its frame header, without decoding.
TEST(BodyCodec, JsonSizeOfReadsTheFrameHeader) {
  BodyCodec codec;
  ASSERT_TRUE(codec.AddDictionary(TrainDictionary(), true).ok());
  const std::string json = ObservationBody(11);
  std::string stored;
  ASSERT_TRUE(codec.Encode(json, &stored));
  ASSERT_LT(stored.size(), json.size());
  EXPECT_EQ(BodyCodec::JsonSizeOf(stored), json.size());
  EXPECT_EQ(BodyCodec::JsonSizeOf(json), json.size());
  EXPECT_EQ(BodyCodec::JsonSizeOf(""), 0U);
  EXPECT_EQ(BodyCodec::JsonSizeOf("not a body"), std::nullopt);
  EXPECT_EQ(BodyCodec::JsonSizeOf(stored.substr(0, 4)), std::nullopt);  // magic only
}

TEST(BodyCodec, OlderDictionariesStillDecodeAfterANewOne) {
  BodyCodec codec;
  ASSERT_TRUE(codec.AddDictionary(TrainDictionary(0), true).ok());
  std::string old_frame;
  ASSERT_TRUE(codec.Encode(ObservationBody(3), &old_frame));
  ASSERT_TRUE(codec.AddDictionary(TrainDictionary(1), true).ok());
  std::string new_frame;
  ASSERT_TRUE(codec.Encode(ObservationBody(3), &new_frame));
  EXPECT_EQ(BodyCodec::DictionaryIdOf(old_frame), 40000U);
  EXPECT_EQ(BodyCodec::DictionaryIdOf(new_frame), 40001U);
  std::string a;
  std::string b;
  ASSERT_TRUE(codec.Decode(old_frame, &a).ok());
  ASSERT_TRUE(codec.Decode(new_frame, &b).ok());
  EXPECT_EQ(a, ObservationBody(3));
  EXPECT_EQ(b, ObservationBody(3));
}

TEST(BodyCodec, AnUnknownDictionaryIsAnErrorNamingIt) {
  BodyCodec writer;
  ASSERT_TRUE(writer.AddDictionary(TrainDictionary(), true).ok());
  std::string stored;
  ASSERT_TRUE(writer.Encode(ObservationBody(9), &stored));
  BodyCodec reader;  // knows no dictionary
  std::string out;
  Status s = reader.Decode(stored, &out);
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_NE(s.message().find("dictionary 40000"), std::string::npos) << s.message();
}

TEST(BodyCodec, DamagedFramesAreErrorsNeverCrashes) {
  BodyCodec codec;
  ASSERT_TRUE(codec.AddDictionary(TrainDictionary(), true).ok());
  std::string stored;
  ASSERT_TRUE(codec.Encode(ObservationBody(4), &stored));
  std::string out;
  // Truncated.
  Status s = codec.Decode(stored.substr(0, stored.size() - 3), &out);
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_NE(s.message().find("zstd"), std::string::npos) << s.message();
  // The magic number followed by nonsense.
  s = codec.Decode(std::string("\x28\xB5\x2F\xFD", 4) + std::string(40, '\xFF'), &out);
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  // Neither JSON nor zstd.
  s = codec.Decode("not json", &out);
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_NE(s.message().find("neither JSON nor a zstd frame"), std::string::npos);
  // Every single-byte change decodes or fails cleanly (zstd checks what it reads).
  for (size_t i = 0; i < stored.size(); ++i) {
    std::string bad = stored;
    bad[i] = static_cast<char>(bad[i] ^ 0x5A);
    (void)codec.Decode(bad, &out);
  }
}

TEST(BodyCodec, NotADictionaryIsRefused) {
  BodyCodec codec;
  auto id = codec.AddDictionary("just some bytes", true);
  EXPECT_EQ(id.status().code(), StatusCode::kInvalid);
  EXPECT_EQ(codec.CurrentDictionary(), 0U);
}

TEST(BodyCodec, StopEncodingKeepsDecoding) {
  BodyCodec codec;
  ASSERT_TRUE(codec.AddDictionary(TrainDictionary(), true).ok());
  std::string stored;
  ASSERT_TRUE(codec.Encode(ObservationBody(2), &stored));
  codec.StopEncoding();
  std::string again;
  EXPECT_FALSE(codec.Encode(ObservationBody(2), &again));
  std::string out;
  ASSERT_TRUE(codec.Decode(stored, &out).ok());
  EXPECT_EQ(out, ObservationBody(2));
}

// Each thread compresses with its own context; the dictionaries are shared.
TEST(BodyCodec, ThreadsEncodeAndDecodeAtOnce) {
  BodyCodec codec;
  ASSERT_TRUE(codec.AddDictionary(TrainDictionary(), true).ok());
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        const std::string json = ObservationBody(t * 1000 + i);
        std::string stored;
        std::string back;
        if (!codec.Encode(json, &stored) || !codec.Decode(stored, &back).ok() || back != json) {
          ++failures[t];
        }
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  EXPECT_EQ(failures, std::vector<int>(4, 0));
}

}  // namespace
}  // namespace carechart::store::sqlite

#include "hl7v2/message.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace carechart::hl7v2 {
namespace {

namespace fs = std::filesystem;

std::string DataDir() {
  const char* env = std::getenv("CARECHART_SHARED_DATA");
  return std::string(env && *env ? env : CARECHART_SHARED_DATA) + "/hl7v2";
}

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// MANIFEST.tsv: file -> expect ("parse" or "reject-or-tolerate").
std::map<std::string, std::string> Manifest() {
  std::map<std::string, std::string> m;
  std::ifstream in(DataDir() + "/MANIFEST.tsv");
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    auto tab = line.find('\t');
    if (tab == std::string::npos) {
      continue;
    }
    auto tab2 = line.find('\t', tab + 1);
    m[line.substr(0, tab)] = line.substr(tab + 1, tab2 - tab - 1);
  }
  return m;
}

TEST(Hl7SharedData, EveryFileBehavesAsTheManifestSays) {
  if (!fs::exists(DataDir() + "/MANIFEST.tsv")) {
    GTEST_SKIP() << "no shared data at " << DataDir();
  }
  auto manifest = Manifest();
  ASSERT_EQ(manifest.size(), 40u);
  int parsed = 0, round_trip = 0, rejected = 0, tolerated = 0;
  for (const auto& [file, expect] : manifest) {
    std::string bytes = ReadFile(DataDir() + "/" + file);
    Document doc;
    Error err;
    bool ok = Parse(bytes, &doc, &err);
    if (expect == "parse") {
      EXPECT_TRUE(ok) << file << ": " << err.ToString();
      if (!ok) {
        continue;
      }
      ++parsed;
      EXPECT_FALSE(doc.messages.empty()) << file;
      std::string again = doc.Serialize();
      EXPECT_EQ(again, bytes) << file << ": round trip changed the bytes";
      if (again == bytes) {
        ++round_trip;
      }
      // Every message alone also round-trips into its own bytes.
      std::string joined = std::string(doc.bom ? "\xEF\xBB\xBF" : "") + doc.leading;
      size_t next = 0;
      for (size_t i = 0; i < doc.messages.size(); ++i) {
        for (; next < doc.messages[i].first; ++next) {
          joined += doc.segments[next].Serialize() + doc.segments[next].terminator;
        }
        Message m = doc.MessageAt(i);
        std::string ms = m.Serialize();
        joined += m.bom ? ms.substr(3) : ms;
        next = doc.messages[i].last;
      }
      for (; next < doc.segments.size(); ++next) {
        joined += doc.segments[next].Serialize() + doc.segments[next].terminator;
      }
      EXPECT_EQ(joined, bytes) << file;
    } else {
      if (ok) {
        ++tolerated;
        ADD_FAILURE() << file << " was accepted; every malformed sample should be rejected";
      } else {
        ++rejected;
        EXPECT_FALSE(err.segment.empty()) << file;
        EXPECT_FALSE(err.text.empty()) << file;
        std::cout << "  rejected " << file << ": " << err.ToString() << "\n";
      }
    }
  }
  std::cout << "hl7v2 shared data: " << parsed << "/29 parsed, " << round_trip
            << "/29 byte-exact round trips, " << rejected << "/11 malformed rejected, " << tolerated
            << " tolerated\n";
  EXPECT_EQ(parsed, 29);
  EXPECT_EQ(round_trip, 29);
  EXPECT_EQ(rejected, 11);
}

TEST(Hl7SharedData, SpecificFiles) {
  if (!fs::exists(DataDir() + "/MANIFEST.tsv")) {
    GTEST_SKIP() << "no shared data";
  }
  Document doc;
  Error err;
  ASSERT_TRUE(Parse(ReadFile(DataDir() + "/pyhl7_batch-file-FHS-BHS-2-batches.hl7"), &doc, &err));
  EXPECT_EQ(doc.messages.size(), 3u);
  ASSERT_TRUE(Parse(ReadFile(DataDir() + "/emap_oru-r01-winpath-two-messages.hl7"), &doc, &err));
  ASSERT_EQ(doc.messages.size(), 2u);
  Message m = doc.MessageAt(1);
  const Segment* obx = m.Find("OBX", 1);
  ASSERT_NE(obx, nullptr);
  EXPECT_EQ(m.Get(*obx, 6), "x10^9/L");
  ASSERT_TRUE(Parse(ReadFile(DataDir() + "/rh_edge-custom-delimiters.hl7"), &doc, &err));
  m = doc.MessageAt(0);
  EXPECT_EQ(m.MessageType(), "ADT");
  EXPECT_EQ(m.TriggerEvent(), "A01");
  EXPECT_EQ(m.Get(*m.Find("PID"), 5, 0, 2), "JOHN");
  EXPECT_EQ(m.Get(*m.Find("PID"), 3, 0, 4), "MRN");
  ASSERT_TRUE(Parse(ReadFile(DataDir() + "/rh_edge-escaped-delimiters.hl7"), &doc, &err));
  m = doc.MessageAt(0);
  EXPECT_EQ(m.Get(*m.Find("PID"), 5, 0, 1), "DOE&SMITH");
  EXPECT_EQ(m.Get(*m.Find("OBX"), 5),
            "Result contains pipe | and ampersand & and caret ^ and tilde ~ and backslash \\ "
            "chars");
  ASSERT_TRUE(Parse(ReadFile(DataDir() + "/hapi_bar-p01-subcomponent-brace.hl7"), &doc, &err));
  EXPECT_EQ(doc.MessageAt(0).delims.subcomponent, '}');
  ASSERT_TRUE(Parse(ReadFile(DataDir() + "/rh_edge-field-repetitions.hl7"), &doc, &err));
  m = doc.MessageAt(0);
  EXPECT_EQ(m.Reps(*m.Find("PID"), 13), 12u);
  ASSERT_TRUE(Parse(ReadFile(DataDir() + "/msfc_ADT01-23.hl7"), &doc, &err));
  EXPECT_TRUE(doc.bom);
  EXPECT_EQ(doc.MessageAt(0).Version(), "2.3");
}

TEST(Hl7Parse, Rejections) {
  Document doc;
  Error err;
  EXPECT_FALSE(Parse("", &doc, &err));
  EXPECT_EQ(err.segment, "MSH");
  EXPECT_FALSE(Parse("MSH|^~\\&|a|b|c|d|20200101||ADT^A01|1|P|1.0\r", &doc, &err));
  EXPECT_EQ(err.field, 12);
  EXPECT_EQ(err.code, 203);
  EXPECT_FALSE(Parse("MSH|^~\\&|a|b|c|d|20200101||ADT^A01|1|P|2.5\rPIDX|1\r", &doc, &err));
  EXPECT_EQ(err.segment, "PIDX");
  EXPECT_EQ(err.sequence, 2);
  EXPECT_FALSE(Parse("MSH|^|a\r", &doc, &err));
  EXPECT_EQ(err.field, 2);
  EXPECT_FALSE(Parse("MSH|^~\\\\&|a\r", &doc, &err));
  EXPECT_EQ(err.field, 2);
  // Binary junk never crashes.
  std::string junk(300, '\0');
  for (size_t i = 0; i < junk.size(); ++i) {
    junk[i] = static_cast<char>(i * 37);
  }
  (void)Parse(junk, &doc, &err);
  (void)Parse("MSH|" + junk, &doc, &err);
}

TEST(Hl7Parse, TerminatorsAndRoundTrip) {
  for (std::string t : {"\r", "\n", "\r\n", "\n\n"}) {
    std::string in =
        "MSH|^~\\&|A|B|C|D|20200101||ADT^A01|1|P|2.5" + t + "PID|1||x^^^H" + t + "ZZZ|a~b~~" + t;
    Document doc;
    Error err;
    ASSERT_TRUE(Parse(in, &doc, &err)) << err.ToString();
    EXPECT_EQ(doc.segments.size(), 3u);
    EXPECT_EQ(doc.Serialize(), in);
    Message m = doc.MessageAt(0);
    EXPECT_EQ(m.Reps(m.segments[2], 1), 4u);
  }
  // Mixed terminators and no final terminator.
  std::string in = "MSH|^~\\&|A|B|C|D|20200101||ADT^A01|1|P|2.5\rPID|1\r\nPV1|1|I\nOBX|";
  Document doc;
  Error err;
  ASSERT_TRUE(Parse(in, &doc, &err));
  EXPECT_EQ(doc.Serialize(), in);
}

TEST(Hl7Escape, RoundTripAndSpecials) {
  Delimiters d;
  std::string text = "a|b^c&d~e\\f\ng";
  EXPECT_EQ(Escape(text, d), "a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f\\.br\\g");
  EXPECT_EQ(Unescape(Escape(text, d), d), text);
  EXPECT_EQ(Unescape("\\X414243\\", d), "ABC");
  EXPECT_EQ(Unescape("\\H\\bold\\N\\", d), "bold");
  EXPECT_EQ(Unescape("unterminated \\F", d), "unterminated \\F");
  EXPECT_EQ(Unescape("\\Q\\", d), "\\Q\\");
  EXPECT_EQ(Unescape("\\Xzz\\", d), "\\Xzz\\");
}

TEST(Hl7Ack, Layouts) {
  Document doc;
  Error err;
  ASSERT_TRUE(
      Parse("MSH|^~\\&|LAB|FAC|EHR|HOSP|20200101||ORU^R01^ORU_R01|C1|P|2.5.1\r", &doc, &err));
  Message m = doc.MessageAt(0);
  AckOptions o;
  o.code = "AE";
  o.errors.push_back({"OBX", 3, 5, 102, "value 'x|y' is not a number"});
  std::string ack = BuildAck(m, o);
  Document ad;
  ASSERT_TRUE(Parse(ack, &ad, &err)) << err.ToString() << "\n" << ack;
  Message a = ad.MessageAt(0);
  EXPECT_EQ(a.Get(a.msh(), 3), "EHR");
  EXPECT_EQ(a.Get(a.msh(), 5), "LAB");
  EXPECT_EQ(a.Get(*a.Find("MSA"), 1), "AE");
  EXPECT_EQ(a.Get(*a.Find("MSA"), 2), "C1");
  EXPECT_EQ(a.Get(*a.Find("ERR"), 2, 0, 1), "OBX");
  EXPECT_EQ(a.Get(*a.Find("ERR"), 2, 0, 3), "5");
  EXPECT_EQ(a.Get(*a.Find("ERR"), 8), "value 'x|y' is not a number");
  // v2.3: ERR-1
  ASSERT_TRUE(Parse("MSH|^~\\&|LAB|FAC|EHR|HOSP|20200101||ADT^A01|C2|P|2.3\r", &doc, &err));
  ack = BuildAck(doc.MessageAt(0), o);
  ASSERT_TRUE(Parse(ack, &ad, &err));
  a = ad.MessageAt(0);
  EXPECT_EQ(a.Get(*a.Find("ERR"), 1, 0, 1), "OBX");
  EXPECT_EQ(a.Get(*a.Find("ERR"), 1, 0, 4, 1), "102");
  std::string rej = BuildRejectForUnparsable("MSH|^|x|y|z|w|1||A|CTRL9|P|2.5", err);
  ASSERT_TRUE(Parse(rej, &ad, &err)) << rej;
  EXPECT_EQ(ad.MessageAt(0).Get(*ad.MessageAt(0).Find("MSA"), 2), "CTRL9");
}

}  // namespace
}  // namespace carechart::hl7v2

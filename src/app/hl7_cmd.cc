// carechart hl7 errors | replay ID | send FILE: the HL7 v2 error queue and an MLLP sender.
#include <spdlog/spdlog.h>

#include <fstream>
#include <iostream>
#include <sstream>

#include "app/commands.h"
#include "app/open_store.h"
#include "hl7v2/mllp.h"
#include "hl7v2/processor.h"
#include "store/resource_store.h"

namespace carechart::app {

namespace {

// An ACK made readable on a terminal (segments on their own lines).
std::string Printable(std::string s) {
  for (auto& c : s) {
    if (c == '\r') {
      c = '\n';
    }
  }
  if (!s.empty() && s.back() != '\n') {
    s += '\n';
  }
  return s;
}

int Send(const Hl7Options& o) {
  std::ifstream in(o.arg, std::ios::binary);
  if (!in) {
    std::cerr << "carechart: cannot read " << o.arg << "\n";
    return 2;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  // A file may hold several messages (or a batch): each is sent in its own frame.
  hl7v2::Document doc;
  hl7v2::Error err;
  std::vector<std::string> messages;
  if (hl7v2::Parse(text, &doc, &err)) {
    for (size_t i = 0; i < doc.messages.size(); ++i) {
      messages.push_back(doc.MessageAt(i).Serialize());
    }
  } else {
    messages.push_back(text);  // let the server say what is wrong with it
  }
  if (!o.tls && (!o.ca_file.empty() || !o.cert.empty() || !o.key.empty())) {
    std::cerr << "carechart: --ca-file, --cert and --key need --tls\n";
    return 2;
  }
  hl7v2::MllpTlsOptions tls{o.ca_file, o.cert, o.key};
  auto client = hl7v2::MllpClient::Connect(o.host, static_cast<uint16_t>(o.port), o.timeout,
                                           o.tls ? &tls : nullptr);
  if (!client.ok()) {
    std::cerr << "carechart: " << client.status().message() << "\n";
    return 1;
  }
  int rc = 0;
  for (const auto& m : messages) {
    auto ack = (*client)->Send(m);
    if (!ack.ok()) {
      std::cerr << "carechart: " << ack.status().message() << "\n";
      return 1;
    }
    std::cout << Printable(*ack);
    hl7v2::Document ad;
    if (hl7v2::Parse(*ack, &ad, &err)) {
      hl7v2::Message a = ad.MessageAt(0);
      if (const auto* msa = a.Find("MSA");
          msa && a.Get(*msa, 1) != "AA" && a.Get(*msa, 1) != "CA") {
        rc = 3;
      }
    }
  }
  return rc;
}

}  // namespace

int RunHl7(const CommonOptions& common, const Hl7Options& o) {
  if (o.action == "send") {
    return Send(o);
  }
  auto mapping = hl7v2::LoadMapping(o.config);
  if (!mapping.ok()) {
    std::cerr << "carechart: " << mapping.status().message() << "\n";
    return 2;
  }
  auto store = OpenResourceStore(common, {});  // SQLite, or PostgreSQL with --postgres
  if (!store.ok()) {
    std::cerr << "carechart: cannot open " << DatabaseName(common) << ": "
              << store.status().ToString() << "\n";
    return 1;
  }
  hl7v2::ProcessorOptions po;
  po.mapping = *mapping;
  hl7v2::Processor processor(**store, po);
  int rc = 0;
  if (o.action == "errors") {
    auto list = processor.ListErrors(o.limit, o.all);
    if (!list.ok()) {
      std::cerr << "carechart: " << list.status().ToString() << "\n";
      rc = 1;
    } else {
      if (list->empty()) {
        std::cout << "no queued HL7 messages\n";
      }
      for (const auto& e : *list) {
        std::cout << e.id << "\t" << e.last_updated << "\t" << e.status << "\t" << e.message << "\t"
                  << e.text << "\n";
      }
    }
  } else if (o.action == "replay") {
    auto out = processor.Replay(o.arg);
    if (!out.ok()) {
      std::cerr << "carechart: " << out.status().message() << "\n";
      rc = 1;
    } else {
      std::cout << Printable(out->ack);
      if (out->code != "AA") {
        rc = 3;
      } else {
        std::cout << (out->duplicate ? "already applied; nothing to do\n"
                                     : "applied: " + std::to_string(out->written.size()) +
                                           " versions written\n");
      }
    }
  }
  (*store)->Close();
  return rc;
}

}  // namespace carechart::app

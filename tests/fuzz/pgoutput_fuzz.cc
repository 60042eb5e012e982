// libFuzzer target for the postgres_cdc source's outside bytes: the replication stream
// (CopyData payloads: XLogData and keepalives) and the pgoutput messages inside it, decoded the
// way PostgresCdcSource::Handle does (relations remembered by OID, each row change checked
// against its relation), then each change event mapped by pipelines/postgres-cdc.yaml's mapping.
// Invariants beyond "no crash": every error is a Status with a one-line message; a change event
// is one JSON object (json/jsonb values are JSON strings holding their text, so whatever the
// server sent); a change key starts with "schema.name/"; LSN text round-trips; no exception.
//
// Input: byte 0 bit 0 set = each chunk is a CopyData payload (XLogData 'w' / keepalive 'k'),
// clear = each chunk is a bare pgoutput message. Then chunks: [u16 big-endian length][bytes].
// Seeds: tests/fuzz/corpus/pgoutput. Run:
//   scripts/fuzz.sh 600 pgoutput
// or the binary on a copy of that directory (libFuzzer adds the inputs it finds to it).
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "config/pipeline_file.h"
#include "fuzz_util.h"
#include "process/mapper.h"
#include "source/postgres_cdc/pgoutput.h"

namespace dataforge::pgoutput {
namespace {

constexpr const char* kTarget = "pgoutput_fuzz";

// The mapping of pipelines/postgres-cdc.yaml, plus a column of every other type.
constexpr const char* kCdcPipeline = R"(
process:
  table: app.accounts
  key_column: id
  delete_when: {path: op, equals: delete}
  columns:
    - {name: id, type: bigint, path: data.id, required: true}
    - {name: email, path: data.email}
    - {name: balance, type: double, path: data.balance}
    - {name: changed_at, type: timestamp, path: commit_time}
    - {name: small, type: int, path: [data.small, before.id]}
    - {name: flag, type: boolean, path: data.flag}
    - {name: ref, type: uuid, path: data.ref}
    - {name: amount, type: decimal, path: data.balance}
)";

Mapper& CdcMapper() {
  static Mapper* m = [] {
    auto config = ParsePipelineConfig(kCdcPipeline, "cdc.yaml");
    fuzz::Check(config.ok(), kTarget, "cdc pipeline: " + config.status().ToString());
    auto mapper = Mapper::Create(config->process);
    fuzz::Check(mapper.ok(), kTarget, "cdc mapper: " + mapper.status().ToString());
    return new Mapper(std::move(*mapper));
  }();
  return *m;
}

void CheckLsn(uint64_t lsn) {
  auto back = ParseLsn(FormatLsn(lsn));
  fuzz::Check(back.ok() && *back == lsn, kTarget, "LSN round trip of " + FormatLsn(lsn));
}

struct Stream {
  std::map<uint32_t, Relation> relations;
  Begin txn;

  void Change(const pgoutput::Change& change) {
    auto it = relations.find(change.relation_oid);
    if (it == relations.end()) return;  // the source reports an unknown relation itself
    const Relation& rel = it->second;
    Status match = CheckChangeMatches(rel, change);
    if (!match.ok()) {
      fuzz::CheckError(match, kTarget, "CheckChangeMatches");
      return;
    }
    const std::string event = ChangeEventJson(rel, change, txn);
    fuzz::Check(fuzz::IsJsonObject(event), kTarget, "change event is not a JSON object: " + event);
    auto key = ChangeKey(rel, change);
    if (key.ok()) {
      const std::string prefix = rel.schema + "." + rel.name + "/";
      fuzz::Check(key->compare(0, prefix.size(), prefix) == 0, kTarget, "key prefix: " + *key);
      MapResult r = CdcMapper().Map(*key, event);
      fuzz::Check(r.ok ? r.error.empty() : !r.error.empty(), kTarget, "mapper result");
      fuzz::Check(r.error.find('\n') == std::string::npos, kTarget, "mapper error: " + r.error);
    } else {
      fuzz::CheckError(key.status(), kTarget, "ChangeKey");
    }
  }

  void Message(std::string_view payload) {
    auto m = Decode(payload);
    if (!m.ok()) {
      fuzz::CheckError(m.status(), kTarget, "Decode");
      return;
    }
    if (auto* b = std::get_if<Begin>(&*m)) {
      txn = *b;
      CheckLsn(b->final_lsn);
      (void)FormatTimestampMicros(b->commit_time_us);
    } else if (auto* c = std::get_if<Commit>(&*m)) {
      CheckLsn(c->end_lsn);
      (void)FormatTimestampMicros(c->commit_time_us);
    } else if (auto* r = std::get_if<Relation>(&*m)) {
      relations[r->oid] = *r;
    } else if (auto* ch = std::get_if<pgoutput::Change>(&*m)) {
      Change(*ch);
    }
  }

  void CopyData(std::string_view data) {
    auto frame = ParseCopyData(data);
    if (!frame.ok()) {
      fuzz::CheckError(frame.status(), kTarget, "ParseCopyData");
      return;
    }
    if (auto* x = std::get_if<XLogData>(&*frame)) {
      fuzz::Check(x->payload.data() >= data.data() &&
                      x->payload.data() + x->payload.size() <= data.data() + data.size(),
                  kTarget, "XLogData payload outside the buffer");
      Message(x->payload);
    }
  }
};

void Run(const uint8_t* data, size_t size) {
  if (size == 0) return;
  const bool copy_data = data[0] & 1;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  Stream stream;
  while (in.size() >= 2) {
    const size_t n = std::min<size_t>(
        in.size() - 2, (static_cast<uint8_t>(in[0]) << 8) | static_cast<uint8_t>(in[1]));
    // A copy, so that ASan sees reads past the chunk's end.
    const std::string chunk(in.substr(2, n));
    in.remove_prefix(2 + n);
    if (copy_data) {
      stream.CopyData(chunk);
    } else {
      stream.Message(chunk);
    }
    auto lsn = ParseLsn(chunk);
    if (lsn.ok()) CheckLsn(*lsn);
  }
}

}  // namespace
}  // namespace dataforge::pgoutput

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  DF_FUZZ_NO_EXCEPTIONS(dataforge::pgoutput::kTarget, dataforge::pgoutput::Run(data, size));
  return 0;
}

// For tests: a Store that forwards every call to another one, so a test overrides only the
// calls it watches or changes (an Apply that records, fails or waits).
// Borrows `inner`. Thread-safety: as `inner`'s.
#pragma once

#include "store/store.h"

namespace dataforge::testing {

class ForwardingStore : public Store {
 public:
  explicit ForwardingStore(Store* inner) : inner_(inner) {}

  Status Apply(const StoreBatch& b) override { return inner_->Apply(b); }
  Result<std::optional<int64_t>> CommittedOffset(const std::string& g, const std::string& t,
                                                 int32_t p, const std::string& id) override {
    return inner_->CommittedOffset(g, t, p, id);
  }
  Result<std::string> Get(const std::string& t, const std::string& k) override {
    return inner_->Get(t, k);
  }
  Status Scan(const std::string& t, const std::string& a, size_t l,
              const std::function<bool(const std::string&, const std::string&)>& f) override {
    return inner_->Scan(t, a, l, f);
  }
  Result<uint64_t> Count(const std::string& t) override { return inner_->Count(t); }
  Result<std::vector<std::string>> ListTables() override { return inner_->ListTables(); }
  Result<StoreCounters> Counters() override { return inner_->Counters(); }
  Result<StoreCounters> LogCounters(const std::string& g, const std::string& t,
                                    const std::string& id) override {
    return inner_->LogCounters(g, t, id);
  }
  Result<uint64_t> PartitionLost(const std::string& g, const std::string& t, int32_t p,
                                 const std::string& id) override {
    return inner_->PartitionLost(g, t, p, id);
  }
  Status ListDeadLetters(uint64_t a, size_t l, std::vector<StoredDeadLetter>* o) override {
    return inner_->ListDeadLetters(a, l, o);
  }
  Status ApplyReplay(const DeadLetterReplay& r) override { return inner_->ApplyReplay(r); }
  Status EnsureTable(const TableSchema& s) override { return inner_->EnsureTable(s); }
  Result<TableSchema> DescribeTable(const std::string& t) override {
    return inner_->DescribeTable(t);
  }
  Status CreateKeyspace(const KeyspaceSchema& k) override { return inner_->CreateKeyspace(k); }
  Result<std::vector<KeyspaceSchema>> ListKeyspaces() override { return inner_->ListKeyspaces(); }
  Status Refresh() override { return inner_->Refresh(); }
  Result<std::string> Compact() override { return inner_->Compact(); }

 protected:
  Store* inner_;
};

}  // namespace dataforge::testing

#include "serve/cql/row_writer.h"

#include <map>
#include <utility>

#include "serve/cql/statement_executor.h"

namespace dataforge::cql {

void PendingRequest::RowQueued() {
  std::lock_guard lock(mu_);
  ++remaining_;
}

void PendingRequest::RowDone(const Status& s) {
  std::unique_lock lock(mu_);
  if (!s.ok() && error_.ok()) error_ = s;
  Release(lock);
}

void PendingRequest::Finish(Response r) {
  std::unique_lock lock(mu_);
  response_ = std::move(r);
  Release(lock);
}

void PendingRequest::Release(std::unique_lock<std::mutex>& lock) {
  if (--remaining_ > 0) return;
  Response r = error_.ok() ? std::move(response_) : Response(ErrorFromStatus(error_));
  lock.unlock();
  ResponseCallback done = std::move(done_);
  done(std::move(r));
}

std::string RowWriter::OverlayKey(const std::string& table, const std::string& key) {
  std::string k;
  k.reserve(table.size() + 1 + key.size());
  k += table;
  k.push_back('\0');
  k += key;
  return k;
}

RowWriter::Stripe& RowWriter::StripeOf(const std::string& table, const std::string& key) {
  size_t h = std::hash<std::string>{}(table)*31 + std::hash<std::string>{}(key);
  return stripes_[h % kKeyStripes];
}

std::mutex& RowWriter::KeyLock(const std::string& table, const std::string& key) {
  return StripeOf(table, key).mu;
}

Result<std::string> RowWriter::Read(const std::string& table, const std::string& key) {
  Stripe& s = StripeOf(table, key);
  if (!s.pending.empty()) {
    auto it = s.pending.find(OverlayKey(table, key));
    if (it != s.pending.end()) {
      if (it->second.deleted) {
        return Status::NotFound("no row with key '" + key + "' in table " + table);
      }
      return it->second.row;
    }
  }
  return store_->Get(table, key);
}

void RowWriter::Queue(const std::string& table, const std::string& key, std::string row,
                      bool deleted, const std::shared_ptr<PendingRequest>& request,
                      size_t blind_columns) {
  Stripe& s = StripeOf(table, key);
  request->RowQueued();
  Item item;
  item.table = table;
  item.blind_columns = deleted || !column_count_ ? 0 : blind_columns;
  item.row.key = key;
  item.row.deleted = deleted;
  item.row.complete = !deleted;  // read-modify-written under the key's lock: the whole row
  item.request = request;
  Pending& p = s.pending[OverlayKey(table, key)];
  p.deleted = deleted;
  p.row = row;
  item.row.row_json = std::move(row);
  std::lock_guard lock(mu_);
  item.seq = p.seq = next_seq_++;
  queue_.push_back(std::move(item));
}

std::vector<Status> RowWriter::Apply(std::vector<Item>& group) {
  // One StoreBatch per table (almost always one), rows in queue order.
  std::map<std::string, std::vector<size_t>> by_table;
  for (size_t i = 0; i < group.size(); ++i) by_table[group[i].table].push_back(i);
  std::vector<Status> out(group.size());
  for (auto& [table, items] : by_table) {
    // Rows queued blind: described with as many columns as the table has now, or merged.
    size_t columns = 0;
    bool described = false;
    for (size_t i : items) {
      Item& item = group[i];
      if (item.blind_columns == 0) continue;
      if (!described) {
        columns = column_count_(table);
        described = true;
      }
      if (item.blind_columns != columns) item.row.complete = false;
    }
    StoreBatch batch;
    batch.table = table;
    batch.counted = false;
    batch.rows.reserve(items.size());
    for (size_t i : items) batch.rows.push_back(std::move(group[i].row));
    Status st = store_->Apply(batch);
    for (size_t j = 0; j < items.size(); ++j) {
      out[items[j]] = st;
      group[items[j]].row.key = std::move(batch.rows[j].key);  // for the overlay cleanup
    }
  }
  return out;
}

void RowWriter::Commit(const std::function<void()>& after_group) {
  while (true) {
    std::vector<Item> group;
    {
      std::lock_guard lock(mu_);
      if (committing_ || queue_.empty()) return;
      committing_ = true;
      group.swap(queue_);
    }
    std::vector<Status> status = Apply(group);
    // Applied (or failed): later writers read the store again, unless they queued a newer row.
    for (const Item& item : group) {
      Stripe& s = StripeOf(item.table, item.row.key);
      std::lock_guard lock(s.mu);
      auto it = s.pending.find(OverlayKey(item.table, item.row.key));
      if (it != s.pending.end() && it->second.seq == item.seq) s.pending.erase(it);
    }
    {
      std::lock_guard lock(mu_);
      committing_ = false;  // the next group may be applied while we answer this one
    }
    for (size_t i = 0; i < group.size(); ++i) group[i].request->RowDone(status[i]);
    group.clear();
    if (after_group) after_group();
  }
}

}  // namespace dataforge::cql

#include "serve/cql/cql_engine.h"

#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "serve/cql/cql_parser.h"
#include "serve/cql/md5.h"
#include "serve/cql/statement_access.h"
#include "serve/cql/statement_executor.h"

namespace dataforge::cql {
namespace {

struct PreparedEntry {
  std::string query;
  ParsedStatement parsed;  // table references carry their keyspace
  PreparedResult result;
};

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

ErrorMessage SyntaxError(const Status& s) {
  return CqlError(ErrorCode::kSyntaxError, s.message());
}

ErrorMessage Unprepared(const std::string& id) {
  ErrorMessage e = CqlError(
      ErrorCode::kUnprepared,
      "Prepared query with ID " + Hex(id) +
          " not found (either the query was not prepared on this host (maybe the host has been "
          "restarted?) or you have prepared too many queries and it has been evicted from the "
          "internal cache)");
  e.unprepared_id = id;
  return e;
}

bool IsWrite(const Statement& s) {
  return std::holds_alternative<InsertStatement>(s) || std::holds_alternative<UpdateStatement>(s) ||
         std::holds_alternative<DeleteStatement>(s);
}

bool IsConditional(const Statement& s) {
  if (const auto* i = std::get_if<InsertStatement>(&s)) return i->if_not_exists;
  if (const auto* u = std::get_if<UpdateStatement>(&s)) return u->if_exists;
  if (const auto* d = std::get_if<DeleteStatement>(&s)) return d->if_exists;
  return false;
}

// The engine never lets an exception out (allocation failure is the only one expected).
template <typename F>
Response Guarded(F&& f) {
  try {
    return f();
  } catch (const std::exception& e) {
    return CqlError(ErrorCode::kServerError, std::string("internal error: ") + e.what());
  }
}

// Runs `f(request)` for a new PendingRequest answering `done`, then hands it f's response.
template <typename F>
void Answer(ResponseCallback done, F&& f) {
  auto request = std::make_shared<PendingRequest>(std::move(done));
  request->Finish(Guarded([&] { return f(request); }));
}

}  // namespace

struct CqlEngine::Impl {
  Impl(Store* s, EngineOptions o) : options(std::move(o)), executor(s, options) {}

  std::shared_ptr<const PreparedEntry> Find(const std::string& id) {
    std::lock_guard lock(mu);
    auto it = prepared.find(id);
    return it == prepared.end() ? nullptr : it->second;
  }

  void Remember(const std::string& id, std::shared_ptr<const PreparedEntry> entry) {
    std::lock_guard lock(mu);
    if (prepared.insert_or_assign(id, std::move(entry)).second) order.push_back(id);
    while (prepared.size() > options.max_prepared && !order.empty()) {
      prepared.erase(order.front());
      order.pop_front();
    }
  }

  PageOptions Paging(const QueryParameters& p, bool skip_metadata) const {
    PageOptions page;
    page.page_size = p.page_size.value_or(options.default_page_size);
    page.paging_state = p.paging_state;
    page.skip_metadata = skip_metadata;
    return page;
  }

  // Runs `start(done)` and commits until `done` ran; its response.
  template <typename F>
  Response Wait(CqlEngine* engine, F&& start) {
    struct Outcome {
      std::mutex mu;
      std::condition_variable cv;
      std::optional<Response> response;
    };
    auto outcome = std::make_shared<Outcome>();
    start([outcome](Response r) {
      std::lock_guard lock(outcome->mu);
      outcome->response = std::move(r);
      outcome->cv.notify_all();
    });
    engine->CommitWrites();
    std::unique_lock lock(outcome->mu);
    outcome->cv.wait(lock, [&] { return outcome->response.has_value(); });
    return std::move(*outcome->response);
  }

  // For a session with a user: wraps `*done` so that the request's outcome is audited under
  // the action the returned string holds by then ("" = not a write: nothing recorded). Null
  // (and `*done` untouched) when nothing is checked.
  std::shared_ptr<std::string> AuditedCallback(const SessionState& session,
                                               ResponseCallback* done) {
    if (session.user == nullptr || options.access_control == nullptr) return nullptr;
    auto action = std::make_shared<std::string>();
    *done = [access = options.access_control, who = session.user, action,
             inner = std::move(*done)](Response r) {
      if (!action->empty()) {
        const auto* e = std::get_if<ErrorMessage>(&r);
        access->Audit(*who, *action, e == nullptr ? "ok" : ErrorCodeName(e->code));
      }
      inner(std::move(r));
    };
    return action;
  }

  // The Unauthorized ERROR for the first permission `statements` need that the session's user
  // lacks; fills `*action` (when not null) with the audit name of a write. A session without a
  // user (opened while authentication was off) is refused everything once it is on.
  std::optional<ErrorMessage> Authorize(const SessionState& session,
                                        const std::vector<const Statement*>& statements,
                                        bool batch_message, std::string* action) {
    if (options.access_control == nullptr) return std::nullopt;
    if (session.user == nullptr) {
      if (!options.access_control->Required()) return std::nullopt;
      return CqlError(ErrorCode::kUnauthorized,
                      "authentication was turned on after this connection was opened (a user "
                      "was added, or auth.required): reconnect with a username and password");
    }
    std::vector<AccessNeed> needs;
    for (const Statement* s : statements) AddNeededAccess(*s, session.keyspace, &needs);
    if (action != nullptr) {
      *action = batch_message ? BatchAuditAction(statements, session.keyspace)
                              : AuditAction(*statements.front(), session.keyspace);
    }
    return CheckAccess(*options.access_control, session.user->user, needs);
  }

  EngineOptions options;
  StatementExecutor executor;
  std::mutex mu;
  std::unordered_map<std::string, std::shared_ptr<const PreparedEntry>> prepared;  // by mu
  std::deque<std::string> order;  // guarded by mu: ids in the order first prepared
};

CqlEngine::CqlEngine(Store* store, EngineOptions options)
    : impl_(std::make_unique<Impl>(store, std::move(options))) {}

CqlEngine::~CqlEngine() = default;

Response CqlEngine::Query(SessionState* session, const QueryMessage& m) {
  return impl_->Wait(this, [&](ResponseCallback done) { QueryAsync(session, m, std::move(done)); });
}

Response CqlEngine::Execute(SessionState* session, const ExecuteMessage& m) {
  return impl_->Wait(this,
                     [&](ResponseCallback done) { ExecuteAsync(session, m, std::move(done)); });
}

Response CqlEngine::Batch(SessionState* session, const BatchMessage& m) {
  return impl_->Wait(this, [&](ResponseCallback done) { BatchAsync(session, m, std::move(done)); });
}

void CqlEngine::CommitWrites(const std::function<void()>& after_group) {
  impl_->executor.writer().Commit(after_group);
}

void CqlEngine::QueryAsync(SessionState* session, const QueryMessage& m, ResponseCallback done) {
  auto action = impl_->AuditedCallback(*session, &done);
  Answer(std::move(done), [&](const auto& request) -> Response {
    auto parsed = ParseStatement(m.query);
    if (!parsed.ok()) return SyntaxError(parsed.status());
    if (auto denied = impl_->Authorize(*session, {&parsed->statement}, false, action.get())) {
      return *denied;
    }
    BoundValues values{&m.params.values, &m.params.value_names};
    return impl_->executor.Execute(session, parsed->statement, parsed->marker_count, values,
                                   impl_->Paging(m.params, false), request);
  });
}

Response CqlEngine::Prepare(SessionState* session, const PrepareMessage& m) {
  return Guarded([&]() -> Response {
    auto parsed = ParseStatement(m.query);
    if (!parsed.ok()) return SyntaxError(parsed.status());
    auto entry = std::make_shared<PreparedEntry>();
    entry->query = m.query;
    entry->parsed = std::move(parsed).value();
    std::string key = m.query;
    key.push_back('\0');
    key += session->keyspace;
    std::string id = Md5(key);
    auto error = impl_->executor.Describe(session, &entry->parsed.statement,
                                          entry->parsed.marker_count, &entry->result);
    if (error) return *error;
    entry->result.id = id;
    ResultMessage r;
    r.kind = ResultKind::kPrepared;
    r.prepared = entry->result;
    impl_->Remember(id, std::move(entry));
    return r;
  });
}

void CqlEngine::ExecuteAsync(SessionState* session, const ExecuteMessage& m,
                             ResponseCallback done) {
  auto action = impl_->AuditedCallback(*session, &done);
  Answer(std::move(done), [&](const auto& request) -> Response {
    auto entry = impl_->Find(m.id);
    if (!entry) return Unprepared(m.id);
    if (auto denied = impl_->Authorize(*session, {&entry->parsed.statement}, false, action.get())) {
      return *denied;
    }
    BoundValues values{&m.params.values, &m.params.value_names};
    return impl_->executor.Execute(session, entry->parsed.statement, entry->parsed.marker_count,
                                   values, impl_->Paging(m.params, m.params.skip_metadata),
                                   request);
  });
}

void CqlEngine::BatchAsync(SessionState* session, const BatchMessage& m, ResponseCallback done) {
  auto action = impl_->AuditedCallback(*session, &done);
  Answer(std::move(done), [&](const auto& request) -> Response {
    if (m.type == BatchType::kCounter) {
      return CqlError(ErrorCode::kInvalid,
                      "COUNTER batches are not supported by the embedded "
                      "store (it has no counter columns)");
    }
    // Check every statement before applying any.
    std::vector<std::shared_ptr<const PreparedEntry>> entries;
    std::vector<ParsedStatement> texts(m.statements.size());
    for (size_t i = 0; i < m.statements.size(); ++i) {
      const BatchStatement& b = m.statements[i];
      if (!b.value_names.empty()) {
        return CqlError(ErrorCode::kInvalid,
                        "named values are not supported in a BATCH "
                        "(statement " +
                            std::to_string(i) + ")");
      }
      const Statement* s = nullptr;
      if (b.prepared) {
        auto entry = impl_->Find(b.query_or_id);
        if (!entry) return Unprepared(b.query_or_id);
        s = &entry->parsed.statement;
        entries.push_back(std::move(entry));
      } else {
        auto parsed = ParseStatement(b.query_or_id);
        if (!parsed.ok()) return SyntaxError(parsed.status());
        texts[i] = std::move(parsed).value();
        s = &texts[i].statement;
        entries.push_back(nullptr);
      }
      if (const auto* u = std::get_if<UnsupportedStatement>(s)) return UnsupportedError(*u);
      if (!IsWrite(*s)) {
        return CqlError(ErrorCode::kInvalid,
                        "Invalid statement in batch: only UPDATE, INSERT "
                        "and DELETE statements are allowed.");
      }
      if (IsConditional(*s)) {
        return CqlError(ErrorCode::kInvalid,
                        "conditional statements (IF ...) in a BATCH are "
                        "not supported by the embedded store");
      }
    }
    // Every statement's values are checked before any is applied; then they apply in order
    // (docs/cql.md).
    std::vector<StatementExecutor::BatchEntry> batch;
    std::vector<const Statement*> statements;
    for (size_t i = 0; i < m.statements.size(); ++i) {
      const ParsedStatement& p = entries[i] ? entries[i]->parsed : texts[i];
      batch.push_back({&p.statement, p.marker_count, {&m.statements[i].values, nullptr}});
      statements.push_back(&p.statement);
    }
    if (auto denied = impl_->Authorize(*session, statements, true, action.get())) return *denied;
    return impl_->executor.ExecuteBatch(session, batch, request);
  });
}

Result<std::string> CqlEngine::SchemaVersion() {
  return impl_->executor.CurrentSchemaVersion();
}

}  // namespace dataforge::cql

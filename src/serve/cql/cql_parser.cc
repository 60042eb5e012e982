#include "serve/cql/cql_parser.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "common/json_writer.h"
#include "serve/cql/cql_lexer.h"

namespace dataforge::cql {
namespace {

// A keyword as error messages name it: "ALTER", "DROP".
std::string Upper(std::string_view word) {
  std::string out(word);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// Keywords that cannot name a table or column without quotes (a subset of Cassandra's).
constexpr std::array<std::string_view, 24> kReserved = {
    "select", "from",   "where", "and",   "insert", "into",  "values", "update",
    "set",    "delete", "limit", "using", "batch",  "apply", "begin",  "create",
    "use",    "with",   "in",    "allow", "order",  "by",    "table",  "keyspace"};

bool IsReserved(std::string_view word) {
  return std::find(kReserved.begin(), kReserved.end(), word) != kReserved.end();
}

class Parser {
 public:
  Parser(std::string_view text, std::vector<Token> tokens)
      : text_(text), tokens_(std::move(tokens)) {}

  Result<ParsedStatement> Run() {
    ParsedStatement out;
    auto statement = ParseAny();
    if (unsupported_) {
      out.statement = std::move(*unsupported_);
      return out;
    }
    DF_ASSIGN_OR_RETURN(out.statement, std::move(statement));
    if (Peek().IsPunct(";")) Take();
    if (Peek().kind != TokenKind::kEnd) return Error(Peek(), "end of statement");
    out.marker_count = markers_;
    return out;
  }

 private:
  const Token& Peek(size_t ahead = 0) const {
    return tokens_[std::min(pos_ + ahead, tokens_.size() - 1)];
  }
  const Token& Take() {
    const Token& t = Peek();
    if (pos_ < tokens_.size() - 1) ++pos_;
    return t;
  }
  bool Accept(std::string_view keyword) {
    if (!Peek().Is(keyword)) return false;
    Take();
    return true;
  }
  bool AcceptPunct(std::string_view p) {
    if (!Peek().IsPunct(p)) return false;
    Take();
    return true;
  }

  // "line 1:9 no viable alternative at input 'FORM' (expected FROM)".
  static Status Error(const Token& t, std::string_view expected) {
    std::string input = t.kind == TokenKind::kEnd ? "<EOF>" : std::string(t.text);
    std::string m = "line " + std::to_string(t.line) + ":" + std::to_string(t.column) +
                    " no viable alternative at input '" + input + "'";
    if (!expected.empty()) m += " (expected " + std::string(expected) + ")";
    return Status::InvalidArgument(std::move(m));
  }
  Status Expect(std::string_view keyword) {
    if (Accept(keyword)) return Status::OK();
    return Error(Peek(), Upper(keyword));
  }
  Status ExpectPunct(std::string_view p) {
    if (AcceptPunct(p)) return Status::OK();
    return Error(Peek(), "'" + std::string(p) + "'");
  }

  Result<std::string> Identifier(std::string_view what) {
    const Token& t = Peek();
    if (t.kind == TokenKind::kQuotedIdentifier ||
        (t.kind == TokenKind::kIdentifier && !IsReserved(t.value))) {
      return Take().value;
    }
    return Error(t, what);
  }

  Result<TableRef> Table() {
    TableRef ref;
    DF_ASSIGN_OR_RETURN(ref.name, Identifier("a table name"));
    if (AcceptPunct(".")) {
      ref.keyspace = std::move(ref.name);
      DF_ASSIGN_OR_RETURN(ref.name, Identifier("a table name"));
    }
    return ref;
  }

  Result<Statement> ParseAny() {
    const Token& t = Peek();
    if (t.Is("select")) return Select();
    if (t.Is("insert")) return Wrap(Insert());
    if (t.Is("update")) return Wrap(Update());
    if (t.Is("delete")) return Wrap(Delete());
    if (t.Is("begin")) return Batch();
    if (t.Is("create")) return Create();
    if (t.Is("use")) {
      Take();
      UseStatement use;
      DF_ASSIGN_OR_RETURN(use.keyspace, Identifier("a keyspace name"));
      return Statement(std::move(use));
    }
    if (t.Is("alter") && (Peek(1).Is("table") || Peek(1).Is("columnfamily"))) {
      return AlterTable();
    }
    for (std::string_view verb : {"drop", "alter"}) {
      if (t.Is(verb)) return Unsupported(2);
    }
    for (std::string_view verb : {"truncate", "grant", "revoke", "list", "describe", "desc"}) {
      if (t.Is(verb)) return Unsupported(1);
    }
    return Error(t, "a statement");
  }

  template <typename T>
  static Result<Statement> Wrap(Result<T> r) {
    if (!r.ok()) return r.status();
    return Statement(std::move(r).value());
  }

  // A form of a supported statement that the endpoint does not serve (`what`: "UPDATE ... SET
  // c = c + ...", `hint`: what to do instead): Run() returns it as an UnsupportedStatement. The
  // error returned here only unwinds the parse.
  Status NotSupported(std::string what, std::string hint) {
    if (!unsupported_) unsupported_ = UnsupportedStatement{std::move(what), std::move(hint)};
    return Status::InvalidArgument(unsupported_->what);
  }

  // After `column =` in an UPDATE: `c = c + x`, `c = c - x` (counter and collection
  // arithmetic) and `c = x + c` (prepending) are not served.
  Status RefuseArithmetic(const std::string& column) {
    const Token& t = Peek();
    bool self = t.kind == TokenKind::kIdentifier && t.value == column;
    bool op = Peek(1).IsPunct("+") || Peek(1).IsPunct("-") ||
              (Peek(1).kind == TokenKind::kInteger && Peek(1).value.starts_with('-'));
    if (self && op) {
      return NotSupported(
          "UPDATE ... SET " + column + " = " + column + " +/- ...",
          "counter and collection arithmetic; set the whole value (SET " + column + " = ?)");
    }
    return Status::OK();
  }

  // The statement's first `words` keywords name what is refused ("DROP TABLE").
  Result<Statement> Unsupported(int words) {
    UnsupportedStatement u;
    for (int i = 0; i < words && Peek().kind == TokenKind::kIdentifier; ++i) {
      if (!u.what.empty()) u.what += ' ';
      std::string w = Upper(Take().value);
      u.what += w;
      if (w == "MATERIALIZED" || w == "CUSTOM") ++words;
    }
    while (Peek().kind != TokenKind::kEnd) Take();
    return Statement(std::move(u));
  }

  // --- Terms ---

  Result<Term> ParseTerm() {
    const Token& t = Peek();
    Term term;
    term.offset = t.offset;
    term.text = std::string(t.text);
    switch (t.kind) {
      case TokenKind::kBindMarker:
      case TokenKind::kNamedBind:
        term.kind = Term::Kind::kBindMarker;
        term.marker = markers_++;
        term.name = t.kind == TokenKind::kNamedBind ? t.value : "";
        Take();
        return term;
      case TokenKind::kString:
      case TokenKind::kUuid:
        term.json = JsonString(t.value);
        Take();
        return term;
      case TokenKind::kBlob:
        term.json = JsonString("0x" + t.value);
        Take();
        return term;
      case TokenKind::kInteger: {
        std::string v = t.value;
        bool negative = !v.empty() && v[0] == '-';
        size_t digits = negative ? 1 : 0;
        while (v.size() - digits > 1 && v[digits] == '0') v.erase(digits, 1);
        term.json = v;
        Take();
        return term;
      }
      case TokenKind::kFloat:
        term.json = t.value;
        Take();
        return term;
      case TokenKind::kIdentifier:
        if (t.value == "true" || t.value == "false" || t.value == "null") {
          term.json = t.value;
          Take();
          return term;
        }
        break;
      case TokenKind::kPunct:
        if (t.value == "[" || t.value == "{") return Collection();
        break;
      default:
        break;
    }
    return Error(t, "a value");
  }

  // A literal term (no bind markers): list [..], set {..} or map {k: v, ..}.
  Result<Term> Literal() {
    const Token& t = Peek();
    DF_ASSIGN_OR_RETURN(Term term, ParseTerm());
    if (term.is_marker()) return Error(t, "a literal value (bind markers are not allowed here)");
    return term;
  }

  Result<Term> Collection() {
    const Token& open = Take();
    Term term;
    term.offset = open.offset;
    bool list = open.value == "[";
    std::string close = list ? "]" : "}";
    bool map = false;
    std::string json;
    bool first = true;
    while (!Peek().IsPunct(close)) {
      if (!first) DF_RETURN_IF_ERROR(ExpectPunct(","));
      DF_ASSIGN_OR_RETURN(Term element, Literal());
      if (first && !list && Peek().IsPunct(":")) map = true;
      if (map) {
        // JSON object keys are strings: a non-string key keeps its text.
        json += first ? "" : ",";
        json += element.json.starts_with('"') ? element.json : JsonString(element.json);
        DF_RETURN_IF_ERROR(ExpectPunct(":"));
        DF_ASSIGN_OR_RETURN(Term value, Literal());
        json += ":" + value.json;
      } else {
        json += (first ? "" : ",") + element.json;
      }
      first = false;
    }
    const Token& end = Take();
    term.text = std::string(text_.substr(open.offset, end.offset + 1 - open.offset));
    term.json = map ? "{" + json + "}" : "[" + json + "]";
    return term;
  }

  // --- WHERE ---

  Result<RelationOp> Operator() {
    const Token& t = Peek();
    if (t.kind == TokenKind::kPunct) {
      static const std::pair<std::string_view, RelationOp> kOps[] = {{"=", RelationOp::kEq},
                                                                     {"<", RelationOp::kLt},
                                                                     {"<=", RelationOp::kLe},
                                                                     {">", RelationOp::kGt},
                                                                     {">=", RelationOp::kGe}};
      for (const auto& [text, op] : kOps) {
        if (t.value == text) {
          Take();
          return op;
        }
      }
    }
    if (t.Is("in")) {
      Take();
      return RelationOp::kIn;
    }
    return Error(t, "an operator (=, <, <=, >, >=, IN)");
  }

  Result<Relation> ParseRelation() {
    Relation r;
    if (Peek().Is("token") && Peek(1).IsPunct("(")) {
      Take();
      Take();
      r.token = true;
      DF_ASSIGN_OR_RETURN(r.column, Identifier("a column name"));
      DF_RETURN_IF_ERROR(ExpectPunct(")"));
      DF_ASSIGN_OR_RETURN(r.op, Operator());
      if (r.op == RelationOp::kIn) return Error(tokens_[pos_ - 1], "a comparison with token()");
      DF_RETURN_IF_ERROR(Expect("token"));
      DF_RETURN_IF_ERROR(ExpectPunct("("));
      DF_ASSIGN_OR_RETURN(Term term, ParseTerm());
      r.terms.push_back(std::move(term));
      DF_RETURN_IF_ERROR(ExpectPunct(")"));
      return r;
    }
    DF_ASSIGN_OR_RETURN(r.column, Identifier("a column name"));
    DF_ASSIGN_OR_RETURN(r.op, Operator());
    if (r.op == RelationOp::kIn) {
      DF_RETURN_IF_ERROR(ExpectPunct("("));
      while (!Peek().IsPunct(")")) {
        if (!r.terms.empty()) DF_RETURN_IF_ERROR(ExpectPunct(","));
        DF_ASSIGN_OR_RETURN(Term term, ParseTerm());
        r.terms.push_back(std::move(term));
      }
      Take();
      return r;
    }
    DF_ASSIGN_OR_RETURN(Term term, ParseTerm());
    r.terms.push_back(std::move(term));
    return r;
  }

  Result<std::vector<Relation>> Where() {
    std::vector<Relation> out;
    DF_RETURN_IF_ERROR(Expect("where"));
    do {
      DF_ASSIGN_OR_RETURN(Relation r, ParseRelation());
      out.push_back(std::move(r));
    } while (Accept("and"));
    return out;
  }

  // --- Statements ---

  Result<Statement> Select() {
    Take();
    SelectStatement s;
    if (Peek().Is("json") && !Peek(1).IsPunct(",") && !Peek(1).Is("from")) {
      Take();
      s.json = true;
    }
    if (AcceptPunct("*")) {
      s.projection = SelectStatement::Projection::kStar;
    } else if (Peek().Is("count") && Peek(1).IsPunct("(")) {
      Take();
      Take();
      const Token& arg = Peek();
      if (!(arg.IsPunct("*") || (arg.kind == TokenKind::kInteger && arg.value == "1"))) {
        return Error(arg, "* or 1");
      }
      Take();
      DF_RETURN_IF_ERROR(ExpectPunct(")"));
      s.projection = SelectStatement::Projection::kCount;
      s.count_alias = "count";
      if (Accept("as")) {
        DF_ASSIGN_OR_RETURN(s.count_alias, Identifier("an alias"));
      }
    } else {
      s.projection = SelectStatement::Projection::kColumns;
      if (Peek().Is("distinct") && !Peek(1).IsPunct(",") && !Peek(1).Is("from")) {
        return NotSupported("SELECT DISTINCT",
                            "select the key column instead (each row is one "
                            "partition)");
      }
      do {
        if (Peek().kind == TokenKind::kIdentifier && Peek(1).IsPunct("(")) {
          return NotSupported("SELECT " + Upper(Peek().value) + "(...)",
                              "functions other than COUNT(*) in a SELECT; select the columns");
        }
        DF_ASSIGN_OR_RETURN(std::string c, Identifier("a column name or *"));
        s.columns.push_back(std::move(c));
      } while (AcceptPunct(","));
    }
    DF_RETURN_IF_ERROR(Expect("from"));
    DF_ASSIGN_OR_RETURN(s.table, Table());
    if (Peek().Is("where")) {
      DF_ASSIGN_OR_RETURN(s.where, Where());
    }
    for (std::string_view clause : {"order", "group", "per"}) {
      if (Peek().Is(clause)) {
        std::string what =
            clause == "per" ? "PER PARTITION LIMIT" : (clause == "order" ? "ORDER BY" : "GROUP BY");
        return NotSupported("SELECT ... " + what,
                            "rows come in the store's key order, one row per partition");
      }
    }
    if (Accept("limit")) {
      DF_ASSIGN_OR_RETURN(s.limit, ParseTerm());
    }
    if (Accept("allow")) {
      DF_RETURN_IF_ERROR(Expect("filtering"));
      s.allow_filtering = true;
    }
    return Statement(std::move(s));
  }

  Status Using(WriteOptions* o) {
    do {
      if (Accept("timestamp")) {
        DF_ASSIGN_OR_RETURN(o->timestamp, ParseTerm());
      } else if (Accept("ttl")) {
        DF_ASSIGN_OR_RETURN(o->ttl, ParseTerm());
      } else {
        return Error(Peek(), "TIMESTAMP or TTL");
      }
    } while (Accept("and"));
    return Status::OK();
  }

  Result<InsertStatement> Insert() {
    Take();
    InsertStatement s;
    DF_RETURN_IF_ERROR(Expect("into"));
    DF_ASSIGN_OR_RETURN(s.table, Table());
    DF_RETURN_IF_ERROR(ExpectPunct("("));
    do {
      DF_ASSIGN_OR_RETURN(std::string c, Identifier("a column name"));
      s.columns.push_back(std::move(c));
    } while (AcceptPunct(","));
    DF_RETURN_IF_ERROR(ExpectPunct(")"));
    DF_RETURN_IF_ERROR(Expect("values"));
    DF_RETURN_IF_ERROR(ExpectPunct("("));
    do {
      DF_ASSIGN_OR_RETURN(Term v, ParseTerm());
      s.values.push_back(std::move(v));
    } while (AcceptPunct(","));
    DF_RETURN_IF_ERROR(ExpectPunct(")"));
    for (int i = 0; i < 2; ++i) {
      if (Accept("if")) {
        DF_RETURN_IF_ERROR(Expect("not"));
        DF_RETURN_IF_ERROR(Expect("exists"));
        s.if_not_exists = true;
      } else if (Accept("using")) {
        DF_RETURN_IF_ERROR(Using(&s.using_));
      }
    }
    return s;
  }

  Result<UpdateStatement> Update() {
    Take();
    UpdateStatement s;
    DF_ASSIGN_OR_RETURN(s.table, Table());
    if (Accept("using")) DF_RETURN_IF_ERROR(Using(&s.using_));
    DF_RETURN_IF_ERROR(Expect("set"));
    do {
      DF_ASSIGN_OR_RETURN(std::string c, Identifier("a column name"));
      if (Peek().IsPunct("[") || Peek().IsPunct(".")) {
        return NotSupported("UPDATE ... SET " + c + "[...] = ...",
                            "setting one element of a collection or a field; set the whole value "
                            "(SET " +
                                c + " = ?)");
      }
      DF_RETURN_IF_ERROR(ExpectPunct("="));
      DF_RETURN_IF_ERROR(RefuseArithmetic(c));
      DF_ASSIGN_OR_RETURN(Term v, ParseTerm());
      if (Peek().IsPunct("+") || Peek().IsPunct("-")) {
        return NotSupported("UPDATE ... SET " + c + " = ... + " + c,
                            "collection arithmetic; set the whole value (SET " + c + " = ?)");
      }
      s.assignments.emplace_back(std::move(c), std::move(v));
    } while (AcceptPunct(","));
    DF_ASSIGN_OR_RETURN(s.where, Where());
    DF_RETURN_IF_ERROR(IfExists("UPDATE", &s.if_exists));
    return s;
  }

  // `IF EXISTS`, or nothing; IF with conditions on values is refused as not supported.
  Status IfExists(const std::string& statement, bool* flag) {
    if (!Accept("if")) return Status::OK();
    if (!Peek().Is("exists")) {
      return NotSupported(statement + " ... IF <condition>",
                          "conditions on column values (lightweight transactions); only IF "
                          "EXISTS is served");
    }
    Take();
    *flag = true;
    return Status::OK();
  }

  Result<DeleteStatement> Delete() {
    Take();
    DeleteStatement s;
    while (!Peek().Is("from")) {
      if (!s.columns.empty()) DF_RETURN_IF_ERROR(ExpectPunct(","));
      DF_ASSIGN_OR_RETURN(std::string c, Identifier("a column name or FROM"));
      if (Peek().IsPunct("[") || Peek().IsPunct(".")) {
        return NotSupported("DELETE " + c + "[...]",
                            "deleting one element of a collection or a field; set the whole "
                            "value (UPDATE ... SET " +
                                c + " = ?)");
      }
      s.columns.push_back(std::move(c));
    }
    Take();
    DF_ASSIGN_OR_RETURN(s.table, Table());
    if (Accept("using")) DF_RETURN_IF_ERROR(Using(&s.using_));
    DF_ASSIGN_OR_RETURN(s.where, Where());
    DF_RETURN_IF_ERROR(IfExists("DELETE", &s.if_exists));
    return s;
  }

  Result<Statement> Batch() {
    Take();
    BatchStatementText b;
    if (Peek().Is("counter")) {
      while (Peek().kind != TokenKind::kEnd) Take();
      return Statement(UnsupportedStatement{"BEGIN COUNTER BATCH", ""});
    }
    if (!Accept("unlogged")) Accept("logged");
    DF_RETURN_IF_ERROR(Expect("batch"));
    if (Accept("using")) DF_RETURN_IF_ERROR(Using(&b.using_));
    while (!Peek().Is("apply")) {
      const Token& t = Peek();
      if (t.Is("insert")) {
        DF_ASSIGN_OR_RETURN(InsertStatement s, Insert());
        b.statements.emplace_back(std::move(s));
      } else if (t.Is("update")) {
        DF_ASSIGN_OR_RETURN(UpdateStatement s, Update());
        b.statements.emplace_back(std::move(s));
      } else if (t.Is("delete")) {
        DF_ASSIGN_OR_RETURN(DeleteStatement s, Delete());
        b.statements.emplace_back(std::move(s));
      } else {
        return Error(t, "INSERT, UPDATE, DELETE or APPLY BATCH");
      }
      AcceptPunct(";");
    }
    Take();
    DF_RETURN_IF_ERROR(Expect("batch"));
    return Statement(std::move(b));
  }

  Result<Statement> Create() {
    Take();
    if (Accept("keyspace") || Accept("schema")) return CreateKeyspace();
    if (Accept("table") || Accept("columnfamily")) return CreateTable();
    for (std::string_view what : {"index", "custom", "type", "function", "aggregate", "trigger",
                                  "materialized", "role", "user", "or"}) {
      if (Peek().Is(what)) {
        --pos_;  // name the statement from CREATE
        return Unsupported(2);
      }
    }
    return Error(Peek(), "KEYSPACE or TABLE");
  }

  Status IfNotExists(bool* flag) {
    if (!Accept("if")) return Status::OK();
    DF_RETURN_IF_ERROR(Expect("not"));
    DF_RETURN_IF_ERROR(Expect("exists"));
    *flag = true;
    return Status::OK();
  }

  Result<Statement> CreateKeyspace() {
    CreateKeyspaceStatement s;
    DF_RETURN_IF_ERROR(IfNotExists(&s.if_not_exists));
    DF_ASSIGN_OR_RETURN(s.name, Identifier("a keyspace name"));
    DF_RETURN_IF_ERROR(Expect("with"));
    do {
      const Token& name = Peek();
      if (Accept("replication")) {
        DF_RETURN_IF_ERROR(ExpectPunct("="));
        DF_RETURN_IF_ERROR(ExpectPunct("{"));
        while (!AcceptPunct("}")) {
          if (!s.replication.empty()) DF_RETURN_IF_ERROR(ExpectPunct(","));
          const Token& k = Peek();
          if (k.kind != TokenKind::kString) return Error(k, "a replication option name");
          Take();
          DF_RETURN_IF_ERROR(ExpectPunct(":"));
          const Token& v = Peek();
          if (v.kind != TokenKind::kString && v.kind != TokenKind::kInteger) {
            return Error(v, "a replication option value");
          }
          Take();
          s.replication.emplace_back(k.value, v.value);
        }
      } else if (Accept("durable_writes")) {
        DF_RETURN_IF_ERROR(ExpectPunct("="));
        const Token& v = Peek();
        if (!v.Is("true") && !v.Is("false")) return Error(v, "true or false");
        s.durable_writes = Take().value == "true";
      } else {
        return Error(name, "replication or durable_writes");
      }
    } while (Accept("and"));
    return Statement(std::move(s));
  }

  // A type as written: name [< type, ... >], lower-cased ("map<text, frozen<list<int>>>").
  Result<std::string> Type() {
    const Token& t = Peek();
    if (t.kind != TokenKind::kIdentifier) return Error(t, "a type");
    std::string out = Take().value;
    if (AcceptPunct("<")) {
      out += "<";
      bool first = true;
      while (!AcceptPunct(">")) {
        if (!first) {
          DF_RETURN_IF_ERROR(ExpectPunct(","));
          out += ", ";
        }
        DF_ASSIGN_OR_RETURN(std::string inner, Type());
        out += inner;
        first = false;
      }
      out += ">";
    }
    return out;
  }

  Status PrimaryKey(CreateTableStatement* s, size_t start_offset) {
    DF_RETURN_IF_ERROR(ExpectPunct("("));
    if (AcceptPunct("(")) {
      do {
        DF_ASSIGN_OR_RETURN(std::string c, Identifier("a column name"));
        s->partition_key.push_back(std::move(c));
      } while (AcceptPunct(","));
      DF_RETURN_IF_ERROR(ExpectPunct(")"));
    } else {
      DF_ASSIGN_OR_RETURN(std::string c, Identifier("a column name"));
      s->partition_key.push_back(std::move(c));
    }
    while (AcceptPunct(",")) {
      DF_ASSIGN_OR_RETURN(std::string c, Identifier("a column name"));
      s->clustering.push_back(std::move(c));
    }
    const Token& close = Peek();
    DF_RETURN_IF_ERROR(ExpectPunct(")"));
    s->primary_key_text = std::string(text_.substr(start_offset, close.offset + 1 - start_offset));
    return Status::OK();
  }

  Result<Statement> CreateTable() {
    CreateTableStatement s;
    DF_RETURN_IF_ERROR(IfNotExists(&s.if_not_exists));
    DF_ASSIGN_OR_RETURN(s.table, Table());
    DF_RETURN_IF_ERROR(ExpectPunct("("));
    bool key_declared = false;
    do {
      if (Peek().Is("primary")) {
        size_t start = Take().offset;
        DF_RETURN_IF_ERROR(Expect("key"));
        if (key_declared) return Error(tokens_[pos_ - 1], "one PRIMARY KEY declaration");
        key_declared = true;
        DF_RETURN_IF_ERROR(PrimaryKey(&s, start));
        continue;
      }
      ColumnDefinition c;
      DF_ASSIGN_OR_RETURN(c.name, Identifier("a column name"));
      DF_ASSIGN_OR_RETURN(c.type, Type());
      Accept("static");
      if (Peek().Is("primary")) {
        const Token& primary = Take();
        DF_RETURN_IF_ERROR(Expect("key"));
        if (key_declared) return Error(primary, "one PRIMARY KEY declaration");
        key_declared = true;
        s.partition_key.push_back(c.name);
        s.primary_key_text = c.name + " " + c.type + " PRIMARY KEY";
      }
      s.columns.push_back(std::move(c));
    } while (AcceptPunct(","));
    DF_RETURN_IF_ERROR(ExpectPunct(")"));
    if (!key_declared) return Error(tokens_[pos_ - 1], "a PRIMARY KEY declaration");
    if (Accept("with")) {
      // Table options (compaction, comment, ...) mean nothing to the embedded store, except
      // default_time_to_live, which the engine refuses like USING TTL.
      while (Peek().kind != TokenKind::kEnd && !Peek().IsPunct(";")) {
        if (Take().Is("default_time_to_live") && AcceptPunct("=")) {
          s.default_time_to_live = Take().value;
        }
      }
    }
    return Statement(std::move(s));
  }

  Result<Statement> AlterTable() {
    Take();
    Take();
    AlterTableAddStatement s;
    if (Accept("if")) {
      DF_RETURN_IF_ERROR(Expect("exists"));
      s.if_exists = true;
    }
    DF_ASSIGN_OR_RETURN(s.table, Table());
    if (!Accept("add")) {
      for (std::string_view form : {"drop", "rename", "with", "alter"}) {
        if (Peek().Is(form)) {
          while (Peek().kind != TokenKind::kEnd) Take();
          return Statement(UnsupportedStatement{
              "ALTER TABLE ... " + Upper(form),
              "the endpoint's tables only gain columns (ALTER TABLE ... ADD)"});
        }
      }
      return Error(Peek(), "ADD");
    }
    DF_RETURN_IF_ERROR(IfNotExists(&s.if_not_exists));
    const bool list = AcceptPunct("(");
    do {
      ColumnDefinition c;
      DF_ASSIGN_OR_RETURN(c.name, Identifier("a column name"));
      DF_ASSIGN_OR_RETURN(c.type, Type());
      if (Peek().Is("static")) return Error(Peek(), "a column without STATIC");
      s.columns.push_back(std::move(c));
    } while (list && AcceptPunct(","));
    if (list) DF_RETURN_IF_ERROR(ExpectPunct(")"));
    return Statement(std::move(s));
  }

  std::string_view text_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
  int markers_ = 0;
  std::optional<UnsupportedStatement> unsupported_;  // set by NotSupported()
};

}  // namespace

Result<ParsedStatement> ParseStatement(std::string_view text) {
  DF_ASSIGN_OR_RETURN(std::vector<Token> tokens, Tokenize(text));
  return Parser(text, std::move(tokens)).Run();
}

}  // namespace dataforge::cql

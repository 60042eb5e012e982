#include "expr/expression.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <atomic>
#include <cmath>
#include <thread>

#include <fmt/format.h>

namespace dataforge::expr {
namespace {

constexpr char kUser[] = R"({
  "gender": "female", "nat": "FR", "email": "Lea.Martin@example.com",
  "name": {"title": "Ms", "first": "Léa", "last": "Martin"},
  "dob": {"date": "1990-03-04T05:06:07.000Z", "age": 34},
  "location": {"city": "Lyon", "postcode": "69001", "street": {"number": 12},
               "coordinates": {"latitude": "45.75", "longitude": "4.85"}},
  "tags": ["a", "b", "c"], "scores": [1.5, null, 3],
  "odd name": {"x-y": 7}, "end": "kw", "nothing": null, "big": 9223372036854775807,
  "payload": "{\"inner\": {\"n\": 5}}"
})";

struct Record {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  Input input;
  explicit Record(std::string_view json, std::string_view key = "k1") {
    EXPECT_EQ(parser.parse(json.data(), json.size(), true).get(root), simdjson::SUCCESS);
    input.record = &root;
    input.key = key;
    input.now_ms = 1700000000123;
    input.record_ms = 1700000000456;
  }
};

Result<Value> Eval(std::string_view text, std::string_view json = kUser) {
  auto e = Expression::Compile(text, "p.yaml", 3, 10);
  if (!e.ok()) return e.status();
  Record run(json);
  return e->Evaluate(run.input);
}

// The value as "kind:text" so one EXPECT_EQ checks both.
std::string Show(std::string_view text, std::string_view json = kUser) {
  auto v = Eval(text, json);
  if (!v.ok()) return "error:" + v.status().message();
  switch (v->kind) {
    case Kind::kNull:
      return "null";
    case Kind::kBool:
      return v->b ? "bool:true" : "bool:false";
    case Kind::kInt:
      return "int:" + std::to_string(v->i);
    case Kind::kDouble:
      return std::isnan(v->d) ? "double:NaN" : "double:" + fmt::format("{}", v->d);
    case Kind::kString:
      return "string:" + v->s;
    case Kind::kTimestamp:
      return "timestamp:" + std::to_string(v->i);
    case Kind::kJson:
      return "json:" + v->s;
  }
  return "?";
}

std::string CompileError(std::string_view text) {
  auto e = Expression::Compile(text, "p.yaml", 3, 10);
  return e.ok() ? "compiled" : e.status().message();
}

TEST(ExpressionTest, Literals) {
  EXPECT_EQ(Show("42"), "int:42");
  EXPECT_EQ(Show("-9223372036854775808"), "int:-9223372036854775808");
  EXPECT_EQ(Show("1 -9223372036854775808"),  // binary minus: the literal is out of range
            "error:p.yaml:3:13: integer 9223372036854775808 is out of range "
            "(-9223372036854775808 to 9223372036854775807); write 9223372036854775808.0 for a "
            "double");
  EXPECT_EQ(Show("4.25"), "double:4.25");
  EXPECT_EQ(Show("1e3"), "double:1000");
  EXPECT_EQ(Show(".5"), "double:0.5");
  EXPECT_EQ(Show("'it''s'"), "string:it's");
  EXPECT_EQ(Show("''"), "string:");
  EXPECT_EQ(Show("TRUE"), "bool:true");
  EXPECT_EQ(Show("false"), "bool:false");
  EXPECT_EQ(Show("NULL"), "null");
  EXPECT_EQ(Show("TIMESTAMP '2024-01-31T12:00:00Z'"), "timestamp:1706702400000");
  EXPECT_EQ(Show("timestamp '1970-01-02'"), "timestamp:86400000");
}

TEST(ExpressionTest, FieldPaths) {
  EXPECT_EQ(Show("nat"), "string:FR");
  EXPECT_EQ(Show("name.first"), "string:Léa");
  EXPECT_EQ(Show("dob.age"), "int:34");
  EXPECT_EQ(Show("location.street.number"), "int:12");
  EXPECT_EQ(Show("location.street"), "json:{\"number\":12}");
  EXPECT_EQ(Show("tags"), "json:[\"a\",\"b\",\"c\"]");
  EXPECT_EQ(Show("tags[1]"), "string:a");
  EXPECT_EQ(Show("tags[3]"), "string:c");
  EXPECT_EQ(Show("tags[4]"), "null");
  EXPECT_EQ(Show("scores[2]"), "null");
  EXPECT_EQ(Show("scores[1]"), "double:1.5");
  EXPECT_EQ(Show("`odd name`.`x-y`"), "int:7");
  EXPECT_EQ(Show("`end`"), "string:kw");
  EXPECT_EQ(Show("missing"), "null");
  EXPECT_EQ(Show("name.first.deeper"), "null");  // crosses a scalar
  EXPECT_EQ(Show("nothing"), "null");
  EXPECT_EQ(Show("nothing.x"), "null");
  EXPECT_EQ(Show("$key"), "string:k1");
  EXPECT_EQ(Show("$timestamp"), "timestamp:1700000000456");
  EXPECT_EQ(Show("date_trunc('hour', $timestamp)"), "timestamp:1699999200000");
  EXPECT_EQ(Show("big"), "int:9223372036854775807");
  EXPECT_EQ(Show("payload.inner.n"), "int:5");  // into JSON text held in a string
  EXPECT_EQ(Show("tags[1 + 1]"), "string:b");   // a computed subscript
  EXPECT_EQ(Show("NAT"), "null");               // field names are case-sensitive
}

TEST(ExpressionTest, TimestampIsNullForARecordWithoutALogTimestamp) {
  auto e = Expression::Compile("coalesce($timestamp, TIMESTAMP '2024-01-31')", "p.yaml", 3, 10);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  Record run(kUser);
  run.input.record_ms = kNoRecordTime;
  auto v = e->Evaluate(run.input);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->kind, Kind::kTimestamp);
  EXPECT_EQ(v->i, 1706659200000);
  run.input.record_ms = 0;  // the epoch is a timestamp like any other
  v = e->Evaluate(run.input);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->i, 0);
}

TEST(ExpressionTest, ArithmeticAndPrecedence) {
  EXPECT_EQ(Show("1 + 2 * 3"), "int:7");
  EXPECT_EQ(Show("(1 + 2) * 3"), "int:9");
  EXPECT_EQ(Show("10 - 4 - 3"), "int:3");
  EXPECT_EQ(Show("7 / 2"), "int:3");  // integer division truncates, as in SQL
  EXPECT_EQ(Show("-7 / 2"), "int:-3");
  EXPECT_EQ(Show("-7 % 3"), "int:-1");
  EXPECT_EQ(Show("7 / 2.0"), "double:3.5");
  EXPECT_EQ(Show("7.5 % 2"), "double:1.5");
  EXPECT_EQ(Show("-dob.age * 2"), "int:-68");
  EXPECT_EQ(Show("- -3"), "int:3");
  EXPECT_EQ(Show("2 * 3 || 'x'"), "string:6x");  // || binds looser than + and *
  EXPECT_EQ(Show("'a' || 1 + 2"), "string:a3");
  EXPECT_EQ(Show("1 + 2 = 3"), "bool:true");
  EXPECT_EQ(Show("NOT 1 = 2"), "bool:true");                // NOT binds looser than =
  EXPECT_EQ(Show("TRUE OR FALSE AND FALSE"), "bool:true");  // AND before OR
  EXPECT_EQ(Show("(TRUE OR FALSE) AND FALSE"), "bool:false");
  EXPECT_EQ(Show("'5'::int + 1"), "int:6");
  EXPECT_EQ(Show("-'5'::int"), "int:-5");  // :: before unary minus
}

TEST(ExpressionTest, IntegerOverflowIsAnError) {
  EXPECT_EQ(Show("big + 1"),
            "error:integer overflow: 9223372036854775807 + 1 is beyond a 64-bit integer; "
            "CAST(x AS double) computes with doubles");
  EXPECT_EQ(Show("big * -2"),
            "error:integer overflow: 9223372036854775807 * -2 is beyond a 64-bit integer; "
            "CAST(x AS double) computes with doubles");
  EXPECT_EQ(Show("(-big - 1) / -1"),
            "error:integer overflow: -9223372036854775808 / -1 is beyond a 64-bit integer; "
            "CAST(x AS double) computes with doubles");
  EXPECT_EQ(Show("(-big - 1) % -1"), "int:0");
  EXPECT_EQ(Show("-(-big - 1)"),
            "error:integer overflow: -(-9223372036854775808) is beyond a 64-bit integer; "
            "CAST(x AS double) computes with doubles");
  EXPECT_EQ(Show("CAST(big AS double) + 1"), "double:9.223372036854776e+18");
}

TEST(ExpressionTest, DivisionByZeroIsAnError) {
  EXPECT_EQ(Show("dob.age / 0"), "error:division by zero: 34 / 0");
  EXPECT_EQ(Show("dob.age % 0"), "error:division by zero: 34 % 0");
  EXPECT_EQ(Show("1.5 / 0.0"), "error:division by zero: 1.5 / 0");
  EXPECT_EQ(Show("missing / 0"), "null");  // null first: nothing is divided
}

TEST(ExpressionTest, NullPropagates) {
  EXPECT_EQ(Show("missing + 1"), "null");
  EXPECT_EQ(Show("-missing"), "null");
  EXPECT_EQ(Show("missing || 'x'"), "null");
  EXPECT_EQ(Show("missing = NULL"), "null");
  EXPECT_EQ(Show("NULL <> 1"), "null");
  EXPECT_EQ(Show("NOT missing"), "null");
  EXPECT_EQ(Show("CAST(missing AS int)"), "null");
  EXPECT_EQ(Show("missing IS NULL"), "bool:true");
  EXPECT_EQ(Show("nat IS NOT NULL"), "bool:true");
  EXPECT_EQ(Show("nothing IS NULL"), "bool:true");
  EXPECT_EQ(Show("missing LIKE 'a%'"), "null");
  EXPECT_EQ(Show("coalesce(missing, nothing, nat)"), "string:FR");
}

TEST(ExpressionTest, ThreeValuedLogic) {
  // AND: FALSE wins over NULL; OR: TRUE wins over NULL.
  EXPECT_EQ(Show("NULL AND FALSE"), "bool:false");
  EXPECT_EQ(Show("FALSE AND NULL"), "bool:false");
  EXPECT_EQ(Show("NULL AND TRUE"), "null");
  EXPECT_EQ(Show("TRUE AND NULL"), "null");
  EXPECT_EQ(Show("NULL AND NULL"), "null");
  EXPECT_EQ(Show("TRUE AND TRUE"), "bool:true");
  EXPECT_EQ(Show("NULL OR TRUE"), "bool:true");
  EXPECT_EQ(Show("TRUE OR NULL"), "bool:true");
  EXPECT_EQ(Show("NULL OR FALSE"), "null");
  EXPECT_EQ(Show("FALSE OR FALSE"), "bool:false");
  EXPECT_EQ(Show("NOT NULL"), "null");
  // The right side is not evaluated when the left decides.
  EXPECT_EQ(Show("FALSE AND 1 / 0 = 1"), "bool:false");
  EXPECT_EQ(Show("TRUE OR 1 / 0 = 1"), "bool:true");
  EXPECT_EQ(Show("1 AND TRUE"), "error:AND needs boolean operands, got int 1");
  EXPECT_EQ(Show("FALSE OR 'x'"), "error:OR needs boolean operands, got string 'x'");
  EXPECT_EQ(Show("TRUE OR 'x'"), "bool:true");  // not evaluated
  EXPECT_EQ(Show("NOT 3"), "error:NOT needs a boolean, got int 3");
}

TEST(ExpressionTest, Comparison) {
  EXPECT_EQ(Show("nat = 'FR'"), "bool:true");
  EXPECT_EQ(Show("nat <> 'FR'"), "bool:false");
  EXPECT_EQ(Show("nat != 'XX'"), "bool:true");
  EXPECT_EQ(Show("dob.age >= 18"), "bool:true");
  EXPECT_EQ(Show("dob.age < 34.5"), "bool:true");
  EXPECT_EQ(Show("'abc' < 'abd'"), "bool:true");
  EXPECT_EQ(Show("'Z' < 'a'"), "bool:true");                  // byte order
  EXPECT_EQ(Show("location.postcode = 69001"), "bool:true");  // a numeric string reads as one
  EXPECT_EQ(Show("location.coordinates.latitude > 45"), "bool:true");
  EXPECT_EQ(Show("dob.date > TIMESTAMP '1990-01-01'"), "bool:true");
  EXPECT_EQ(Show("FALSE < TRUE"), "bool:true");
  EXPECT_EQ(Show("location.street = location.street"), "bool:true");
  EXPECT_EQ(Show("nat = 1"),
            "error:cannot compare string 'FR' with int 1 (=): the string is not a number; CAST "
            "one side");
  EXPECT_EQ(Show("nat < TIMESTAMP '2024-01-01'"),
            "error:cannot compare string 'FR' with timestamp 2024-01-01T00:00:00.000Z (<): the "
            "string is not a timestamp");
  EXPECT_EQ(Show("TRUE = 1"),
            "error:cannot compare boolean true with int 1 (=): CAST one side to the other's type");
  EXPECT_EQ(Show("tags < tags"),
            "error:cannot compare json [\"a\",\"b\",\"c\"] with json [\"a\",\"b\",\"c\"] (<): "
            "JSON values compare only for equality");
}

TEST(ExpressionTest, NaNAndInfinity) {
  EXPECT_EQ(Show("CAST('NaN' AS double)"), "double:NaN");
  // PostgreSQL's order: NaN equals NaN and is above every number.
  EXPECT_EQ(Show("CAST('NaN' AS double) = CAST('NaN' AS double)"), "bool:true");
  EXPECT_EQ(Show("CAST('NaN' AS double) > CAST('Infinity' AS double)"), "bool:true");
  EXPECT_EQ(Show("CAST('NaN' AS double) + 1"), "double:NaN");
  EXPECT_EQ(Show("CAST('Infinity' AS double) - CAST('Infinity' AS double)"), "double:NaN");
  EXPECT_EQ(Show("CAST(CAST('NaN' AS double) AS text)"), "string:NaN");
  EXPECT_EQ(Show("CAST(CAST('-inf' AS double) AS text)"), "string:-Infinity");
  EXPECT_EQ(Show("CAST(CAST('NaN' AS double) AS int)"),
            "error:cannot cast double NaN to int: out of the range of a 64-bit integer");
  EXPECT_EQ(Show("CAST(CAST('NaN' AS double) AS json)"), "json:null");
}

TEST(ExpressionTest, InBetweenLike) {
  EXPECT_EQ(Show("nat IN ('DE', 'FR')"), "bool:true");
  EXPECT_EQ(Show("nat NOT IN ('DE', 'FR')"), "bool:false");
  EXPECT_EQ(Show("nat IN ('DE', NULL)"), "null");
  EXPECT_EQ(Show("nat IN ('FR', NULL)"), "bool:true");
  EXPECT_EQ(Show("nat NOT IN ('DE', NULL)"), "null");
  EXPECT_EQ(Show("missing IN ('DE')"), "null");
  EXPECT_EQ(Show("dob.age IN (33, 34)"), "bool:true");
  EXPECT_EQ(Show("dob.age BETWEEN 18 AND 34"), "bool:true");
  EXPECT_EQ(Show("dob.age NOT BETWEEN 18 AND 34"), "bool:false");
  EXPECT_EQ(Show("dob.age BETWEEN 35 AND NULL"), "bool:false");
  EXPECT_EQ(Show("dob.age BETWEEN 18 AND NULL"), "null");
  EXPECT_EQ(Show("dob.age BETWEEN 18 AND 40 AND nat = 'FR'"), "bool:true");
  EXPECT_EQ(Show("email LIKE '%@example.com'"), "bool:true");
  EXPECT_EQ(Show("email LIKE 'lea%'"), "bool:false");
  EXPECT_EQ(Show("email ILIKE 'lea%'"), "bool:true");
  EXPECT_EQ(Show("name.first LIKE 'L_a'"), "bool:true");  // _ is one character, é two bytes
  EXPECT_EQ(Show("'50%' LIKE '50\\%'"), "bool:true");
  EXPECT_EQ(Show("'500' LIKE '50\\%'"), "bool:false");
  EXPECT_EQ(Show("email NOT LIKE '%zz%'"), "bool:true");
  EXPECT_EQ(Show("'aXbXc' LIKE 'a%b%c'"), "bool:true");
  EXPECT_EQ(Show("'abc' LIKE 'a%d'"), "bool:false");
  EXPECT_EQ(Show("dob.age LIKE '3%'"),
            "error:LIKE needs strings, got int 34; CAST(x AS text) makes one");
}

TEST(ExpressionTest, Case) {
  EXPECT_EQ(Show("CASE WHEN dob.age < 18 THEN 'minor' WHEN dob.age < 65 THEN 'adult' ELSE "
                 "'senior' END"),
            "string:adult");
  EXPECT_EQ(Show("CASE WHEN missing > 1 THEN 'x' END"), "null");  // NULL is not taken
  EXPECT_EQ(Show("CASE WHEN FALSE THEN 1 ELSE 2 END"), "int:2");
  EXPECT_EQ(Show("CASE nat WHEN 'DE' THEN 'de' WHEN 'FR' THEN 'fr' END"), "string:fr");
  EXPECT_EQ(Show("CASE missing WHEN NULL THEN 'null' ELSE 'other' END"), "string:other");
  EXPECT_EQ(Show("CASE WHEN TRUE THEN 1 ELSE 1 / 0 END"), "int:1");  // lazily evaluated
  EXPECT_EQ(Show("CASE WHEN 1 THEN 2 END"), "error:CASE WHEN needs a boolean condition, got int 1");
}

TEST(ExpressionTest, Cast) {
  EXPECT_EQ(Show("CAST('42' AS int)"), "int:42");
  EXPECT_EQ(Show("' 42 '::bigint"), "int:42");
  EXPECT_EQ(Show("CAST(2.5 AS int)"), "int:3");  // half away from zero
  EXPECT_EQ(Show("CAST(-2.5 AS int)"), "int:-3");
  EXPECT_EQ(Show("CAST(TRUE AS int)"), "int:1");
  EXPECT_EQ(Show("CAST('4.5' AS int)"), "error:cannot cast string '4.5' to int");
  EXPECT_EQ(Show("CAST(dob.age AS text) || '!'"), "string:34!");
  EXPECT_EQ(Show("CAST(1.0 AS text)"), "string:1");
  EXPECT_EQ(Show("CAST(0.1 AS text)"), "string:0.1");
  EXPECT_EQ(Show("CAST(location.coordinates.latitude AS double)"), "double:45.75");
  EXPECT_EQ(Show("CAST('yes' AS boolean)"), "bool:true");
  EXPECT_EQ(Show("CAST('F' AS bool)"), "bool:false");
  EXPECT_EQ(Show("CAST('maybe' AS boolean)"),
            "error:cannot cast string 'maybe' to boolean (true/false, t/f, yes/no, 1/0)");
  EXPECT_EQ(Show("CAST(dob.date AS timestamp)"), "timestamp:636527167000");
  EXPECT_EQ(Show("CAST(86400 AS timestamp)"), "timestamp:86400000");  // seconds
  EXPECT_EQ(Show("CAST(TIMESTAMP '1970-01-02T00:00:01.500Z' AS int)"), "int:86401");
  EXPECT_EQ(Show("CAST(TIMESTAMP '1970-01-01T00:00:01.5Z' AS double)"), "double:1.5");
  EXPECT_EQ(Show("CAST(TIMESTAMP '2024-01-31' AS text)"), "string:2024-01-31T00:00:00.000Z");
  EXPECT_EQ(Show("CAST('not a date' AS timestamp)"),
            "error:cannot cast string 'not a date' to timestamp");
  EXPECT_EQ(Show("CAST(' {\"a\": [1, 2]} ' AS json)"), "json:{\"a\":[1,2]}");
  EXPECT_EQ(Show("CAST('{' AS json)"), "error:cannot cast string '{' to json: it is not JSON text");
  EXPECT_EQ(Show("CAST(location.street AS text)"), "string:{\"number\":12}");
  EXPECT_EQ(Show("CAST(tags AS int)"), "error:cannot cast json [\"a\",\"b\",\"c\"] to int");
}

TEST(ExpressionTest, Functions) {
  EXPECT_EQ(Show("lower(email)"), "string:lea.martin@example.com");
  EXPECT_EQ(Show("UPPER(nat) || '-' || lower(gender)"), "string:FR-female");
  EXPECT_EQ(Show("upper(lower(nat))"), "string:FR");
  EXPECT_EQ(Show("coalesce(missing, 'fallback')"), "string:fallback");
  EXPECT_EQ(Show("now()"), "timestamp:1700000000123");
  // The pipeline-file contract's example: split gives a JSON array, subscripts are 1-based.
  EXPECT_EQ(Show("lower(split(email, '@')[2])"), "string:example.com");
  EXPECT_EQ(Show("split(email, '@')[3]"), "null");
  EXPECT_EQ(Show("split(email, '@')[0 + 1]"), "string:Lea.Martin");
  EXPECT_EQ(Show("email[1]"), "null");  // a path step that crosses a scalar, as any path
  EXPECT_EQ(Show("lower(email)[1]"),
            "error:[1] needs a JSON array, got string 'lea.martin@example.com'");
}

TEST(ExpressionTest, StringsAreConcatenatedWithText) {
  EXPECT_EQ(Show("name.first || ' ' || name.last"), "string:Léa Martin");
  EXPECT_EQ(Show("'n=' || dob.age || ', ok=' || TRUE"), "string:n=34, ok=true");
  EXPECT_EQ(Show("nat + 1"),
            "error:+ needs numbers, got string 'FR'; || joins strings, CAST(x AS double) reads "
            "a number");
  EXPECT_EQ(Show("TIMESTAMP '2024-01-01' - 1"),
            "error:- needs numbers, got timestamp 2024-01-01T00:00:00.000Z; use the date "
            "functions");
}

TEST(ExpressionTest, EvaluatesWithoutARecord) {
  auto e = Expression::Compile("coalesce(nat, $key, 'none')", "p.yaml", 1, 1);
  ASSERT_TRUE(e.ok()) << e.status().message();
  Input in;
  auto v = e->Evaluate(in);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->s, "none");
}

TEST(ExpressionTest, EvaluateIntoReusesTheValue) {
  auto e = Expression::Compile("lower(email) || '/' || name.last", "p.yaml", 1, 1);
  ASSERT_TRUE(e.ok());
  Record run(kUser);
  Value out;
  ASSERT_TRUE(e->EvaluateInto(run.input, &out).ok());
  EXPECT_EQ(out.s, "lea.martin@example.com/Martin");
  const char* buffer = out.s.data();
  ASSERT_TRUE(e->EvaluateInto(run.input, &out).ok());
  EXPECT_EQ(out.s.data(), buffer);  // the same buffer: nothing allocated for the result
  EXPECT_EQ(e->text(), "lower(email) || '/' || name.last");
}

TEST(ExpressionTest, CompileErrorsPointAtTheToken) {
  // The expression starts at p.yaml line 3, column 10: byte k of it is column 10 + k.
  EXPECT_EQ(CompileError("lowr(email)"),
            "p.yaml:3:10: unknown function 'lowr'; did you mean lower? (docs/expressions.md "
            "lists the functions)");
  EXPECT_EQ(CompileError("nat = 'FR' AND frobnicate(x)"),
            "p.yaml:3:25: unknown function 'frobnicate' (docs/expressions.md lists the "
            "functions)");
  EXPECT_EQ(CompileError("lower(a, b)"), "p.yaml:3:10: lower takes 1 argument, not 2: lower(text)");
  EXPECT_EQ(CompileError("coalesce()"),
            "p.yaml:3:10: coalesce takes at least 1 argument, not 0: coalesce(value, ...)");
  EXPECT_EQ(CompileError("nat = 'FR"),
            "p.yaml:3:16: unterminated string: it needs a closing ' (write '' for a quote "
            "inside a string)");
  EXPECT_EQ(CompileError("nat = \"FR\""),
            "p.yaml:3:16: double quotes are not used in expressions: a string takes single "
            "quotes ('text'), a field name with odd characters takes backticks (`first name`)");
  EXPECT_EQ(CompileError("a == 1"), "p.yaml:3:12: '==' is not an operator: equality is '=' (SQL)");
  EXPECT_EQ(CompileError("a && b"), "p.yaml:3:12: '&' is not an operator: conjunction is AND");
  EXPECT_EQ(CompileError("(a + 1"),
            "p.yaml:3:16: expected ')' to close the '(' at column 1 but found the end of the "
            "expression");
  EXPECT_EQ(CompileError("a + * 2"),
            "p.yaml:3:14: expected a value (a number, a 'string', a field, a function call or "
            "'(') but found '*'");
  EXPECT_EQ(CompileError("a = 1 b = 2"),
            "p.yaml:3:16: unexpected 'b' after a complete expression; join conditions with AND "
            "or OR, values with an operator");
  EXPECT_EQ(CompileError(""), "p.yaml:3:10: the expression is empty");
  EXPECT_EQ(CompileError("end = 1"),
            "p.yaml:3:10: expected a value but found the keyword 'end'; a field of that name "
            "takes backticks: `end`");
  EXPECT_EQ(CompileError("CAST(a AS integr)"),
            "p.yaml:3:20: expected a type (int, bigint, double, text, boolean, timestamp or "
            "json) but found 'integr'");
  EXPECT_EQ(CompileError("a::money"),
            "p.yaml:3:13: expected a type (int, bigint, double, text, boolean, timestamp or "
            "json) but found 'money'");
  EXPECT_EQ(CompileError("CASE WHEN a THEN 1"),
            "p.yaml:3:28: expected WHEN, ELSE or END in CASE but found the end of the "
            "expression");
  EXPECT_EQ(CompileError("a IS 5"),
            "p.yaml:3:15: expected NULL or NOT NULL after IS but found '5'");
  EXPECT_EQ(CompileError("a BETWEEN 1 OR 2"),
            "p.yaml:3:22: expected AND in x BETWEEN low AND high but found 'OR'");
  EXPECT_EQ(CompileError("a IN 1"),
            "p.yaml:3:15: expected '(' after IN (a list of values: x IN ('a', 'b')) but found "
            "'1'");
  EXPECT_EQ(CompileError("tags[0]"),
            "p.yaml:3:15: subscripts start at 1 (SQL arrays): write [1] for the first element");
  EXPECT_EQ(CompileError("TIMESTAMP '2024-13-01'"),
            "p.yaml:3:20: TIMESTAMP '2024-13-01' is not a timestamp; write TIMESTAMP "
            "'2024-01-31T12:00:00Z' or TIMESTAMP '2024-01-31'");
  EXPECT_EQ(CompileError("99999999999999999999"),
            "p.yaml:3:10: integer 99999999999999999999 is out of range (-9223372036854775808 to "
            "9223372036854775807); write 99999999999999999999.0 for a double");
  EXPECT_EQ(CompileError("a ? b"), "p.yaml:3:12: unexpected character '?'");
  EXPECT_EQ(CompileError("$id"),
            "p.yaml:3:10: '$' starts only $key (the record's key) or $timestamp (its log "
            "timestamp)");
  EXPECT_EQ(CompileError("$timestamps"),
            "p.yaml:3:10: '$' starts only $key (the record's key) or $timestamp (its log "
            "timestamp)");
  EXPECT_EQ(CompileError("lower(x).y"),
            "p.yaml:3:18: '.' follows only a field name (a.b); a function's JSON result is read "
            "with json functions or a subscript [n]");
  EXPECT_EQ(CompileError("12abc"),
            "p.yaml:3:10: a number runs into '12a': put a space or an operator between them");
}

TEST(ExpressionTest, CompileErrorsOnLaterLinesCountFromThere) {
  // A multi-line expression (a YAML block scalar): the line advances, the column restarts.
  auto e = Expression::Compile("nat = 'FR'\nAND lowr(x)", "p.yaml", 7, 5);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().message(),
            "p.yaml:8:5: unknown function 'lowr'; did you mean lower? (docs/expressions.md lists "
            "the functions)");
  auto no_file = Expression::Compile("a +", "", 4, 12);
  EXPECT_EQ(no_file.status().message(),
            "line 4, column 15: expected a value (a number, a 'string', a field, a function call "
            "or '(') but found the end of the expression");
  EXPECT_EQ(no_file.status().code(), StatusCode::kConfigError);
}

TEST(ExpressionTest, ThreadsEvaluateOneExpression) {
  auto e = Expression::Compile("lower(name.first) || '-' || (dob.age + 1)", "p.yaml", 1, 1);
  ASSERT_TRUE(e.ok());
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      Record run(kUser);
      for (int i = 0; i < 2000; ++i) {
        auto v = e->Evaluate(run.input);
        if (!v.ok() || v->s != "léa-35") ++wrong;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
}

}  // namespace
}  // namespace dataforge::expr

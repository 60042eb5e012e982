#include "auth/access_policy.h"

#include <gtest/gtest.h>

#include <set>
#include <tuple>

namespace dataforge::auth {
namespace {

using K = ResourceKind;
using A = Action;

const std::vector<K> kAllKinds = {K::kTables, K::kPipeline, K::kDeadLetters,
                                  K::kDags,   K::kAdmin,    K::kSubjects};
const std::vector<A> kAllActions = {A::kRead,  A::kWrite, A::kReplay, A::kTrigger,
                                    A::kClear, A::kPause, A::kAdmin};

Principal As(std::string role) {
  return Principal{"u", std::move(role), "key", "id"};
}

AccessPolicy Policy(const AuthConfig& config = {}) {
  auto p = AccessPolicy::FromConfig(config);
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return std::move(p).value();
}

AuthRoleConfig Role(std::string name, std::vector<AuthGrantConfig> grants) {
  return AuthRoleConfig{std::move(name), std::move(grants), 7};
}

TEST(AccessTest, NamesRoundTrip) {
  for (K k : kAllKinds) EXPECT_EQ(ParseResourceKind(ResourceKindName(k)), k);
  for (A a : kAllActions) EXPECT_EQ(ParseAction(ActionName(a)), a);
  EXPECT_EQ(ResourceKindName(K::kDeadLetters), "deadletters");
  EXPECT_EQ(ActionName(A::kTrigger), "trigger");
  EXPECT_FALSE(ParseResourceKind("table").has_value());
  EXPECT_FALSE(ParseAction("READ").has_value());
}

// Every built-in role x kind x action, against the table in access_policy.h.
TEST(AccessPolicyTest, BuiltInRolesGrantExactlyTheirTable) {
  std::set<std::tuple<std::string, K, A>> expected;
  for (auto [k, a] : std::vector<std::pair<K, A>>{{K::kTables, A::kRead},
                                                  {K::kTables, A::kWrite},
                                                  {K::kPipeline, A::kRead},
                                                  {K::kDeadLetters, A::kReplay},
                                                  {K::kDags, A::kRead},
                                                  {K::kDags, A::kTrigger},
                                                  {K::kDags, A::kClear},
                                                  {K::kDags, A::kPause},
                                                  {K::kAdmin, A::kAdmin},
                                                  {K::kSubjects, A::kRead},
                                                  {K::kSubjects, A::kWrite}}) {
    expected.insert({"admin", k, a});
  }
  for (auto [k, a] : std::vector<std::pair<K, A>>{{K::kTables, A::kRead},
                                                  {K::kPipeline, A::kRead},
                                                  {K::kDeadLetters, A::kReplay},
                                                  {K::kDags, A::kRead},
                                                  {K::kDags, A::kTrigger},
                                                  {K::kDags, A::kClear},
                                                  {K::kDags, A::kPause},
                                                  {K::kSubjects, A::kRead},
                                                  {K::kSubjects, A::kWrite}}) {
    expected.insert({"operator", k, a});
  }
  expected.insert({"reader", K::kTables, A::kRead});
  expected.insert({"reader", K::kPipeline, A::kRead});
  expected.insert({"reader", K::kSubjects, A::kRead});

  AccessPolicy policy = Policy();
  int allowed = 0;
  for (const char* role : {"admin", "operator", "reader"}) {
    for (K k : kAllKinds) {
      for (A a : kAllActions) {
        for (const char* name : {"*", "dataforge.users", "etl_daily"}) {
          bool want = expected.count({role, k, a}) > 0;
          EXPECT_EQ(policy.Allows(As(role), k, name, a), want)
              << role << " " << ResourceKindName(k) << " " << name << " " << ActionName(a);
          allowed += want;
        }
      }
    }
  }
  // admin 11, operator 9, reader 3 grants, each for 3 names
  EXPECT_EQ(allowed, 23 * 3);
  EXPECT_EQ(policy.RoleNames(), (std::vector<std::string>{"admin", "operator", "reader"}));
}

TEST(AccessPolicyTest, UnknownRoleGrantsNothing) {
  AccessPolicy policy = Policy();
  EXPECT_FALSE(policy.HasRole("writer"));
  EXPECT_FALSE(policy.Allows(As("writer"), K::kTables, "t", A::kRead));
  EXPECT_FALSE(policy.Allows(As(""), K::kPipeline, "*", A::kRead));
}

TEST(AccessPolicyTest, GlobGrantsAndDefaultDeny) {
  AuthConfig c;
  c.roles.push_back(Role("analyst", {{"tables", "sales.*", {"read", "write"}, 3},
                                     {"tables", "hr.salar?", {"read"}, 4},
                                     {"dags", "etl_[ab]*", {"read", "trigger"}, 5},
                                     {"pipeline", "*", {"read"}, 6}}));
  AccessPolicy policy = Policy(c);
  Principal p = As("analyst");
  EXPECT_TRUE(policy.HasRole("analyst"));
  EXPECT_TRUE(policy.Allows(p, K::kTables, "sales.orders", A::kRead));
  EXPECT_TRUE(policy.Allows(p, K::kTables, "sales.orders", A::kWrite));
  EXPECT_FALSE(policy.Allows(p, K::kTables, "salesx.orders", A::kRead));
  EXPECT_TRUE(policy.Allows(p, K::kTables, "hr.salary", A::kRead));
  EXPECT_FALSE(policy.Allows(p, K::kTables, "hr.salary", A::kWrite));
  EXPECT_FALSE(policy.Allows(p, K::kTables, "hr.salaries", A::kRead));
  EXPECT_TRUE(policy.Allows(p, K::kDags, "etl_a_daily", A::kTrigger));
  EXPECT_TRUE(policy.Allows(p, K::kDags, "etl_b", A::kRead));
  EXPECT_FALSE(policy.Allows(p, K::kDags, "etl_c", A::kRead));
  EXPECT_FALSE(policy.Allows(p, K::kDags, "etl_a", A::kClear));
  EXPECT_TRUE(policy.Allows(p, K::kPipeline, "*", A::kRead));
  EXPECT_FALSE(policy.Allows(p, K::kDeadLetters, "*", A::kReplay));
  EXPECT_FALSE(policy.Allows(p, K::kAdmin, "*", A::kAdmin));
  EXPECT_EQ(policy.RoleNames(),
            (std::vector<std::string>{"admin", "analyst", "operator", "reader"}));
}

TEST(AccessPolicyTest, AnEmptyRoleGrantsNothing) {
  AuthConfig c;
  c.roles.push_back(Role("nobody", {}));
  AccessPolicy policy = Policy(c);
  for (K k : kAllKinds) {
    for (A a : kAllActions) EXPECT_FALSE(policy.Allows(As("nobody"), k, "*", a));
  }
}

Status ErrorOf(std::vector<AuthRoleConfig> roles) {
  AuthConfig c;
  c.roles = std::move(roles);
  auto p = AccessPolicy::FromConfig(c);
  EXPECT_FALSE(p.ok());
  return p.status();
}

TEST(AccessPolicyTest, ConfigErrorsNameTheRoleLineAndWhatIsWrong) {
  Status s = ErrorOf({Role("ops", {{"pipeline", "*", {"write"}, 12}})});
  EXPECT_EQ(s.code(), StatusCode::kConfigError);
  EXPECT_EQ(s.message(),
            "auth.roles.ops (line 12): 'write' is not an action of pipeline (its "
            "actions: read)");
  EXPECT_EQ(ErrorOf({Role("ops", {{"dags", "etl_*", {"read", "run"}, 9}})}).message(),
            "auth.roles.ops (line 9): 'run' is not an action of dags (its actions: read, "
            "trigger, clear, pause)");
  EXPECT_EQ(ErrorOf({Role("ops", {{"table", "*", {"read"}, 4}})}).message(),
            "auth.roles.ops (line 4): 'table' is not a kind of resource (kinds: tables, "
            "pipeline, deadletters, dags, admin, subjects)");
  EXPECT_EQ(ErrorOf({Role("ops", {{"tables", "", {"read"}, 5}})}).message(),
            "auth.roles.ops (line 5): the tables glob is empty; write \"*\" for every one");
  EXPECT_EQ(ErrorOf({Role("ops", {{"tables", "a.*", {}, 6}})}).message(),
            "auth.roles.ops (line 6): the tables grant 'a.*' lists no actions (its actions: "
            "read, write)");
  EXPECT_EQ(ErrorOf({Role("reader", {{"tables", "*", {"write"}, 2}})}).message(),
            "auth.roles.reader (line 7): 'reader' is a built-in role and cannot be redefined; "
            "give the new role another name");
  EXPECT_EQ(ErrorOf({Role("ops", {}), Role("ops", {})}).message(),
            "auth.roles.ops (line 7): role 'ops' is defined twice");
}

TEST(AccessPolicyTest, DeniedMessage) {
  EXPECT_EQ(AccessPolicy::DeniedMessage(As("analyst"), K::kTables, "dataforge.users", A::kWrite),
            "role 'analyst' may not write tables 'dataforge.users' (grant it in "
            "auth.roles.analyst)");
  EXPECT_EQ(AccessPolicy::DeniedMessage(As("analyst"), K::kDeadLetters, "*", A::kReplay),
            "role 'analyst' may not replay deadletters (grant it in auth.roles.analyst)");
  EXPECT_EQ(AccessPolicy::DeniedMessage(As("reader"), K::kTables, "dataforge.users", A::kWrite),
            "role 'reader' may not write tables 'dataforge.users' ('reader' is a built-in role: "
            "give the user a role from auth.roles that grants it)");
}

}  // namespace
}  // namespace dataforge::auth

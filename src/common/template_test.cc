#include "common/template.h"

#include <gtest/gtest.h>

namespace dataforge {
namespace {

std::optional<std::string> Vars(std::string_view name) {
  if (name == "ds") return "2026-01-31";
  if (name == "conf.table") return "users";
  return std::nullopt;
}

TEST(TemplateTest, RendersPlaceholdersWithAndWithoutSpaces) {
  auto r = RenderTemplate("day={{ ds }} t={{conf.table}} again {{  ds  }}", Vars);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, "day=2026-01-31 t=users again 2026-01-31");
}

TEST(TemplateTest, TextWithoutPlaceholdersIsUnchanged) {
  auto r = RenderTemplate("SELECT '{ not one }' FROM t", Vars);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "SELECT '{ not one }' FROM t");
}

TEST(TemplateTest, UnknownVariableNamesItAndTheText) {
  auto r = RenderTemplate("x {{ dss }}", Vars);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "unknown template variable 'dss' in 'x {{ dss }}'");
}

TEST(TemplateTest, UnclosedAndMalformedPlaceholdersAreErrors) {
  auto a = TemplateNames("x {{ ds ");
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().message(), "'{{' without a closing '}}' in 'x {{ ds '");
  auto b = TemplateNames("{{ ds | upper }}");
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().message(),
            "'{{ ds | upper }}' in '{{ ds | upper }}' is not a variable name (write e.g. {{ ds "
            "}})");
  EXPECT_FALSE(TemplateNames("{{}}").ok());
}

TEST(TemplateTest, NamesInOrder) {
  auto n = TemplateNames("{{ a }}{{b.c}} {{ a }}");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, (std::vector<std::string>{"a", "b.c", "a"}));
}

}  // namespace
}  // namespace dataforge

#include "store/cassandra/cassandra_url.h"

#include <gtest/gtest.h>

namespace dataforge {
namespace {

CassandraUrl MustParse(const std::string& url, const CassandraOptions& defaults = {}) {
  auto r = ParseCassandraUrl(url, defaults);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : CassandraUrl{};
}

std::string ErrorOf(const std::string& url) {
  auto r = ParseCassandraUrl(url, {});
  EXPECT_FALSE(r.ok()) << url;
  EXPECT_EQ(r.status().code(), StatusCode::kConfigError) << url;
  return r.status().message();
}

TEST(CassandraUrlTest, HostOnlyUsesDefaults) {
  CassandraOptions defaults;
  defaults.consistency = "QUORUM";
  CassandraUrl u = MustParse("cassandra://db1", defaults);
  ASSERT_EQ(u.hosts.size(), 1u);
  EXPECT_EQ(u.hosts[0], (std::pair<std::string, int>{"db1", 9042}));
  EXPECT_EQ(u.keyspace, "");
  EXPECT_EQ(u.options.consistency, "QUORUM");
  EXPECT_EQ(u.options.username, "");
}

TEST(CassandraUrlTest, FullUrl) {
  CassandraUrl u = MustParse(
      "cassandra://app:p%40ss@10.0.0.1:9142,10.0.0.2,[::1]:9043/shop?consistency=LOCAL_ONE&"
      "local_dc=dc1&tls=1&tls_ca=/etc/ca.pem&tls_cert=/c.pem&tls_key=/k.pem&"
      "tls_verify_hostname=0&connections=3&max_in_flight=64&request_timeout_ms=2500&"
      "connect_timeout_ms=700&max_retries=4");
  ASSERT_EQ(u.hosts.size(), 3u);
  EXPECT_EQ(u.hosts[0], (std::pair<std::string, int>{"10.0.0.1", 9142}));
  EXPECT_EQ(u.hosts[1], (std::pair<std::string, int>{"10.0.0.2", 9042}));
  EXPECT_EQ(u.hosts[2], (std::pair<std::string, int>{"::1", 9043}));
  EXPECT_EQ(u.keyspace, "shop");
  EXPECT_EQ(u.options.username, "app");
  EXPECT_EQ(u.options.password, "p@ss");
  EXPECT_EQ(u.options.consistency, "LOCAL_ONE");
  EXPECT_EQ(u.options.local_datacenter, "dc1");
  EXPECT_TRUE(u.options.tls);
  EXPECT_EQ(u.options.tls_ca_file, "/etc/ca.pem");
  EXPECT_EQ(u.options.tls_cert_file, "/c.pem");
  EXPECT_EQ(u.options.tls_key_file, "/k.pem");
  EXPECT_FALSE(u.options.tls_verify_hostname);
  EXPECT_EQ(u.options.connections_per_host, 3);
  EXPECT_EQ(u.options.max_in_flight_per_connection, 64);
  EXPECT_EQ(u.options.request_timeout_ms, 2500);
  EXPECT_EQ(u.options.connect_timeout_ms, 700);
  EXPECT_EQ(u.options.max_retries, 4);
}

TEST(CassandraUrlTest, TrailingSlashMeansNoKeyspace) {
  EXPECT_EQ(MustParse("cassandra://h/").keyspace, "");
  EXPECT_EQ(MustParse("cassandra://h/ks/").keyspace, "ks");
}

TEST(CassandraUrlTest, ExactErrors) {
  EXPECT_EQ(ErrorOf("rocksdb://x"),
            "store url 'rocksdb://x': not a cassandra:// URL; write "
            "cassandra://host[:port][/keyspace]");
  EXPECT_EQ(ErrorOf("cassandra://"),
            "store url 'cassandra://': no host; write cassandra://host[:port]");
  EXPECT_EQ(ErrorOf("cassandra://a,,b"),
            "store url 'cassandra://a,,b': empty host in 'a,,b'; separate hosts with one ','");
  EXPECT_EQ(ErrorOf("cassandra://h:99999"),
            "store url 'cassandra://h:99999': port '99999' of host 'h' is not a number in "
            "1..65535");
  EXPECT_EQ(ErrorOf("cassandra://h:"),
            "store url 'cassandra://h:': host 'h:' has an empty port; write host:9042 or drop ':'");
  EXPECT_EQ(ErrorOf("cassandra://[::1:9042"),
            "store url 'cassandra://[::1:9042': host '[::1:9042' has no closing ']'; write "
            "[::1]:9042");
  EXPECT_EQ(ErrorOf("cassandra://h/My-Keyspace"),
            "store url 'cassandra://h/My-Keyspace': keyspace 'My-Keyspace' is not a plain CQL "
            "name; use lower-case letters, digits and _ (starting with a letter, at most 48 "
            "characters)");
  EXPECT_EQ(ErrorOf("cassandra://h?consistency=MOST"),
            "store url 'cassandra://h?consistency=MOST': option consistency='MOST' is invalid; "
            "expected ONE, QUORUM, LOCAL_QUORUM, LOCAL_ONE, ALL, ...");
  EXPECT_EQ(ErrorOf("cassandra://h?connections=0"),
            "store url 'cassandra://h?connections=0': option connections='0' is invalid; "
            "expected a number in 1..64");
  EXPECT_EQ(ErrorOf("cassandra://h?tls=yes"),
            "store url 'cassandra://h?tls=yes': option tls='yes' is invalid; expected 0 or 1");
  EXPECT_EQ(ErrorOf("cassandra://h?colour=blue"),
            "store url 'cassandra://h?colour=blue': unknown option 'colour'; known options: "
            "consistency, local_dc, tls, tls_ca, tls_cert, tls_key, tls_verify_hostname, "
            "connections, max_in_flight, request_timeout_ms, connect_timeout_ms, max_retries");
  EXPECT_EQ(ErrorOf("cassandra://h?tls"),
            "store url 'cassandra://h?tls': option 'tls' needs a value; write tls=VALUE");
  EXPECT_EQ(ErrorOf("cassandra://h?tls_ca=/ca.pem"),
            "store url 'cassandra://h?tls_ca=/ca.pem': tls_ca/tls_cert given without tls=1; add "
            "tls=1 or drop them");
  EXPECT_EQ(ErrorOf("cassandra://:pw@h"),
            "store url 'cassandra://:***@h': empty user before '@'; write "
            "cassandra://user:password@host or drop the '@'");
}

TEST(CassandraUrlTest, ErrorsNeverShowThePassword) {
  std::string e = ErrorOf("cassandra://u:secret@h:0");
  EXPECT_EQ(e.find("secret"), std::string::npos) << e;
  EXPECT_EQ(e,
            "store url 'cassandra://u:***@h:0': port '0' of host 'h' is not a number in 1..65535");
}

TEST(CassandraUrlTest, BadPercentEncoding) {
  EXPECT_EQ(ErrorOf("cassandra://u:p%4@h"),
            "store url 'cassandra://u:***@h': bad percent-encoding in user:password; write %XX "
            "with two hex digits");
}

TEST(CassandraUrlTest, PlainIdentifiers) {
  EXPECT_TRUE(IsPlainCqlIdentifier("users_2"));
  EXPECT_FALSE(IsPlainCqlIdentifier("2users"));
  EXPECT_FALSE(IsPlainCqlIdentifier("Users"));
  EXPECT_FALSE(IsPlainCqlIdentifier(""));
  EXPECT_FALSE(IsPlainCqlIdentifier(std::string(49, 'a')));
}

}  // namespace
}  // namespace dataforge

// Addresses: the literals and "localhost" a node's configuration may hold, and clear errors.
#include "transport/address.h"

#include <gtest/gtest.h>

namespace paxcron::transport {
namespace {

std::string RoundTrip(const std::string& address) {
  Result<SocketAddress> parsed = ParseAddress(address);
  if (!parsed.ok()) return parsed.status().message();
  return FormatAddress(parsed.value().get());
}

TEST(Address, LiteralsAndLocalhostParse) {
  EXPECT_EQ(RoundTrip("127.0.0.1:7000"), "127.0.0.1:7000");
  EXPECT_EQ(RoundTrip("localhost:0"), "127.0.0.1:0");
  EXPECT_EQ(RoundTrip("[::1]:65535"), "[::1]:65535");
  EXPECT_EQ(RoundTrip("0.0.0.0:80"), "0.0.0.0:80");
}

TEST(Address, ErrorsNameTheAddressAndTheProblem) {
  EXPECT_EQ(RoundTrip("no-port"), "address 'no-port' is not host:port");
  EXPECT_EQ(RoundTrip("127.0.0.1:"), "address '127.0.0.1:': no port, or not a port: ''");
  EXPECT_EQ(RoundTrip("127.0.0.1:70000"), "address '127.0.0.1:70000': port 70000 is over 65535");
  EXPECT_EQ(RoundTrip("127.0.0.1:7x"), "address '127.0.0.1:7x': the port '7x' is not a number");
  EXPECT_EQ(RoundTrip("example.com:80"),
            "address 'example.com:80': the host is not an IPv4 literal, a bracketed IPv6 literal "
            "or localhost");
  EXPECT_FALSE(ParseAddress("::1:80").ok());  // IPv6 needs its brackets
  EXPECT_FALSE(ParseAddress("[::1]").ok());
}

}  // namespace
}  // namespace paxcron::transport

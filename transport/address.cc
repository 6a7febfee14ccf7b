#include "transport/address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

namespace paxcron::transport {
namespace {

Result<uint16_t> ParsePort(const std::string& address, const std::string& text) {
  if (text.empty() || text.size() > 5) {
    return Status::Error("address '" + address + "': no port, or not a port: '" + text + "'");
  }
  uint32_t port = 0;
  for (char c : text) {
    if (c < '0' || c > '9') {
      return Status::Error("address '" + address + "': the port '" + text + "' is not a number");
    }
    port = port * 10 + static_cast<uint32_t>(c - '0');
  }
  if (port > 65535) {
    return Status::Error("address '" + address + "': port " + text + " is over 65535");
  }
  return static_cast<uint16_t>(port);
}

}  // namespace

Result<SocketAddress> ParseAddress(const std::string& address) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos) {
    return Status::Error("address '" + address + "' is not host:port");
  }
  std::string host = address.substr(0, colon);
  Result<uint16_t> port = ParsePort(address, address.substr(colon + 1));
  if (!port.ok()) return port.status();
  if (host == "localhost") host = "127.0.0.1";
  SocketAddress result;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&result.storage);
    if (inet_pton(AF_INET6, host.substr(1, host.size() - 2).c_str(), &v6->sin6_addr) == 1) {
      v6->sin6_family = AF_INET6;
      v6->sin6_port = htons(port.value());
      result.length = sizeof(sockaddr_in6);
      return result;
    }
  } else {
    auto* v4 = reinterpret_cast<sockaddr_in*>(&result.storage);
    if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
      v4->sin_family = AF_INET;
      v4->sin_port = htons(port.value());
      result.length = sizeof(sockaddr_in);
      return result;
    }
  }
  return Status::Error("address '" + address +
                       "': the host is not an IPv4 literal, a bracketed IPv6 literal or localhost");
}

std::string FormatAddress(const sockaddr* address, bool with_port) {
  char host[INET6_ADDRSTRLEN] = {};
  std::string text;
  uint16_t port = 0;
  if (address->sa_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(address);
    inet_ntop(AF_INET, &v4->sin_addr, host, sizeof(host));
    text = host;
    port = ntohs(v4->sin_port);
  } else if (address->sa_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(address);
    inet_ntop(AF_INET6, &v6->sin6_addr, host, sizeof(host));
    text = "[" + std::string(host) + "]";
    port = ntohs(v6->sin6_port);
  } else {
    return "(address family " + std::to_string(address->sa_family) + ")";
  }
  return with_port ? text + ":" + std::to_string(port) : text;
}

}  // namespace paxcron::transport

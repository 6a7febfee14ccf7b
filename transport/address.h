// "host:port" addresses for the transport and the client: an IPv4 literal, an IPv6 literal in
// brackets ("[::1]:7000"), or "localhost" (127.0.0.1). No name resolution: a node's peers are
// configured by address, and a lookup that can stall has no place on the event loop. Pure.
#pragma once

#include <sys/socket.h>

#include <string>

#include "common/status.h"

namespace paxcron::transport {

struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
};

// Errors name the address and what is wrong with it.
Result<SocketAddress> ParseAddress(const std::string& address);

// The numeric form, "127.0.0.1:7000" or "[::1]:7000"; with_port=false gives the host alone.
std::string FormatAddress(const sockaddr* address, bool with_port = true);

}  // namespace paxcron::transport

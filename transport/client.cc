#include "transport/client.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "transport/address.h"
#include "transport/frame.h"
#include "transport/handshake.h"
#include "transport/transport.h"

namespace paxcron::transport {

// A point in time on the monotonic clock, by which an operation must be done.
class Client::Deadline {
 public:
  explicit Deadline(int64_t timeout_ms)
      : timeout_ms_(timeout_ms),
        end_(std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms)) {}
  int RemainingMs() const {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        end_ - std::chrono::steady_clock::now());
    return static_cast<int>(std::clamp<int64_t>(left.count(), 0, 24 * 3600 * 1000));
  }
  int64_t timeout_ms() const { return timeout_ms_; }

 private:
  int64_t timeout_ms_;
  std::chrono::steady_clock::time_point end_;
};

namespace {

std::string Errno(std::string_view what) { return std::string(what) + ": " + std::strerror(errno); }

}  // namespace

Result<std::unique_ptr<Client>> Client::Connect(const std::string& address,
                                                const std::string& secret, int64_t timeout_ms,
                                                uint32_t max_frame_bytes) {
  const Deadline deadline(timeout_ms);
  if (secret.size() < kSecretMinBytes) {
    return Status::Error("connect to " + address + ": the secret is " +
                         std::to_string(secret.size()) + " bytes, under the minimum of " +
                         std::to_string(kSecretMinBytes));
  }
  Result<SocketAddress> parsed = ParseAddress(address);
  if (!parsed.ok()) return parsed.status();
  const int fd =
      socket(parsed.value().get()->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::Error(Errno("connect to " + address + ": socket"));
  std::unique_ptr<Client> client(new Client(fd, address, max_frame_bytes));
  client->send_timeout_ms_ = timeout_ms;
  if (connect(fd, parsed.value().get(), parsed.value().length) != 0) {
    if (errno != EINPROGRESS) return Status::Error(Errno("connect to " + address));
    Status writable = client->WaitFor(POLLOUT, deadline, "connect");
    if (!writable.ok()) return writable;
    int error = 0;
    socklen_t length = sizeof(error);
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) {
      return Status::Error(Errno("connect to " + address));
    }
    if (error != 0) {
      errno = error;  // the connect's own failure, for Errno()
      return Status::Error(Errno("connect to " + address));
    }
  }
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

  DialerHandshake handshake(secret, pb::CLIENT, 0, 0, NewNonce());
  Status hello = client->SendBy(handshake.Hello(), deadline);
  if (!hello.ok()) return hello;
  Result<std::string> challenge = client->ReceiveBy(deadline, kHandshakeFrameMax);
  if (!challenge.ok()) return challenge.status();
  HandshakeStep step = handshake.OnFrame(challenge.value());
  PAXCRON_ASSERT(step.outcome != HandshakeStep::Outcome::kContinue);  // one round trip
  // Authenticated, the reply is our proof; refused, an empty one that tells the node why.
  Status sent = step.reply.empty() ? Status::Ok() : client->SendBy(step.reply, deadline);
  if (step.outcome != HandshakeStep::Outcome::kAuthenticated) {
    return Status::Error("authenticate with " + address + ": " + step.error);
  }
  if (!sent.ok()) return sent;
  return client;
}

Client::~Client() {
  if (fd_ >= 0) close(fd_);
}

Result<std::string> Client::Call(std::string_view request, int64_t timeout_ms) {
  const Deadline deadline(timeout_ms);
  Status sent = SendBy(request, deadline);
  if (!sent.ok()) return sent;
  return ReceiveBy(deadline, max_frame_bytes_);
}

Status Client::Send(std::string_view frame) { return SendBy(frame, Deadline(send_timeout_ms_)); }

Result<std::string> Client::Receive(int64_t timeout_ms) {
  return ReceiveBy(Deadline(timeout_ms), max_frame_bytes_);
}

Status Client::WaitFor(short events, const Deadline& deadline, std::string_view what) {
  while (true) {
    pollfd entry{fd_, events, 0};
    const int ready = poll(&entry, 1, deadline.RemainingMs());
    if (ready > 0) return Status::Ok();
    if (ready == 0) {
      return Status::Error(std::string(what) + " " + address_ + ": timed out after " +
                           std::to_string(deadline.timeout_ms()) + " ms");
    }
    if (errno != EINTR) return Status::Error(Errno(std::string(what) + " " + address_ + ": poll"));
  }
}

Status Client::SendBy(std::string_view frame, const Deadline& deadline) {
  if (frame.size() > max_frame_bytes_) {
    return Status::Error("send to " + address_ + ": " +
                         OversizedFrame(frame.size(), max_frame_bytes_).message());
  }
  std::string framed;
  AppendFrame(frame, framed);
  size_t sent = 0;
  while (sent < framed.size()) {
    // MSG_NOSIGNAL: a node that reset the connection is an error value, not a SIGPIPE.
    const ssize_t n = send(fd_, framed.data() + sent, framed.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      Status writable = WaitFor(POLLOUT, deadline, "send to");
      if (!writable.ok()) return writable;
    } else if (errno != EINTR) {
      return Status::Error(Errno("send to " + address_));
    }
  }
  return Status::Ok();
}

Result<std::string> Client::ReceiveBy(const Deadline& deadline, uint32_t max_frame_bytes) {
  while (true) {
    if (const std::optional<uint32_t> length = PeekFrameLength(buffer_)) {
      if (*length > max_frame_bytes) {
        return Status::Error("receive from " + address_ + ": " +
                             OversizedFrame(*length, max_frame_bytes).message());
      }
      if (buffer_.size() >= kFrameHeaderBytes + *length) {
        std::string payload = buffer_.substr(kFrameHeaderBytes, *length);
        buffer_.erase(0, kFrameHeaderBytes + *length);
        return payload;
      }
    }
    Status readable = WaitFor(POLLIN, deadline, "receive from");
    if (!readable.ok()) return readable;
    char chunk[64 * 1024];
    const ssize_t n = recv(fd_, chunk, sizeof(chunk), 0);
    if (n > 0) {
      buffer_.append(chunk, static_cast<size_t>(n));
    } else if (n == 0) {
      return Status::Error("receive from " + address_ + ": the node closed the connection");
    } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      return Status::Error(Errno("receive from " + address_));
    }
  }
}

}  // namespace paxcron::transport

// Real connections on 127.0.0.1 through a real libuv loop: peers both ways, a client's call, and
// everything a node must survive (a wrong secret, garbage, oversized lengths, silence, a peer that
// restarts, a full send queue). Every loop run is bounded by a timer, so no test can hang.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>
#include <vector>

#include "common/little_endian.h"
#include "transport/client.h"
#include "transport/frame.h"
#include "transport/handshake.h"
#include "transport/transport.h"
#include "transport/transport_impl.h"  // kHandshakesInProgressMax

namespace paxcron::transport {
namespace {

const std::string kSecret = "loopback-test-secret-0123456789";
constexpr int64_t kRunMaxMs = 5000;  // no single wait in these tests needs more

// A uv loop that runs until a condition holds or a deadline passes, and that checks at the end
// that every handle was closed and freed.
class Loop {
 public:
  Loop() { PAXCRON_ASSERT(uv_loop_init(&loop_) == 0); }
  ~Loop() {
    // Lets the close callbacks run; a handle left open would keep the loop alive forever, so this
    // is bounded too, and uv_loop_close reports it.
    for (int i = 0; i < 100 && uv_loop_alive(&loop_); ++i) uv_run(&loop_, UV_RUN_NOWAIT);
    EXPECT_EQ(uv_loop_close(&loop_), 0) << "a handle was left open";
  }
  uv_loop_t* get() { return &loop_; }

  // Runs the loop until `done()` (checked every few milliseconds) or `timeout_ms`; returns done().
  bool RunUntil(const std::function<bool()>& done, int64_t timeout_ms = kRunMaxMs) {
    struct Watch {
      const std::function<bool()>* done;
      std::chrono::steady_clock::time_point deadline;
    } watch{&done, std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms)};
    uv_timer_t tick;
    uv_timer_init(&loop_, &tick);
    tick.data = &watch;
    uv_timer_start(
        &tick,
        [](uv_timer_t* timer) {
          auto* w = static_cast<Watch*>(timer->data);
          if ((*w->done)() || std::chrono::steady_clock::now() > w->deadline) {
            uv_stop(timer->loop);
          }
        },
        0, 5);
    uv_run(&loop_, UV_RUN_DEFAULT);
    uv_close(reinterpret_cast<uv_handle_t*>(&tick), nullptr);
    uv_run(&loop_, UV_RUN_NOWAIT);  // the tick's close
    return done();
  }
  void RunFor(int64_t ms) {
    RunUntil([] { return false; }, ms);
  }

 private:
  uv_loop_t loop_;
};

// Records what a node hears; echoes client frames back when `echo` is set.
struct Recorder : TransportHandler {
  void OnPeerFrame(uint32_t peer_id, std::string_view payload) override {
    peer_frames.emplace_back(peer_id, std::string(payload));
    if (on_peer_frame) on_peer_frame(peer_id, payload);
  }
  void OnClientFrame(ConnectionId connection, std::string_view payload) override {
    client_frames.emplace_back(connection, std::string(payload));
    if (echo != nullptr) echo->SendToClient(connection, payload);
    if (on_client_frame) on_client_frame(connection, payload);
  }
  void OnClientClosed(ConnectionId connection) override { closed_clients.push_back(connection); }
  void OnPeerConnected(uint32_t peer_id) override { connected_peers.push_back(peer_id); }

  Transport* echo = nullptr;
  std::function<void(uint32_t, std::string_view)> on_peer_frame;
  std::function<void(ConnectionId, std::string_view)> on_client_frame;
  std::vector<std::pair<uint32_t, std::string>> peer_frames;
  std::vector<std::pair<ConnectionId, std::string>> client_frames;
  std::vector<ConnectionId> closed_clients;
  std::vector<uint32_t> connected_peers;
};

// A node: a Transport listening on 127.0.0.1 (port 0 unless given), with a recorder and a log.
// `address` is fixed once listening, so a client thread may read it.
struct Node {
  Node(Loop& loop, uint32_t id, TransportOptions options = {}, uint16_t port = 0) {
    options.self_id = id;
    if (options.secret.empty()) options.secret = kSecret;
    transport = std::make_unique<Transport>(
        loop.get(), options, &recorder, [this](std::string_view line) { log.emplace_back(line); });
    const Status listening = transport->Listen("127.0.0.1:" + std::to_string(port));
    EXPECT_TRUE(listening.ok()) << listening.message();
    address = "127.0.0.1:" + std::to_string(transport->listen_port());
  }
  const TransportStats& stats() const { return transport->stats(); }
  size_t LogLines(std::string_view containing) const {
    size_t n = 0;
    for (const std::string& line : log) n += line.find(containing) != std::string::npos;
    return n;
  }

  Recorder recorder;
  std::vector<std::string> log;
  std::unique_ptr<Transport> transport;
  std::string address;
};

// Node 1, echoing every client frame back.
struct EchoNode : Node {
  explicit EchoNode(Loop& loop, TransportOptions options = {}) : Node(loop, 1, options) {
    recorder.echo = transport.get();
  }
};

// Runs `work` on its own thread (a blocking client) while the loop runs; bounded like RunUntil.
void RunAlongside(Loop& loop, const std::function<void()>& work) {
  std::atomic<bool> done{false};
  std::thread thread([&] {
    work();
    done = true;
  });
  const bool finished = loop.RunUntil([&] { return done.load(); }, 10'000);
  thread.join();  // the client's own timeouts end it even if the loop stopped waiting
  EXPECT_TRUE(finished);
}

// A raw socket that writes `bytes` and reports whether the node then closed the connection
// within `timeout_ms` (what a node must do with garbage). Blocking; run it alongside the loop.
bool NodeClosesAfter(uint16_t port, const std::string& bytes, int timeout_ms = 3000) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    close(fd);
    return false;
  }
  if (!bytes.empty()) (void)send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  bool closed = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!closed && std::chrono::steady_clock::now() < deadline) {
    pollfd entry{fd, POLLIN, 0};
    if (poll(&entry, 1, 50) <= 0) continue;
    char buffer[4096];
    const ssize_t n = recv(fd, buffer, sizeof(buffer), 0);  // a Challenge may come first
    closed = n == 0 || (n < 0 && errno == ECONNRESET);
  }
  close(fd);
  return closed;
}

std::string Framed(std::string_view payload) {
  std::string out;
  AppendFrame(payload, out);
  return out;
}

void ConnectBothWays(Loop& loop, Node& a, Node& b) {
  ASSERT_TRUE(a.transport->AddPeer(2, b.address).ok());
  ASSERT_TRUE(b.transport->AddPeer(1, a.address).ok());
  ASSERT_TRUE(loop.RunUntil(
      [&] { return a.transport->PeerConnected(2) && b.transport->PeerConnected(1); }));
}

TEST(Loopback, PeersExchangeFramesBothWays) {
  Loop loop;
  Node a(loop, 1), b(loop, 2);
  ConnectBothWays(loop, a, b);
  EXPECT_EQ(a.recorder.connected_peers, std::vector<uint32_t>{2});
  const std::string big(3 * 1024 * 1024 + 7, 'B');  // many reads, and a frame split across them
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(a.transport->SendToPeer(2, "a" + std::to_string(i)));
  ASSERT_TRUE(a.transport->SendToPeer(2, big));
  ASSERT_TRUE(b.transport->SendToPeer(1, "from b"));
  ASSERT_TRUE(loop.RunUntil(
      [&] { return b.recorder.peer_frames.size() == 101 && a.recorder.peer_frames.size() == 1; }));
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(b.recorder.peer_frames[i], std::make_pair(1u, "a" + std::to_string(i)));
  }
  EXPECT_EQ(b.recorder.peer_frames[100].second, big);
  EXPECT_EQ(a.recorder.peer_frames[0], std::make_pair(2u, std::string("from b")));
  EXPECT_EQ(a.stats().connects, 1u);
  EXPECT_EQ(a.stats().accepts, 1u);
  EXPECT_EQ(a.stats().frames_sent, 101u);
  EXPECT_EQ(b.stats().frames_received, 101u);
  EXPECT_EQ(b.stats().bytes_received, a.stats().bytes_sent);
  EXPECT_TRUE(a.log.empty()) << a.log.front();
}

TEST(Loopback, AClientCallGetsAnEchoAndItsCloseIsReported) {
  Loop loop;
  EchoNode node(loop);
  RunAlongside(loop, [&] {
    auto client = Client::Connect(node.address, kSecret, 3000);
    ASSERT_TRUE(client.ok()) << client.status().message();
    auto reply = client.value()->Call("ping", 3000);
    ASSERT_TRUE(reply.ok()) << reply.status().message();
    EXPECT_EQ(reply.value(), "ping");
    // The two halves, several frames in flight.
    ASSERT_TRUE(client.value()->Send("one").ok());
    ASSERT_TRUE(client.value()->Send(std::string(100'000, 'x')).ok());
    EXPECT_EQ(client.value()->Receive(3000).value(), "one");
    EXPECT_EQ(client.value()->Receive(3000).value(), std::string(100'000, 'x'));
  });
  ASSERT_TRUE(loop.RunUntil([&] { return node.recorder.closed_clients.size() == 1; }));
  ASSERT_EQ(node.recorder.client_frames.size(), 3u);
  EXPECT_EQ(node.recorder.closed_clients[0], node.recorder.client_frames[0].first);
  EXPECT_EQ(node.stats().accepts, 1u);
  EXPECT_EQ(node.stats().auth_failures, 0u);
}

TEST(Loopback, AWrongSecretIsRefusedAndCountedAndTheNodeServesOthers) {
  Loop loop;
  EchoNode node(loop);
  RunAlongside(loop, [&] {
    auto refused = Client::Connect(node.address, "a-wrong-secret-0123456789", 3000);
    ASSERT_FALSE(refused.ok());
    EXPECT_NE(refused.status().message().find("secrets differ"), std::string::npos)
        << refused.status().message();
    auto client = Client::Connect(node.address, kSecret, 3000);
    ASSERT_TRUE(client.ok()) << client.status().message();
    EXPECT_EQ(client.value()->Call("still here", 3000).value(), "still here");
  });
  ASSERT_TRUE(loop.RunUntil([&] { return node.stats().auth_failures == 1; }));
  EXPECT_EQ(node.stats().accepts, 1u);
  EXPECT_EQ(node.LogLines("auth-failure"), 1u);
}

TEST(Loopback, APeerWithAWrongSecretIsCountedOnBothSidesAndLoggedOnce) {
  Loop loop;
  TransportOptions wrong;
  wrong.secret = "a-wrong-secret-0123456789";
  wrong.reconnect_min_ms = 10;
  wrong.reconnect_max_ms = 20;
  Node a(loop, 1, wrong), b(loop, 2);
  ASSERT_TRUE(a.transport->AddPeer(2, b.address).ok());
  // Dial after dial fails; each is counted, each side logs it once.
  ASSERT_TRUE(loop.RunUntil([&] { return b.stats().auth_failures >= 3; }));
  EXPECT_GE(a.stats().auth_failures, 3u);
  EXPECT_FALSE(a.transport->PeerConnected(2));
  EXPECT_TRUE(a.recorder.connected_peers.empty());
  EXPECT_EQ(b.stats().accepts, 0u);
  EXPECT_EQ(a.LogLines("auth-failure"), 1u);
  EXPECT_EQ(b.LogLines("auth-failure"), 1u);
  EXPECT_EQ(a.LogLines("secrets differ"), 1u) << a.log.front();
}

TEST(Loopback, GarbageOversizedLengthsAndSilenceCloseTheConnectionAndAreCounted) {
  Loop loop;
  TransportOptions options;
  options.handshake_timeout_ms = 300;
  options.max_frame_bytes = 1 << 20;
  EchoNode node(loop, options);
  const uint16_t port = node.transport->listen_port();
  std::string huge_length, handshake_too_long;
  PutLittleEndian<uint32_t>(0xffffffff, huge_length);
  PutLittleEndian<uint32_t>(kHandshakeFrameMax + 1, handshake_too_long);
  pb::Handshake proof_first;
  proof_first.mutable_proof()->set_proof(std::string(kProofBytes, 'p'));
  RunAlongside(loop, [&] {
    EXPECT_TRUE(NodeClosesAfter(port, Framed("\x01\x02 not a protobuf \xff\xff")));
    EXPECT_TRUE(NodeClosesAfter(port, huge_length));
    EXPECT_TRUE(NodeClosesAfter(port, handshake_too_long + std::string(100, 'x')));
    EXPECT_TRUE(NodeClosesAfter(port, Framed(proof_first.SerializeAsString())));
    EXPECT_TRUE(NodeClosesAfter(port, ""));                        // silence
    EXPECT_TRUE(NodeClosesAfter(port, huge_length.substr(0, 2)));  // half a header, then silence
    // And the node still serves a real client.
    auto client = Client::Connect(node.address, kSecret, 3000);
    ASSERT_TRUE(client.ok()) << client.status().message();
    EXPECT_EQ(client.value()->Call("fine", 3000).value(), "fine");
  });
  EXPECT_EQ(node.stats().malformed_frames, 1u);
  EXPECT_EQ(node.stats().oversized_frames, 2u);
  EXPECT_EQ(node.stats().auth_failures, 1u);
  EXPECT_EQ(node.stats().handshake_timeouts, 2u);
  EXPECT_EQ(node.stats().accepts, 1u);
  // Logged once per kind from this address: the two timeouts make one line.
  EXPECT_EQ(node.LogLines("handshake-timeout"), 1u);
  EXPECT_EQ(node.LogLines("oversized"), 1u);
}

TEST(Loopback, AnOversizedFrameAfterAuthenticationClosesTheConnection) {
  Loop loop;
  TransportOptions small;
  small.max_frame_bytes = 4096;
  EchoNode node(loop, small);
  RunAlongside(loop, [&] {
    // The client's own limit is higher, so it sends what the node refuses.
    auto client = Client::Connect(node.address, kSecret, 3000, 1 << 20);
    ASSERT_TRUE(client.ok()) << client.status().message();
    EXPECT_EQ(client.value()->Call(std::string(4096, 'a'), 3000).value(), std::string(4096, 'a'));
    EXPECT_FALSE(client.value()->Call(std::string(4097, 'z'), 3000).ok());
  });
  EXPECT_EQ(node.stats().oversized_frames, 1u);
  EXPECT_EQ(node.recorder.client_frames.size(), 1u);
  EXPECT_EQ(node.recorder.closed_clients.size(), 1u);
}

TEST(Loopback, APeerThatRestartsOnTheSamePortIsReconnected) {
  Loop loop;
  TransportOptions fast;
  fast.reconnect_min_ms = 20;
  fast.reconnect_max_ms = 100;
  Node a(loop, 1, fast);
  auto b = std::make_unique<Node>(loop, 2);
  const uint16_t port = b->transport->listen_port();
  ASSERT_TRUE(a.transport->AddPeer(2, b->address).ok());
  ASSERT_TRUE(loop.RunUntil([&] { return a.transport->PeerConnected(2); }));
  b.reset();  // destroyed with its connections; the loop frees them
  ASSERT_TRUE(loop.RunUntil([&] { return !a.transport->PeerConnected(2); }));
  EXPECT_FALSE(a.transport->SendToPeer(2, "into the void"));
  EXPECT_EQ(a.stats().sends_dropped, 1u);
  loop.RunFor(300);  // a few refused dials
  b = std::make_unique<Node>(loop, 2, TransportOptions{}, port);
  ASSERT_TRUE(loop.RunUntil([&] { return a.transport->PeerConnected(2); }));
  EXPECT_EQ(a.recorder.connected_peers, (std::vector<uint32_t>{2, 2}));
  EXPECT_EQ(a.stats().connects, 2u);
  ASSERT_TRUE(a.transport->SendToPeer(2, "welcome back"));
  ASSERT_TRUE(loop.RunUntil([&] { return b->recorder.peer_frames.size() == 1; }));
  EXPECT_EQ(b->recorder.peer_frames[0].second, "welcome back");
  // The outage was logged once per kind, and its end.
  EXPECT_EQ(a.LogLines("io-error: connect: connection refused"), 1u);
  EXPECT_EQ(a.LogLines(": connected"), 1u);
}

TEST(Loopback, ASendQueueOverflowClosesTheConnectionAndIsCounted) {
  Loop loop;
  TransportOptions small_queue;
  small_queue.send_queue_max_bytes = 1 << 20;
  small_queue.reconnect_min_ms = 10;
  Node a(loop, 1, small_queue), b(loop, 2);
  ASSERT_TRUE(a.transport->AddPeer(2, b.address).ok());
  ASSERT_TRUE(loop.RunUntil([&] { return a.transport->PeerConnected(2); }));
  // Without the loop running, nothing drains the queue past the first write.
  const std::string chunk(64 * 1024, 'q');
  int sent = 0;
  while (sent < 100 && a.transport->SendToPeer(2, chunk)) ++sent;
  EXPECT_LT(sent, 100);
  EXPECT_GE(sent, 15);
  EXPECT_EQ(a.stats().send_queue_overflows, 1u);
  EXPECT_FALSE(a.transport->PeerConnected(2));
  EXPECT_EQ(a.LogLines("send-queue-overflow"), 1u);
  // It comes back by itself.
  ASSERT_TRUE(loop.RunUntil([&] { return a.transport->PeerConnected(2); }));
  EXPECT_EQ(a.stats().connects, 2u);
}

TEST(Loopback, SendsThatCannotGoAreRefusedAndCounted) {
  Loop loop;
  TransportOptions small;
  small.max_frame_bytes = 2048;
  Node a(loop, 1, small), b(loop, 2, small);
  EXPECT_FALSE(a.transport->SendToPeer(7, "no such peer"));
  ASSERT_TRUE(a.transport->AddPeer(2, b.address).ok());
  EXPECT_FALSE(a.transport->SendToPeer(2, "not connected yet"));
  ASSERT_TRUE(loop.RunUntil([&] { return a.transport->PeerConnected(2); }));
  EXPECT_FALSE(a.transport->SendToPeer(2, std::string(2049, 'x')));  // over the limit
  EXPECT_FALSE(a.transport->SendToClient(12345, "no such client"));
  EXPECT_EQ(a.stats().sends_dropped, 4u);
  EXPECT_TRUE(a.transport->PeerConnected(2));  // none of it closed the connection
  EXPECT_FALSE(a.transport->AddPeer(2, b.address).ok());
  EXPECT_FALSE(a.transport->AddPeer(3, "nowhere").ok());
  EXPECT_FALSE(a.transport->Listen("127.0.0.1:0").ok());  // already listening
}

TEST(Loopback, TheHandlerMayCloseOrShutDownFromInsideACallback) {
  Loop loop;
  Node a(loop, 1), b(loop, 2);
  b.recorder.on_peer_frame = [&](uint32_t, std::string_view payload) {
    if (payload == "stop") b.transport->Shutdown();
  };
  ASSERT_TRUE(a.transport->AddPeer(2, b.address).ok());
  ASSERT_TRUE(loop.RunUntil([&] { return a.transport->PeerConnected(2); }));
  // Frames after "stop" arrive in the same read; none may be delivered after the shutdown.
  ASSERT_TRUE(a.transport->SendToPeer(2, "first"));
  ASSERT_TRUE(a.transport->SendToPeer(2, "stop"));
  ASSERT_TRUE(a.transport->SendToPeer(2, "after"));
  ASSERT_TRUE(loop.RunUntil([&] { return !a.transport->PeerConnected(2); }));
  ASSERT_EQ(b.recorder.peer_frames.size(), 2u);
  EXPECT_EQ(b.recorder.peer_frames[1].second, "stop");

  Node c(loop, 3);
  c.recorder.on_client_frame = [&](ConnectionId connection, std::string_view) {
    c.transport->CloseClient(connection);
  };
  RunAlongside(loop, [&] {
    auto client = Client::Connect(c.address, kSecret, 3000);
    ASSERT_TRUE(client.ok()) << client.status().message();
    EXPECT_FALSE(client.value()->Call("bye", 3000).ok());  // closed, no reply
  });
  EXPECT_TRUE(c.recorder.closed_clients.empty());  // CloseClient() is not reported back
}

TEST(Loopback, HandshakesBeyondTheLimitAreRefusedAtOnce) {
  Loop loop;
  TransportOptions patient;
  patient.handshake_timeout_ms = 20'000;  // none ends by itself during the test
  EchoNode node(loop, patient);
  const uint16_t port = node.transport->listen_port();
  constexpr int kSilent = 300;  // silent connections, each holding a handshake open
  std::vector<int> fds;
  RunAlongside(loop, [&] {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
    for (int i = 0; i < kSilent; ++i) {
      const int fd = socket(AF_INET, SOCK_STREAM, 0);
      ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
      fds.push_back(fd);
    }
  });
  ASSERT_TRUE(loop.RunUntil(
      [&] { return node.stats().accepts_refused == kSilent - kHandshakesInProgressMax; }));
  EXPECT_EQ(node.LogLines("refused"), 1u);
  for (int fd : fds) close(fd);
}

TEST(Loopback, AShortSecretIsAConfigurationError) {
  Loop loop;
  Recorder recorder;
  TransportOptions options;
  options.self_id = 1;
  options.secret = "too short";
  Transport transport(loop.get(), options, &recorder);
  const Status listening = transport.Listen("127.0.0.1:0");
  ASSERT_FALSE(listening.ok());
  EXPECT_EQ(listening.message(), "the cluster secret is 9 bytes, under the minimum of 16");
  EXPECT_FALSE(transport.AddPeer(2, "127.0.0.1:1").ok());
}

TEST(Loopback, AClientFailsCleanlyWhenNothingListens) {
  Loop loop;
  uint16_t port = 0;
  {
    Node gone(loop, 1);
    port = gone.transport->listen_port();
  }
  loop.RunFor(10);
  auto client = Client::Connect("127.0.0.1:" + std::to_string(port), kSecret, 1000);
  ASSERT_FALSE(client.ok());
  EXPECT_NE(client.status().message().find("refused"), std::string::npos)
      << client.status().message();
  EXPECT_FALSE(Client::Connect("127.0.0.1:1", "short", 1000).ok());
  EXPECT_FALSE(Client::Connect("no-port", kSecret, 1000).ok());
}

}  // namespace
}  // namespace paxcron::transport

// `paxcron node --config FILE`: runs one node of a real cluster until SIGTERM or SIGINT.
#include <fmt/format.h>
#include <uv.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>

#include "cmd/commands.h"
#include "node/config.h"
#include "node/node.h"

namespace paxcron::cmd {
namespace {

struct SignalContext {
  node::Node* node = nullptr;
  uv_signal_t term{}, intr{};
};

void OnSignal(uv_signal_t* handle, int signum) {
  auto* ctx = static_cast<SignalContext*>(handle->data);
  std::fprintf(stderr, "paxcron node: signal %d, stopping\n", signum);
  uv_signal_stop(&ctx->term);
  uv_signal_stop(&ctx->intr);
  uv_close(reinterpret_cast<uv_handle_t*>(&ctx->term), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&ctx->intr), nullptr);
  ctx->node->Shutdown();
}

}  // namespace

int RunNode(const std::vector<std::string>& args) {
  CLI::App app{
      "Runs one node of a paxcron cluster: consensus, storage, the cron leader loop and the exec "
      "launcher. Stops gracefully on SIGTERM or SIGINT (a leader hands over first).",
      "paxcron node"};
  std::string config_path;
  app.add_option("--config", config_path, "the node's configuration (node/CONFIG.md)")->required();
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  Result<node::NodeSettings> settings = node::LoadNodeConfig(config_path);
  if (!settings.ok()) {
    std::fprintf(stderr, "paxcron node: %s\n", settings.status().message().c_str());
    return 2;
  }
  std::FILE* log_file = stderr;
  if (!settings.value().config.log_file().empty()) {
    log_file = std::fopen(settings.value().config.log_file().c_str(), "a");
    if (log_file == nullptr) {
      std::fprintf(stderr, "paxcron node: log_file %s cannot be opened\n",
                   settings.value().config.log_file().c_str());
      return 2;
    }
  }
  uv_loop_t loop;
  uv_loop_init(&loop);
  auto n = std::make_unique<node::Node>(&loop, std::move(settings.value()),
                                        [log_file](std::string_view line) {
                                          std::fwrite(line.data(), 1, line.size(), log_file);
                                          std::fputc('\n', log_file);
                                          std::fflush(log_file);
                                        });
  SignalContext signals;
  signals.node = n.get();
  uv_signal_init(&loop, &signals.term);
  uv_signal_init(&loop, &signals.intr);
  signals.term.data = signals.intr.data = &signals;
  uv_signal_start(&signals.term, &OnSignal, SIGTERM);
  uv_signal_start(&signals.intr, &OnSignal, SIGINT);
  if (Status s = n->Start(); !s.ok()) {
    std::fprintf(stderr, "paxcron node: %s\n", s.message().c_str());
    return 1;
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  n.reset();
  uv_run(&loop, UV_RUN_DEFAULT);  // the close callbacks of what the node closed last
  uv_loop_close(&loop);
  if (log_file != stderr) std::fclose(log_file);
  return 0;
}

}  // namespace paxcron::cmd

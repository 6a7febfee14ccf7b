// A TCP port on 127.0.0.1 that the kernel says is free now, for local clusters (`paxcron cluster
// up`) and benchmarks. Another process may take it before it is bound: the caller then fails at
// bind with a clear error and can try again. -1 when no socket could be made.
#pragma once

namespace paxcron::transport {

int FreeLoopbackPort();

}  // namespace paxcron::transport

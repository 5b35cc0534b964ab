#pragma once
// `vss-train --gpus N`: starts N copies of this program as the ranks of one data-parallel
// run, like torchrun on one machine. Each rank gets the same arguments and torchrun's
// environment (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT,
// TORCHELASTIC_USE_AGENT_STORE=True); the launcher hosts the rendezvous store on a free port.
// SIGINT / SIGTERM / SIGHUP are forwarded to every rank (which then save and stop at the
// same step). A rank that dies or fails for another reason stops the others (SIGTERM, then
// SIGKILL after `grace`), and a rank never outlives the launcher (PR_SET_PDEATHSIG).
#include <chrono>
#include <string>
#include <vector>

namespace vss {

// Runs this executable (/proc/self/exe) with `args` (argv without the program name) as
// `world_size` ranks and waits for them. Returns 0 when all succeed, else the exit code of
// the first rank that failed (128 + signal for a rank killed by a signal).
int launch_ranks(const std::vector<std::string>& args, int world_size,
                 std::chrono::seconds grace = std::chrono::seconds(30));

}  // namespace vss

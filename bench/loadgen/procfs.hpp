// procfs.hpp: what the kernel reports about processes and CPUs, for capstan_loadgen.
// Every function returns -1 (or false) when the file cannot be read, e.g. the process is gone.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <fstream>
#include <sstream>
#include <string>

namespace procfs {

// CPU time of a process (all its threads, user + system) in clock ticks, from /proc/PID/stat
// fields 14 and 15. The command name (field 2) may contain spaces, so parse after the last ')'.
// The kernel derives these from the precise runtime of the threads, split by tick samples.
inline long long process_cpu_ticks(pid_t pid) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(f, line) || line.rfind(')') == std::string::npos) return -1;
    std::istringstream rest(line.substr(line.rfind(')') + 2));
    std::string field;
    long long utime = -1, stime = -1;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
        if (i == 14) utime = std::stoll(field);
        if (i == 15) stime = std::stoll(field);
    }
    return utime < 0 || stime < 0 ? -1 : utime + stime;
}

// Busy and stolen ticks of the whole machine, from the first line of /proc/stat. Busy minus the
// ticks of the processes under test is what other processes took: if that is not ~0, the
// figures were measured on a shared machine and should not be trusted.
struct MachineTicks {
    long long busy = 0, steal = 0;
};
inline bool machine_ticks(MachineTicks& out) {
    std::ifstream f("/proc/stat");
    std::string cpu;
    long long v[8] = {};  // user nice system idle iowait irq softirq steal
    f >> cpu;
    for (long long& x : v) f >> x;
    if (!f || cpu != "cpu") return false;
    out = {v[0] + v[1] + v[2] + v[5] + v[6], v[7]};
    return true;
}

// Resident set size: the user-space memory of the process that is in RAM. Kernel memory
// (socket buffers, epoll items) is not part of it.
inline long long process_rss_bytes(pid_t pid) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(f, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6)) * 1024;
    return -1;
}

// Our own CPU time in µs (precise, unlike the tick-based figures above).
inline double self_cpu_us() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
           double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

}  // namespace procfs

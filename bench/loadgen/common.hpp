// common.hpp: what the modes of capstan_loadgen (loadgen.cpp and fanout.cpp) share. It owns
// the fatal error, the clock and the masking/handshake-key PRNG; the client side of a
// connection (loopback address, non-blocking connect, epoll registration, handshake key and
// 101 check, writes that queue what the kernel does not take); and the figures of a measured
// window (the /proc readings at its ends, the intervals with the CPUs near, placement,
// disturbance by other processes, percentiles). Everything is inline, in namespace loadgen.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "procfs.hpp"
#include "ws_client.hpp"

namespace loadgen {

// ---------------------------------------------------------------------------------------------
// Errors, time, randomness

// Any failure ends the run with exit code 1: a broken server must not look fast.
[[noreturn, gnu::format(printf, 1, 2)]] inline void die(const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    std::fputs("loadgen: error: ", stderr);
    std::vfprintf(stderr, fmt, ap);
    std::fputc('\n', stderr);
    va_end(ap);
    std::exit(1);
}

inline uint64_t now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return uint64_t(ts.tv_sec) * 1'000'000'000u + uint64_t(ts.tv_nsec);
}

// xorshift64: masking keys and handshake keys need unpredictability only against a
// cooperative server, so a fast PRNG is enough (RFC 6455 5.3 asks for unpredictable keys
// to defeat proxy cache poisoning, which does not apply on loopback).
inline uint64_t g_rng = 0x9e3779b97f4a7c15ull ^ uint64_t(time(nullptr));
inline uint64_t rng() {
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return g_rng;
}

// ---------------------------------------------------------------------------------------------
// Options and process setup

// The options of every mode: which server, how many connections, how long, and the CPU probe.
// Each mode's Options derives from it and gives its own defaults.
struct CommonOptions {
    CommonOptions(std::string path_, int conns_, double duration_, double warmup_)
        : path(std::move(path_)), conns(conns_), duration(duration_), warmup(warmup_) {}

    std::string host = "127.0.0.1";
    int port = 0;
    std::string path;
    int conns = 0;
    size_t size = 20;
    double duration = 0;
    double warmup = 0;
    pid_t server_pid = 0;
    double connect_timeout = 60;  // all handshakes must complete within this
    int probe_cpu = -1;           // the server's CPU, to watch the vCPU placement (-1: off)
    double near_ns = 250;         // cache-line round trip below which the CPUs count as near
};

// Takes option `a` with its value `v` if it is a common one; false if it is not.
inline bool parse_common_option(CommonOptions& o, std::string_view a, const char* v) {
    if (a == "--host") o.host = v;
    else if (a == "--port") o.port = std::atoi(v);
    else if (a == "--path" || a == "--url-path") o.path = v;
    else if (a == "--connections") o.conns = std::atoi(v);
    else if (a == "--size") o.size = size_t(std::atoll(v));
    else if (a == "--duration") o.duration = std::atof(v);
    else if (a == "--warmup") o.warmup = std::atof(v);
    else if (a == "--server-pid") o.server_pid = pid_t(std::atoi(v));
    else if (a == "--connect-timeout") o.connect_timeout = std::atof(v);
    else if (a == "--probe-cpu") o.probe_cpu = std::atoi(v);
    else if (a == "--near-ns") o.near_ns = std::atof(v);
    else return false;
    return true;
}

// True if the common options make sense once all are parsed.
inline bool common_options_valid(const CommonOptions& o) {
    return o.port > 0 && o.port <= 65535 && o.conns > 0 && o.server_pid > 0 && o.duration > 0 &&
           o.warmup >= 0 && !o.path.empty() && o.path[0] == '/';
}

// The kernel's default soft limit (1024 here) is far below 10k connections plus our own files.
inline void raise_fd_limit(int conns) {
    rlimit rl{};
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0) die("setrlimit: %s", std::strerror(errno));
    if (rl.rlim_cur < rlim_t(conns) + 16)
        die("RLIMIT_NOFILE hard limit %llu is too low for %d connections",
            (unsigned long long)rl.rlim_max, conns);
}

// The CPU ticks of a process; failing to read them means the server is gone.
inline long long cpu_ticks_of(pid_t pid) {
    const long long t = procfs::process_cpu_ticks(pid);
    if (t < 0) die("cannot read /proc/%d/stat (server gone?)", int(pid));
    return t;
}

// ---------------------------------------------------------------------------------------------
// Connections

// The server's address. Loopback only: this tool must never load a remote machine.
inline sockaddr_in loopback_address(const std::string& host, int port) {
    in_addr a{};
    if (inet_pton(AF_INET, host.c_str(), &a) != 1) die("--host must be an IPv4 address");
    if ((ntohl(a.s_addr) >> 24) != 127) die("--host must be in 127.0.0.0/8");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(uint16_t(port));
    addr.sin_addr = a;
    return addr;
}

inline int new_epoll() {
    const int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) die("epoll_create1: %s", std::strerror(errno));
    return ep;
}

inline void epoll_add(int ep, int fd, uint32_t events, uint64_t data) {
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = data;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) die("epoll_ctl: %s", std::strerror(errno));
}

inline void epoll_modify(int ep, int fd, uint32_t events, uint64_t data) {
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = data;
    if (epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev) < 0) die("epoll_ctl: %s", std::strerror(errno));
}

// A non-blocking TCP socket; `what` and `idx` name it in errors ("connection 12").
inline int tcp_socket(const char* what, size_t idx) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) die("socket: %s (%s %zu)", std::strerror(errno), what, idx);
    return fd;
}

inline void set_nodelay(int fd) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

// Starts a non-blocking connect(); epoll tells when it is done (connect_result).
inline void start_connect(int fd, const sockaddr_in& addr, const char* what, size_t idx) {
    if (connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) < 0 &&
        errno != EINPROGRESS)
        die("connect: %s (%s %zu)", std::strerror(errno), what, idx);
}

// The outcome of a non-blocking connect() (SO_ERROR): 0, or the errno it failed with.
inline int connect_result(int fd) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    return err;
}

// A fresh Sec-WebSocket-Key: 16 random bytes in base64.
inline std::string new_handshake_key() {
    unsigned char raw[16];
    for (int i = 0; i < 16; i += 8) {
        const uint64_t r = rng();
        std::memcpy(raw + i, &r, 8);
    }
    return ws_client::base64(raw, sizeof raw);
}

// Where the response head in `in` ends (the position of its blank line), once it has all
// arrived and is a correct 101 for `accept`; npos while it is incomplete. Anything else ends
// the run (`path` names the route in the error).
inline size_t handshake_end(const std::string& in, const std::string& accept,
                            const std::string& path) {
    const size_t end = in.find("\r\n\r\n");
    if (end == std::string::npos) {
        if (in.size() > 16384) die("handshake response too large");
        return end;
    }
    const std::string fault = ws_client::check_response(in.substr(0, end + 2), accept);
    if (!fault.empty()) die("%s (path %s)", fault.c_str(), path.c_str());
    return end;
}

// A close frame's status code, 0 if it has none, and its reason.
inline unsigned close_code(std::string_view data) {
    return data.size() >= 2 ? (unsigned(uint8_t(data[0])) << 8) | uint8_t(data[1]) : 0;
}
inline std::string_view close_reason(std::string_view data) {
    return data.size() > 2 ? data.substr(2) : std::string_view("");
}

// Writes what the kernel takes now and keeps the rest in `out` (after anything already
// queued there). True if something was queued that was not before: the caller then waits for
// EPOLLOUT and calls flush_queued.
inline bool write_or_queue(int fd, std::string& out, const char* data, size_t len) {
    if (!out.empty()) {
        out.append(data, len);
        return false;
    }
    ssize_t n = write(fd, data, len);
    if (n < 0) {
        if (errno != EAGAIN && errno != EINTR) die("write: %s", std::strerror(errno));
        n = 0;
    }
    if (size_t(n) >= len) return false;
    out.assign(data + n, len - size_t(n));
    return true;
}

// Writes what it can of `out`. True if that emptied it: EPOLLOUT is no longer needed.
inline bool flush_queued(int fd, std::string& out) {
    if (out.empty()) return false;
    const ssize_t n = write(fd, out.data(), out.size());
    if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) return false;
        die("write: %s", std::strerror(errno));
    }
    out.erase(0, size_t(n));
    return out.empty();
}

// ---------------------------------------------------------------------------------------------
// Figures of a measured window

// What the window's figures are computed from, read at both of its ends (and, with the CPU
// probe, at the end of every interval).
struct Snapshot {
    uint64_t t_ns = 0;
    uint64_t count = 0;   // what the mode counts (echoes, handshakes, deliveries) so far
    double xcpu_ns = -1;  // cache-line round trip to the server's CPU, -1: not measured
    long long server_ticks = 0, own_ticks = 0;
    procfs::MachineTicks machine;
    double own_us = 0;
};

// Reads the machine's, the server's and our own CPU time; the probe's figure is the caller's.
inline void read_snapshot(Snapshot& s, pid_t server_pid, uint64_t count) {
    if (!procfs::machine_ticks(s.machine)) die("cannot parse /proc/stat");
    s.server_ticks = cpu_ticks_of(server_pid);
    s.own_ticks = cpu_ticks_of(getpid());
    s.own_us = procfs::self_cpu_us();
    s.t_ns = now_ns();
    s.count = count;
}

// Figures summed over the intervals in which the CPUs were near at both ends.
struct Totals {
    uint64_t ns = 0, count = 0;
    long long server_ticks = 0;
};

// Adds the interval from a to b to `near` if the CPUs were near (round trip below near_ns) at
// both of its ends.
inline void add_if_near(Totals& near, const Snapshot& a, const Snapshot& b, double near_ns) {
    const auto is_near = [&](double x) { return x >= 0 && x < near_ns; };
    if (!is_near(a.xcpu_ns) || !is_near(b.xcpu_ns)) return;
    near.ns += b.t_ns - a.t_ns;
    near.count += b.count - a.count;
    near.server_ticks += b.server_ticks - a.server_ticks;
}

// "near", "mixed" (some of the window), "far" (none of it) or "unprobed".
inline const char* placement_of(bool probed, uint64_t near_ns, double duration_s) {
    if (!probed) return "unprobed";
    if (near_ns == 0) return "far";
    return near_ns < uint64_t(duration_s * 1e9 * 0.999) ? "mixed" : "near";
}

// What others did to the machine from a to b, in % of one CPU: the CPU time of all other
// processes (should be ~0), and the hypervisor's steal.
struct Disturbance {
    double others_pct = 0, steal_pct = 0;
};

inline Disturbance disturbance(const Snapshot& a, const Snapshot& b, double hz) {
    const double elapsed = double(b.t_ns - a.t_ns) / 1e9;
    const double pct = 100.0 / (elapsed * hz);
    const long long others = (b.machine.busy - a.machine.busy) -
                             (b.server_ticks - a.server_ticks) - (b.own_ticks - a.own_ticks);
    return {std::max(0.0, double(others) * pct), double(b.machine.steal - a.machine.steal) * pct};
}

// The q-quantile of durations in ns, in µs (reorders v).
inline double percentile_us(std::vector<uint64_t>& v, double q) {
    if (v.empty()) return 0;
    const size_t k = std::min(v.size() - 1, size_t(q * double(v.size())));
    std::nth_element(v.begin(), v.begin() + long(k), v.end());
    return double(v[k]) / 1000.0;
}

// The median of the probe's round trips that were measured, -1 if none was.
inline double median_xcpu(const std::vector<double>& xcpu) {
    std::vector<double> x;
    for (double v : xcpu) if (v >= 0) x.push_back(v);
    std::sort(x.begin(), x.end());
    return x.empty() ? -1 : x[x.size() / 2];
}

}  // namespace loadgen

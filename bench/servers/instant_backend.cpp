// instant_backend: the web application of bench/backend-proxy.sh, answering at once.
//
// Capstan's `kind = "http"` actions (SPEC 5a) POST {"route","action","data","user","connection"}
// to the application and send its 2xx answer's "data" back as the reply. This server answers
// every POST, whatever its path, with 200, application/json and {"data":<the request body's
// "data" value, copied byte for byte>} ({"data":{"ok":true}} if the body has no "data" at the
// top level), so the round trip measures Capstan and the HTTP hop, not an application.
//
// One thread, level-triggered epoll, HTTP/1.1 keep-alive, Content-Length bodies (a chunked
// request gets 411 and the connection is closed), pipelined requests answered in order with
// one write per read. No timeouts, no limits beyond a 1 MiB request: a benchmark tool, not a
// server to deploy.
//
// What it costs is counted so that the benchmark can subtract the backend's own time:
//   GET /stats -> "requests=N handler_ns=T connections=C unsigned=U bad=B\n" (text/plain):
//   POSTs answered, the nanoseconds spent handling them (from a complete request in the buffer
//   to its answer appended to the output: parsing and formatting, no system call), the TCP
//   connections accepted, POSTs without an X-Capstan-Signature header, and malformed requests.
//   /stats requests are not counted. The process's CPU time (system calls included) is in
//   /proc/PID/stat.
//
// usage: instant_backend PORT [--fixed]   (listens on 127.0.0.1 only; --fixed: always answer
//                                          {"data":{"ok":true}}, without looking at the body)

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

namespace {

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "instant_backend: %s: %s\n", what, std::strerror(errno));
    std::exit(1);
}

uint64_t now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return uint64_t(ts.tv_sec) * 1'000'000'000u + uint64_t(ts.tv_nsec);
}

constexpr size_t kMaxRequest = 1 << 20;
constexpr std::string_view kFixed = R"({"ok":true})";

struct Conn {
    bool used = false;
    bool close_after = false;  // Connection: close, HTTP/1.0 or an error: close once written
    std::string in;            // bytes of requests not complete yet
    std::string out;           // what the kernel did not take
};

struct Stats {
    uint64_t requests = 0, handler_ns = 0, connections = 0, unsigned_ = 0, bad = 0;
} g_stats;

int g_ep = -1;
bool g_fixed = false;
std::vector<Conn> g_conns;
std::vector<char> g_buf(256 * 1024);
std::string g_reply;  // the answers of one read, written at once

void close_conn(int fd) {
    g_conns[size_t(fd)] = Conn{};
    close(fd);  // also leaves the epoll set
}

void watch(int fd, uint32_t events, int op) {
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = fd;
    if (epoll_ctl(g_ep, op, fd, &ev) < 0) fail("epoll_ctl");
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if ((a[i] | 0x20) != (b[i] | 0x20)) return false;
    return true;
}

// ---- the smallest JSON scan that finds the top-level "data" value ----------------------------

size_t skip_ws(std::string_view s, size_t i) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
    return i;
}

// s[i] is the opening quote: the index after the closing one, or npos.
size_t skip_string(std::string_view s, size_t i) {
    for (++i; i < s.size(); ++i) {
        if (s[i] == '\\') ++i;
        else if (s[i] == '"') return i + 1;
    }
    return std::string_view::npos;
}

// The index after the value that starts at s[i], or npos. Objects and arrays by depth (strings
// skipped whole, so brackets inside them do not count); scalars up to the next delimiter.
size_t skip_value(std::string_view s, size_t i) {
    if (i >= s.size()) return std::string_view::npos;
    if (s[i] == '"') return skip_string(s, i);
    if (s[i] == '{' || s[i] == '[') {
        int depth = 0;
        while (i < s.size()) {
            const char c = s[i];
            if (c == '"') {
                i = skip_string(s, i);
                if (i == std::string_view::npos) return i;
                continue;
            }
            if (c == '{' || c == '[') ++depth;
            else if ((c == '}' || c == ']') && --depth == 0) return i + 1;
            ++i;
        }
        return std::string_view::npos;
    }
    const size_t start = i;
    while (i < s.size() && s[i] != ',' && s[i] != '}' && s[i] != ']' && s[i] != ' ' && s[i] != '\t' &&
           s[i] != '\n' && s[i] != '\r')
        ++i;
    return i > start ? i : std::string_view::npos;
}

// The raw text of the top-level "data" member of a JSON object; empty if there is none.
std::string_view data_member(std::string_view body) {
    size_t i = skip_ws(body, 0);
    if (i >= body.size() || body[i] != '{') return {};
    i = skip_ws(body, i + 1);
    while (i < body.size() && body[i] == '"') {
        const size_t key_end = skip_string(body, i);
        if (key_end == std::string_view::npos) return {};
        const std::string_view key = body.substr(i + 1, key_end - i - 2);
        i = skip_ws(body, key_end);
        if (i >= body.size() || body[i] != ':') return {};
        i = skip_ws(body, i + 1);
        const size_t value_end = skip_value(body, i);
        if (value_end == std::string_view::npos) return {};
        if (key == "data") return body.substr(i, value_end - i);
        i = skip_ws(body, value_end);
        if (i >= body.size() || body[i] != ',') return {};
        i = skip_ws(body, i + 1);
    }
    return {};
}

// ---- HTTP --------------------------------------------------------------------------------------

void respond(std::string& out, std::string_view status, std::string_view type, std::string_view body,
             bool close_after) {
    out += "HTTP/1.1 ";
    out += status;
    out += "\r\nContent-Type: ";
    out += type;
    out += "\r\nContent-Length: ";
    out += std::to_string(body.size());
    out += close_after ? "\r\nConnection: close\r\n\r\n" : "\r\n\r\n";
    out += body;
}

// Handles the first complete request of c.in, if there is one: appends its answer to g_reply,
// removes it from c.in and returns true; false if more bytes are needed (or c is to be closed).
bool handle_one(Conn& c) {
    const size_t head_end = c.in.find("\r\n\r\n");
    if (head_end == std::string::npos) {
        if (c.in.size() > kMaxRequest) {
            ++g_stats.bad;
            respond(g_reply, "431 Request Header Fields Too Large", "text/plain", "", true);
            c.close_after = true;
        }
        return false;
    }
    const uint64_t t0 = now_ns();
    const std::string_view head(c.in.data(), head_end);
    const size_t line_end = head.find("\r\n");
    const std::string_view line = head.substr(0, line_end);
    const size_t sp1 = line.find(' '), sp2 = line.rfind(' ');
    if (sp1 == std::string_view::npos || sp2 <= sp1) {
        ++g_stats.bad;
        respond(g_reply, "400 Bad Request", "text/plain", "", true);
        c.close_after = true;
        return false;
    }
    const std::string_view method = line.substr(0, sp1), target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    const bool http10 = line.substr(sp2 + 1) == "HTTP/1.0";
    size_t length = 0;
    bool chunked = false, close_asked = http10, keep_alive = false, expect = false, signed_ = false;
    for (size_t pos = line_end == std::string_view::npos ? head.size() : line_end + 2; pos < head.size();) {
        size_t end = head.find("\r\n", pos);
        if (end == std::string_view::npos) end = head.size();
        const std::string_view h = head.substr(pos, end - pos);
        pos = end + 2;
        const size_t colon = h.find(':');
        if (colon == std::string_view::npos) continue;
        const std::string_view name = h.substr(0, colon);
        std::string_view value = h.substr(colon + 1);
        while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
        if (iequals(name, "content-length")) length = size_t(std::strtoull(std::string(value).c_str(), nullptr, 10));
        else if (iequals(name, "transfer-encoding")) chunked = true;
        else if (iequals(name, "connection")) {
            if (iequals(value, "close")) close_asked = true;
            else if (iequals(value, "keep-alive")) keep_alive = true;
        } else if (iequals(name, "expect")) expect = true;
        else if (iequals(name, "x-capstan-signature")) signed_ = true;
    }
    const bool close_after = close_asked && !(http10 && keep_alive);
    if (chunked || length > kMaxRequest) {
        ++g_stats.bad;
        respond(g_reply, chunked ? "411 Length Required" : "413 Content Too Large", "text/plain", "", true);
        c.close_after = true;
        return false;
    }
    const size_t total = head_end + 4 + length;
    if (c.in.size() < total) {
        // curl sends Expect: 100-continue only for large bodies; answer it rather than stall.
        if (expect && c.in.size() == head_end + 4) g_reply += "HTTP/1.1 100 Continue\r\n\r\n";
        return false;
    }
    const std::string_view body(c.in.data() + head_end + 4, length);
    if (method == "POST") {
        std::string_view data = g_fixed ? kFixed : data_member(body);
        if (data.empty()) data = kFixed;
        std::string json;
        json.reserve(data.size() + 10);
        json += "{\"data\":";
        json += data;
        json += '}';
        respond(g_reply, "200 OK", "application/json", json, close_after);
        ++g_stats.requests;
        g_stats.unsigned_ += !signed_;
        g_stats.handler_ns += now_ns() - t0;
    } else if (method == "GET" && target == "/stats") {
        char text[200];
        const int n = std::snprintf(text, sizeof text,
                                    "requests=%llu handler_ns=%llu connections=%llu unsigned=%llu bad=%llu\n",
                                    (unsigned long long)g_stats.requests, (unsigned long long)g_stats.handler_ns,
                                    (unsigned long long)g_stats.connections, (unsigned long long)g_stats.unsigned_,
                                    (unsigned long long)g_stats.bad);
        respond(g_reply, "200 OK", "text/plain", std::string_view(text, size_t(n)), close_after);
    } else {
        ++g_stats.bad;
        respond(g_reply, method == "GET" ? "404 Not Found" : "405 Method Not Allowed", "text/plain", "",
                close_after);
    }
    c.in.erase(0, total);
    if (close_after) {
        c.close_after = true;
        return false;
    }
    return true;
}

// Writes what the kernel takes; keeps the rest and asks for EPOLLOUT. False if fd was closed.
bool send_out(int fd, Conn& c, std::string_view data) {
    while (!data.empty()) {
        const ssize_t n = write(fd, data.data(), data.size());
        if (n > 0) {
            data.remove_prefix(size_t(n));
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) {
            const bool was_empty = c.out.empty();
            c.out.append(data);
            if (was_empty) watch(fd, EPOLLIN | EPOLLOUT, EPOLL_CTL_MOD);
            return true;
        }
        close_conn(fd);
        return false;
    }
    if (c.close_after && c.out.empty()) {
        close_conn(fd);
        return false;
    }
    return true;
}

void on_readable(int fd) {
    Conn& c = g_conns[size_t(fd)];
    const ssize_t n = read(fd, g_buf.data(), g_buf.size());
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n <= 0) return close_conn(fd);
    if (c.close_after) return;  // answered with Connection: close: the rest is ignored
    c.in.append(g_buf.data(), size_t(n));
    g_reply.clear();
    while (handle_one(c)) {
    }
    if (g_reply.empty()) return;
    if (!c.out.empty()) {  // an earlier answer still waits for the kernel: keep the order
        c.out += g_reply;
        return;
    }
    send_out(fd, c, g_reply);
}

void on_writable(int fd) {
    Conn& c = g_conns[size_t(fd)];
    const std::string pending = std::move(c.out);
    c.out.clear();
    watch(fd, EPOLLIN, EPOLL_CTL_MOD);
    send_out(fd, c, pending);
}

void on_accept(int listener) {
    for (;;) {
        const int fd = accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED) return;
            if (errno == EMFILE || errno == ENFILE) return;  // level-triggered: tried again
            fail("accept4");
        }
        const int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (size_t(fd) >= g_conns.size()) g_conns.resize(size_t(fd) + 1024);
        g_conns[size_t(fd)].used = true;
        ++g_stats.connections;
        watch(fd, EPOLLIN, EPOLL_CTL_ADD);
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2 || argc > 3 || (argc == 3 && std::string_view(argv[2]) != "--fixed")) {
        std::fputs("usage: instant_backend PORT [--fixed]\n", stderr);
        return 2;
    }
    const int port = std::atoi(argv[1]);
    if (port <= 0 || port > 65535) {
        std::fputs("instant_backend: bad port\n", stderr);
        return 2;
    }
    g_fixed = argc == 3;
    std::signal(SIGPIPE, SIG_IGN);
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    const int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (listener < 0) fail("socket");
    const int one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(uint16_t(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) fail("bind");
    if (listen(listener, 4096) < 0) fail("listen");
    g_ep = epoll_create1(EPOLL_CLOEXEC);
    if (g_ep < 0) fail("epoll_create1");
    watch(listener, EPOLLIN, EPOLL_CTL_ADD);
    g_conns.resize(4096);
    std::fprintf(stderr, "instant_backend: listening on 127.0.0.1:%d%s\n", port, g_fixed ? " (--fixed)" : "");

    epoll_event events[512];
    for (;;) {
        const int n = epoll_wait(g_ep, events, 512, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            fail("epoll_wait");
        }
        for (int i = 0; i < n; ++i) {
            const int fd = events[i].data.fd;
            if (fd == listener) {
                on_accept(listener);
                continue;
            }
            if (!g_conns[size_t(fd)].used) continue;  // closed earlier in this batch
            if (events[i].events & EPOLLOUT) {
                on_writable(fd);
                if (!g_conns[size_t(fd)].used) continue;
            }
            if (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) on_readable(fd);
        }
    }
}

// capstan_loadgen: a WebSocket load generator for the Capstan benchmark.
//
// One thread, epoll, loopback only. Four modes:
//   echo       N connections, each with exactly one message in flight (send, wait for the
//              echo, send the next). Reports messages/s, latency p50/p99 and the server's CPU
//              time per echo, all measured over the same window after a warm-up (with
//              --probe-cpu, only the parts of it in which the two CPUs were near: see
//              xcpu_probe.hpp).
//   action     the same against a notify route: each message is a 55-byte
//              {"action":"echo","data":{"id":N,"text":"hello"}} and the reply must be exactly
//              {"action":"echo","data":"{\"id\":N,\"text\":\"hello\"}"} (a relay action to the
//              sender, data sent back as a string holding JSON). --action NAME sends and
//              expects NAME in place of "echo" (an sql or http action that answers the same
//              data: bench/backend-proxy.sh).
//   handshake  N clients, each in a loop: connect, send the upgrade request, read and check the
//              101, reset the connection (SO_LINGER 0: no TIME_WAIT on either side, so ports
//              never run out). Reports handshakes/s and the server's CPU time per handshake
//              over the same kind of window as echo.
//   idle       N connections that complete the handshake and then stay silent. Reports the
//              growth of the server's VmRSS divided by N.
//   fanout     broadcast: bursts from one connection delivered to all N (fanout.cpp, with its
//              own options).
// With --tls 1 the echo, action, handshake and idle modes speak wss:// (tls_client.hpp): each
// connection does the TLS handshake first, then the same. In handshake mode every handshake is
// a full one (no session is kept or offered); --upgrade 0 stops after the TLS handshake (then
// close_notify, and the server's close is awaited before the reset), --upgrade 1 (the default)
// goes on to the WebSocket upgrade over TLS as without TLS.
// The last line of output is machine-readable: "RESULT mode=... key=value ...".
// Any failure (refused handshake, wrong echo, server closing, stall, timeout) exits non-zero:
// a broken server must not look fast.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common.hpp"
#include "fanout.hpp"
#include "procfs.hpp"
#include "tls_client.hpp"
#include "ws_client.hpp"
#include "xcpu_probe.hpp"

namespace {

using namespace loadgen;

// The server's VmRSS; failing to read it means the server is gone.
long long server_rss(pid_t pid) {
    long long r = procfs::process_rss_bytes(pid);
    if (r < 0) die("cannot read VmRSS of process %d (server gone?)", int(pid));
    return r;
}

// ---------------------------------------------------------------------------------------------
// Options

enum class Mode { echo, action, handshake, idle };

const char* mode_name(Mode m) {
    switch (m) {
    case Mode::echo: return "echo";
    case Mode::action: return "action";
    case Mode::handshake: return "handshake";
    case Mode::idle: return "idle";
    }
    return "?";
}

struct Options : CommonOptions {
    Options() : CommonOptions("/echo", 100, 10, 2) {}  // path, connections, duration, warm-up
    Mode mode = Mode::echo;
    bool idle = false;            // mode == idle: messages are never sent
    bool check_action = false;    // first check that one action round trip works on --path
    std::string action = "echo";  // action mode: the action's name, in the message and the reply
    double idle_wait = 2;         // idle mode: settle time before reading VmRSS
    int src_addrs = 0;            // 0: one 127.0.0.x source address per 20,000 connections
    tls::Options tls;             // --tls 1 and the options of tls_client.hpp
};

void usage() {
    std::fputs(
        "usage: capstan_loadgen --port N --server-pid PID [--host 127.0.0.1] [--path /echo]\n"
        "         [--mode echo|action|handshake|idle] [--connections 100] [--size 20]\n"
        "         [--duration 10] [--warmup 2] [--idle-wait 2] [--connect-timeout 60]\n"
        "         [--src-addrs K] [--probe-cpu SERVER_CPU [--near-ns 250]]\n"
        "         [--token-file FILE] [--check-action 1] [--action echo]\n"
        "         [--tls 1 [--tls-ca CA_FILE] [--tls-version 1.3|1.2] [--tls-ciphers LIST]\n"
        "          [--tls-name localhost] [--upgrade 1|0]]\n"
        "  --url-path is --path; --token-file appends token=<the file's content> to its query.\n"
        "  --check-action 1: before measuring, one connection must get {\"action\":\"echo\",\n"
        "  \"data\":\"1\"} back for {\"action\":\"echo\",\"data\":1} (a refused token fails).\n"
        "  --action NAME: action mode sends and expects action NAME in place of \"echo\".\n"
        "  --tls 1: wss://, the TLS handshake first on every connection; without --tls-ca the\n"
        "  server's certificate is not verified. Only the version of --tls-version is offered;\n"
        "  no session is ever resumed. --upgrade 0 (handshake mode): TLS handshakes only, each\n"
        "  ended by close_notify, the server's close awaited, then a reset.\n"
        "  --mode fanout has options of its own: --mode fanout --help.\n",
        stderr);
    std::exit(2);
}

Options parse_args(int argc, char** argv) {
    Options o;
    std::string token_file;
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        if (a == "-h" || a == "--help") usage();
        if (i + 1 >= argc) usage();
        const char* v = argv[++i];
        if (parse_common_option(o, a, v)) continue;
        if (tls::parse_option(o.tls, a, v)) continue;
        if (a == "--token-file") token_file = v;
        else if (a == "--check-action") o.check_action = std::atoi(v) != 0;
        else if (a == "--action") o.action = v;
        else if (a == "--idle-wait") o.idle_wait = std::atof(v);
        else if (a == "--src-addrs") o.src_addrs = std::atoi(v);
        else if (a == "--mode") {
            const std::string_view m = v;
            if (m == "echo") o.mode = Mode::echo;
            else if (m == "action") o.mode = Mode::action;
            else if (m == "handshake") o.mode = Mode::handshake;
            else if (m == "idle") o.mode = Mode::idle;
            else usage();
            o.idle = o.mode == Mode::idle;
        } else usage();
    }
    if (!token_file.empty()) {
        // A JWT is base64url and dots: nothing in it needs escaping in a query.
        std::ifstream f(token_file);
        std::string token;
        if (!(f >> token)) die("cannot read a token from %s", token_file.c_str());
        o.path += o.path.find('?') == std::string::npos ? "?token=" : "&token=";
        o.path += token;
    }
    if (!common_options_valid(o)) usage();
    if (o.action.empty() || o.action.find_first_of("\"\\") != std::string::npos)
        die("--action must be a name without quotes or backslashes");
    if (o.src_addrs <= 0) o.src_addrs = 1 + o.conns / 20000;
    if (o.src_addrs > 250) die("--src-addrs must be at most 250");
    if (o.tls.enabled && o.check_action) die("--check-action is not implemented with --tls");
    if (!o.tls.upgrade && (!o.tls.enabled || o.mode != Mode::handshake))
        die("--upgrade 0 needs --tls 1 and --mode handshake");
    return o;
}

// ---------------------------------------------------------------------------------------------
// Action mode: the message and the reply the notify component sends for it (a relay action to
// the sender; data_as_string, the default, sends data back as a string holding its JSON).
// With an 8-digit id, both have a fixed size: 55 and 63 bytes for the action "echo".

std::string action_message(const std::string& name, const std::string& id) {
    return "{\"action\":\"" + name + "\",\"data\":{\"id\":" + id + ",\"text\":\"hello\"}}";
}

std::string action_reply(const std::string& name, const std::string& id) {
    return "{\"action\":\"" + name + "\",\"data\":\"{\\\"id\\\":" + id +
           ",\\\"text\\\":\\\"hello\\\"}\"}";
}

// ---------------------------------------------------------------------------------------------
// Connections

// TlsHandshake: connected, TLS handshake under way; Handshake: upgrade request sent; Closing
// (handshake mode, --upgrade 0): close_notify sent, waiting for the server's close.
enum class State { Connecting, TlsHandshake, Handshake, Open, Closing };

struct Conn {
    int fd = -1;
    SSL* ssl = nullptr;       // --tls: the connection's TLS stream
    State state = State::Connecting;
    std::string accept;       // expected Sec-WebSocket-Accept
    std::string in;           // received bytes not yet consumed
    std::string out;          // bytes the kernel has not accepted yet (partial writes only)
    std::string payload;      // payload of the message in flight, to check the echo against
    std::string expect;       // action mode: the reply it must get (echo: the payload itself)
    std::string fragments;    // a fragmented message being reassembled
    bool fragmented = false;
    bool waiting = false;     // a message is in flight
    uint64_t sent_ns = 0;
    uint64_t window_msgs = 0; // echoes completed inside the measured window
};

class LoadGen {
public:
    explicit LoadGen(const Options& o)
        : opt_(o), conns_(size_t(o.conns)), addr_(loopback_address(o.host, o.port)),
          ep_(new_epoll()) {
        rbuf_.resize(256 * 1024);
        if (o.tls.enabled) tls_ctx_ = tls::make_context(o.tls);
    }

    // Opens connections up to `upto` (all by default) and completes their handshakes, a
    // bounded number at a time so the server's listen backlog never overflows (a dropped SYN
    // costs a 1 s retransmit). Can be called again with a larger `upto`.
    void connect_all(size_t upto = SIZE_MAX) {
        upto = std::min(upto, conns_.size());
        const uint64_t deadline = now_ns() + uint64_t(opt_.connect_timeout * 1e9);
        const size_t max_pending = 256;
        while (opened_ < upto) {
            while (next_ < upto && next_ - opened_ < max_pending) open_connection(next_++);
            if (now_ns() > deadline)
                die("timeout: only %zu of %zu connections completed the handshake", opened_,
                    upto);
            int n = epoll_wait(ep_, events_, kMaxEvents, 100);
            if (n < 0 && errno != EINTR) die("epoll_wait: %s", std::strerror(errno));
            for (int i = 0; i < n; ++i) {
                Conn& c = conns_[events_[i].data.u64];
                const State before = c.state;
                on_event(c, events_[i].events);
                opened_ += before != State::Open && c.state == State::Open;
            }
        }
    }

    // The measured window opens after the warm-up and closes after `duration` seconds.
    // With --probe-cpu it is made of the 250 ms intervals during which the two CPUs were near
    // (see xcpu_probe.hpp) and stays open until it holds `duration` seconds of them, or
    // 3 x `duration` have passed; intervals in the far state are left out of the figures.
    // Action mode measures the same way, with action messages; handshake mode too, with
    // handshakes in place of echoes (its connections are slots that reconnect in a loop).
    void run_echo() {
        std::unique_ptr<CrossCpuProbe> probe;
        if (opt_.probe_cpu >= 0) probe = std::make_unique<CrossCpuProbe>(opt_.probe_cpu);
        if (opt_.mode == Mode::handshake)
            for (size_t i = 0; i < conns_.size(); ++i) hs_start(i);
        else
            for (Conn& c : conns_) send_message(c);
        const uint64_t start = now_ns();
        const uint64_t warm_end = start + uint64_t(opt_.warmup * 1e9);
        const uint64_t duration = uint64_t(opt_.duration * 1e9);
        const uint64_t last_end = warm_end + (probe ? 3 : 1) * duration;
        const uint64_t probe_every = 250'000'000;
        Snapshot begin, mark;
        uint64_t last_progress = start, next_probe = 0;
        samples_.reserve(size_t(opt_.duration * 200000));
        for (;;) {
            const uint64_t t = now_ns();
            if (!measuring_ && t >= warm_end) {
                begin = mark = snapshot();  // from here on every echo counts
                if (probe) mark.xcpu_ns = record_probe(*probe);
                next_probe = mark.t_ns + probe_every;
                measuring_ = true;
            }
            if (measuring_ && probe && t >= next_probe) {
                Snapshot next = snapshot();
                next.xcpu_ns = record_probe(*probe);
                add_if_near(near_, mark, next, opt_.near_ns);
                mark = next;
                next_probe = t + probe_every;
            }
            if (measuring_ && (probe ? near_.ns >= duration || t >= last_end : t >= last_end))
                break;
            if (t - last_progress > 5'000'000'000ull)
                die("stalled: no %s for 5 s", opt_.mode == Mode::handshake ? "handshake"
                                              : opt_.mode == Mode::action  ? "reply"
                                                                           : "echo");
            const uint64_t until = !measuring_ ? warm_end : probe ? next_probe : last_end;
            const int timeout_ms = int(std::min<uint64_t>((until - t) / 1'000'000 + 1, 1000));
            const uint64_t before = completed_;
            poll_once(timeout_ms);
            if (completed_ != before) last_progress = now_ns();
        }
        report_echo(begin, snapshot(), probe != nullptr);
    }

    // A 101 on a notify route proves nothing about the token: a refused one gets its 101, then
    // fatalError and close 1008. So before a handshake run, one connection on the same path
    // does an action round trip and must get the right reply. Blocking, 5 s at most per read.
    void check_action() {
        const std::string where = opt_.path.substr(0, opt_.path.find('?'));
        const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) die("check: socket: %s", std::strerror(errno));
        timeval tv{5, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        if (connect(fd, reinterpret_cast<sockaddr*>(&addr_), sizeof addr_) < 0)
            die("check: connect to port %d: %s", opt_.port, std::strerror(errno));
        const HsKey k = make_key();
        const auto send_all = [&](const std::string& data) {
            if (write(fd, data.data(), data.size()) != ssize_t(data.size()))
                die("check: write: %s", std::strerror(errno));
        };
        std::string in;
        const auto fill = [&] {
            const ssize_t n = read(fd, rbuf_.data(), rbuf_.size());
            if (n <= 0)
                die("check on %s: %s", where.c_str(),
                    n == 0 ? "the server closed the connection"
                    : errno == EAGAIN ? "no answer within 5 s" : std::strerror(errno));
            in.append(rbuf_.data(), size_t(n));
        };
        send_all(k.request);
        size_t end;
        while ((end = in.find("\r\n\r\n")) == std::string::npos) fill();
        const std::string fault = ws_client::check_response(in.substr(0, end + 2), k.accept);
        if (!fault.empty()) die("check on %s: %s", where.c_str(), fault.c_str());
        in.erase(0, end + 4);
        const std::string_view ask = R"({"action":"echo","data":1})";
        const std::string_view want = R"({"action":"echo","data":"1"})";
        std::string frame;
        frame.resize(ws_client::build_frame(frame, 0x81, ask, uint32_t(rng())));
        send_all(frame);
        ws_client::FrameHeader h;
        for (;;) {
            h = ws_client::parse_header(reinterpret_cast<const unsigned char*>(in.data()), in.size());
            if (h.status == ws_client::FrameHeader::Masked) die("check: server sent a masked frame");
            if (h.status == ws_client::FrameHeader::Ok && in.size() >= h.size + h.length) break;
            fill();
        }
        const std::string_view got(in.data() + h.size, size_t(h.length));
        if ((h.b0 & 0x0f) != 0x1 || got != want)
            die("check on %s: %.*s got opcode %d \"%.*s\" back, not %.*s (token refused?)",
                where.c_str(), int(ask.size()), ask.data(), h.b0 & 0x0f,
                int(std::min<size_t>(got.size(), 300)), got.data(), int(want.size()), want.data());
        reset_close(fd);
        std::printf("check: action round trip on %s ok\n", where.c_str());
    }

    // Serves the connections (pongs, detecting closes) until the deadline.
    void idle_until(uint64_t deadline) {
        for (uint64_t t; (t = now_ns()) < deadline;) poll_once(int((deadline - t) / 1'000'000) + 1);
    }

private:
    static constexpr int kMaxEvents = 1024;

    // ---- handshake mode ----------------------------------------------------------------
    // Each Conn is a client slot: connect, upgrade request, 101, reset, and again. The keys
    // and requests come from a pool made beforehand: the server hashes every key anyway, the
    // load generator need not.

    struct HsKey {
        std::string request, accept;
    };

    HsKey make_key() {
        const std::string key = new_handshake_key();
        return {ws_client::handshake_request(opt_.path, opt_.host, opt_.port, key),
                ws_client::expected_accept(key)};
    }

    // Closes with a reset (SO_LINGER 0): the socket goes straight to CLOSED on both sides,
    // no TIME_WAIT anywhere, so tens of thousands of connections per second never run out of
    // ephemeral ports. The server sees ECONNRESET on its next read and closes its side.
    static void reset_close(int fd) {
        linger lg{1, 0};
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        close(fd);
    }

    void hs_start(size_t idx) {
        if (hs_keys_.empty()) {
            for (int i = 0; i < 1024; ++i) hs_keys_.push_back(make_key());
            hs_request_size_ = hs_keys_[0].request.size();
        }
        Conn& c = conns_[idx];
        c.fd = tcp_socket("client", idx);
        c.state = State::Connecting;
        c.in.clear();
        c.out.clear();
        c.sent_ns = now_ns();
        start_connect(c.fd, addr_, "client", idx);
        // Edge-triggered: one registration per connection, no EPOLL_CTL_MOD; the 101 is read
        // until EAGAIN. Closing the descriptor removes it from the epoll set.
        epoll_add(ep_, c.fd, EPOLLIN | EPOLLOUT | EPOLLET, idx);
        if (tls_ctx_) {
            c.ssl = tls::new_session(tls_ctx_, opt_.tls, c.fd);
            hs_tls_step(idx, 0);  // the ClientHello goes now if the connection is established
            return;
        }
        hs_send(c);  // on loopback the connection is often established by now
    }

    // Handshake mode with TLS, driven by every event of the client: the TLS handshake (edge-
    // triggered: OpenSSL reads and writes until the socket says EAGAIN), then the upgrade
    // request and its 101 over TLS, or (--upgrade 0) close_notify and the server's close.
    void hs_tls_step(size_t idx, uint32_t events) {
        Conn& c = conns_[idx];
        if (c.state == State::Connecting || c.state == State::TlsHandshake) {
            c.state = State::TlsHandshake;
            ERR_clear_error();
            errno = 0;
            const int r = SSL_connect(c.ssl);
            if (r != 1) {
                const int e = SSL_get_error(c.ssl, r);
                if ((e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) && !(events & EPOLLERR))
                    return;
                const int err = connect_result(c.fd);
                die("TLS handshake of client %zu with port %d: %s: %s", idx, opt_.port,
                    tls::error_name(e),
                    err ? std::strerror(err) : e == SSL_ERROR_SYSCALL && errno ? std::strerror(errno)
                                                                                : tls::errors().c_str());
            }
            if (negotiated_.version.empty()) negotiated_ = tls::negotiated(c.ssl);
            if (opt_.tls.upgrade) {
                const HsKey& k = hs_keys_[hs_next_key_++ % hs_keys_.size()];
                if (tls::write_or_queue(c.ssl, c.out, k.request.data(), k.request.size()))
                    die("the upgrade request did not fit in the socket buffer");
                c.accept = k.accept;
                c.state = State::Handshake;
            } else {
                ERR_clear_error();
                if (SSL_shutdown(c.ssl) < 0)
                    die("TLS close_notify of client %zu: %s", idx, tls::errors().c_str());
                c.state = State::Closing;
            }
        }
        for (;;) {
            bool eof = false;
            const size_t n = tls::read_some(c.ssl, rbuf_.data(), rbuf_.size(), &eof);
            if (eof) {
                if (c.state == State::Closing) break;
                die("server closed client %zu during the handshake", idx);
            }
            if (n == 0) return;  // the rest comes with the next edge
            if (c.state == State::Closing)
                die("%zu bytes of data from the server after a TLS handshake (--upgrade 0)", n);
            c.in.append(rbuf_.data(), n);
            const size_t end = handshake_end(c.in, c.accept, opt_.path);
            if (end == std::string::npos) continue;
            if (c.in.size() > end + 4)
                die("%zu bytes right after the 101 (token refused?): %.*s",
                    c.in.size() - end - 4, int(std::min<size_t>(c.in.size() - end - 4, 200)),
                    c.in.data() + end + 4);
            break;
        }
        hs_done(idx);
    }

    // A handshake completed: counted, the connection reset, the slot starts the next one.
    void hs_done(size_t idx) {
        Conn& c = conns_[idx];
        ++completed_;
        if (measuring_) {
            samples_.push_back(now_ns() - c.sent_ns);
            ++c.window_msgs;
        }
        if (c.ssl) {
            SSL_free(c.ssl);  // the descriptor stays open: SSL_set_fd does not hand it over
            c.ssl = nullptr;
        }
        reset_close(c.fd);
        hs_start(idx);
    }

    // Sends the upgrade request if the connection is established (else EAGAIN: EPOLLOUT
    // will tell).
    void hs_send(Conn& c) {
        const HsKey& k = hs_keys_[hs_next_key_++ % hs_keys_.size()];
        const ssize_t n = write(c.fd, k.request.data(), k.request.size());
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) return;
            die("connect to port %d: %s", opt_.port, std::strerror(errno));
        }
        if (size_t(n) != k.request.size()) die("short write of the upgrade request");
        c.accept = k.accept;
        c.state = State::Handshake;
    }

    void hs_event(size_t idx, uint32_t events) {
        Conn& c = conns_[idx];
        if (c.ssl) return hs_tls_step(idx, events);
        if (c.state == State::Connecting) {
            if (events & EPOLLOUT) hs_send(c);
            if (c.state == State::Connecting) {
                if (!(events & (EPOLLERR | EPOLLHUP))) return;
                const int err = connect_result(c.fd);
                die("connect to port %d: %s", opt_.port, err ? std::strerror(err) : "hang-up");
            }
        }
        for (;;) {
            const ssize_t n = read(c.fd, rbuf_.data(), rbuf_.size());
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && errno == EAGAIN) return;  // the rest comes with the next edge
            if (n <= 0)
                die("server closed client %zu during the handshake (%s)", idx,
                    n == 0 ? "EOF" : std::strerror(errno));
            c.in.append(rbuf_.data(), size_t(n));
            const size_t end = handshake_end(c.in, c.accept, opt_.path);
            if (end == std::string::npos) continue;
            // Nothing is due after the 101 before the client speaks; a refused token gets a
            // fatalError and a close right behind it (the server writes them together).
            if (c.in.size() > end + 4)
                die("%zu bytes right after the 101 (token refused?): %.*s",
                    c.in.size() - end - 4, int(std::min<size_t>(c.in.size() - end - 4, 200)),
                    c.in.data() + end + 4);
            break;
        }
        hs_done(idx);
    }

    // The window's readings; the count is of the echoes (round trips, handshakes) completed
    // in the window so far.
    Snapshot snapshot() const {
        Snapshot s;
        read_snapshot(s, opt_.server_pid, samples_.size());
        return s;
    }

    double record_probe(CrossCpuProbe& probe) {
        const double ns = probe.measure();
        xcpu_.push_back(ns);
        return ns;
    }

    void poll_once(int timeout_ms) {
        int n = epoll_wait(ep_, events_, kMaxEvents, timeout_ms);
        if (n < 0 && errno != EINTR) die("epoll_wait: %s", std::strerror(errno));
        if (opt_.mode == Mode::handshake) {
            for (int i = 0; i < n; ++i) hs_event(size_t(events_[i].data.u64), events_[i].events);
            return;
        }
        for (int i = 0; i < n; ++i) on_event(conns_[events_[i].data.u64], events_[i].events);
    }

    void report_echo(const Snapshot& a, const Snapshot& b, bool probed) {
        if (samples_.empty()) die("no echo completed in the measured window");
        const double hz = double(sysconf(_SC_CLK_TCK));
        const double elapsed = double(b.t_ns - a.t_ns) / 1e9;
        // The figures: over the near intervals if there are any, else over everything.
        const char* placement = placement_of(probed, near_.ns, opt_.duration);
        Totals w{b.t_ns - a.t_ns, b.count - a.count, b.server_ticks - a.server_ticks};
        if (probed && near_.ns > 0) w = near_;
        if (w.count == 0) die("no echo completed in the measured window");
        const double secs = double(w.ns) / 1e9, msgs = double(w.count);
        const double cpu_us = double(w.server_ticks) * 1e6 / hz / msgs;
        const double own_us = (b.own_us - a.own_us) / double(b.count - a.count);
        // Disturbance over the whole elapsed time, in percent of one CPU.
        const auto [others_pct, steal_pct] = disturbance(a, b, hz);
        const double xcpu_p50 = median_xcpu(xcpu_);
        size_t starved = 0;
        for (const Conn& c : conns_) starved += c.window_msgs == 0;
        const bool hs = opt_.mode == Mode::handshake;
        const char* unit = hs ? "handshake" : opt_.mode == Mode::action ? "round trip" : "echo";
        if (starved)
            std::fprintf(stderr, "loadgen: warning: %zu %s got no %s in the window\n", starved,
                         hs ? "clients" : "connections", unit);
        const double p50 = percentile_us(samples_, 0.50), p99 = percentile_us(samples_, 0.99),
                     max = percentile_us(samples_, 1.0);
        if (hs)
            std::printf("handshake: %d clients, %s: %.0f handshakes/s over %.2f s\n",
                        opt_.conns,
                        !opt_.tls.enabled  ? ("path " + opt_.path.substr(0, 40)).c_str()
                        : opt_.tls.upgrade ? ("TLS + upgrade, path " + opt_.path.substr(0, 40)).c_str()
                                           : "TLS only",
                        msgs / secs, secs);
        else
            std::printf("%s: %d connections, %zu-byte messages: %.0f messages/s over %.2f s\n",
                        mode_name(opt_.mode), opt_.conns, message_size(), msgs / secs, secs);
        std::printf("  placement %s: CPUs near for %.2f of %.2f s (round trip p50 %.0f ns)\n"
                    "  latency p50 %.1f us, p99 %.1f us, max %.1f us (whole %.2f s)\n"
                    "  CPU per %s: server %.2f us, loadgen %.2f us\n"
                    "  other processes used %.1f%% of a CPU; hypervisor steal %.1f%%\n%s",
                    placement, double(near_.ns) / 1e9, elapsed, xcpu_p50, p50, p99, max, elapsed,
                    unit, cpu_us, own_us, others_pct, steal_pct,
                    opt_.tls.enabled ? ("  TLS: " + negotiated_.version + " " + negotiated_.cipher +
                                        ", server key " + negotiated_.key + "\n").c_str()
                                     : "");
        // The keys are those of echo whatever the mode: a "msg" is one round trip in action
        // mode and one handshake in handshake mode (size is then the request's size).
        std::printf("RESULT mode=%s conns=%d size=%zu window_s=%.3f elapsed_s=%.3f msgs=%.0f "
                    "msgs_per_s=%.0f p50_us=%.1f p99_us=%.1f cpu_us_per_msg=%.3f "
                    "loadgen_cpu_us_per_msg=%.3f starved=%zu others_cpu_pct=%.1f "
                    "steal_pct=%.1f placement=%s xcpu_ns=%.0f%s\n",
                    mode_name(opt_.mode), opt_.conns, message_size(), secs,
                    elapsed, msgs, msgs / secs, p50, p99, cpu_us, own_us, starved, others_pct,
                    steal_pct, placement, xcpu_p50,
                    !opt_.tls.enabled ? " tls=0"
                    : (" tls=1 tls_version=" + negotiated_.version + " tls_cipher=" +
                       negotiated_.cipher + " tls_key=" + negotiated_.key +
                       " tls_upgrade=" + (opt_.tls.upgrade ? "1" : "0")).c_str());
    }

    // Bytes of what one operation sends: the message, or the upgrade request.
    size_t message_size() const {
        return opt_.mode == Mode::handshake ? hs_request_size_
               : opt_.mode == Mode::action  ? action_message(opt_.action, "10000000").size()
                                            : opt_.size;
    }

    void open_connection(size_t idx) {
        Conn& c = conns_[idx];
        c.fd = tcp_socket("connection", idx);
        set_nodelay(c.fd);
        if (opt_.src_addrs > 1) {
            // Past ~28k connections one source address runs out of ephemeral ports; spread
            // over 127.0.0.1..K. IP_BIND_ADDRESS_NO_PORT defers the port choice to connect(),
            // which can then reuse a port across different destinations.
            int one = 1;
            setsockopt(c.fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
            sockaddr_in src{};
            src.sin_family = AF_INET;
            src.sin_addr.s_addr = htonl(0x7f000001u + uint32_t(idx % size_t(opt_.src_addrs)));
            if (bind(c.fd, reinterpret_cast<sockaddr*>(&src), sizeof src) < 0)
                die("bind source address: %s", std::strerror(errno));
        }
        start_connect(c.fd, addr_, "connection", idx);
        epoll_add(ep_, c.fd, EPOLLOUT, idx);
    }

    void set_events(Conn& c, uint32_t events) {
        epoll_modify(ep_, c.fd, events, uint64_t(&c - conns_.data()));
    }

    void on_event(Conn& c, uint32_t events) {
        if (c.state == State::Connecting) {
            const int err = connect_result(c.fd);
            if (err) die("connect to port %d: %s", opt_.port, std::strerror(err));
            if (!tls_ctx_) return send_handshake(c);
            c.ssl = tls::new_session(tls_ctx_, opt_.tls, c.fd);
            c.state = State::TlsHandshake;
        }
        if (c.state == State::TlsHandshake) return tls_handshake_step(c);
        if (events & EPOLLOUT) flush(c);
        if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) on_readable(c);
    }

    void send_handshake(Conn& c) {
        const std::string key = new_handshake_key();
        c.accept = ws_client::expected_accept(key);
        const std::string req = ws_client::handshake_request(opt_.path, opt_.host, opt_.port, key);
        c.state = State::Handshake;
        set_events(c, EPOLLIN);
        write_all(c, req.data(), req.size());
    }

    // The TLS handshake of a connection (level-triggered: waits for what OpenSSL asks for),
    // then the upgrade request over it.
    void tls_handshake_step(Conn& c) {
        ERR_clear_error();
        errno = 0;
        const int r = SSL_connect(c.ssl);
        if (r == 1) {
            if (negotiated_.version.empty()) negotiated_ = tls::negotiated(c.ssl);
            return send_handshake(c);
        }
        const int e = SSL_get_error(c.ssl, r);
        if (e == SSL_ERROR_WANT_READ) return set_events(c, EPOLLIN);
        if (e == SSL_ERROR_WANT_WRITE) return set_events(c, EPOLLIN | EPOLLOUT);
        die("TLS handshake of connection %zu with port %d: %s: %s", size_t(&c - conns_.data()),
            opt_.port, tls::error_name(e),
            e == SSL_ERROR_SYSCALL && errno ? std::strerror(errno) : tls::errors().c_str());
    }

    // One read per readiness event (level-triggered: leftovers come back next turn). With TLS,
    // the records that have arrived (OpenSSL reads ahead, then they are decrypted one by one).
    void on_readable(Conn& c) {
        size_t got = 0;
        if (c.ssl) {
            bool eof = false;
            got = tls::read_some(c.ssl, rbuf_.data(), rbuf_.size(), &eof);
            if (eof) die("server closed connection %zu (TLS close_notify or EOF)", size_t(&c - conns_.data()));
            if (got == 0) return;
        } else {
            const ssize_t n = read(c.fd, rbuf_.data(), rbuf_.size());
            if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
            if (n <= 0)
                die("server closed connection %zu (%s)", size_t(&c - conns_.data()),
                    n == 0 ? "EOF" : std::strerror(errno));
            got = size_t(n);
        }
        c.in.append(rbuf_.data(), got);
        if (c.state == State::Handshake && !parse_handshake(c)) return;
        parse_frames(c);
    }

    // Returns true once the whole 101 response has arrived and checked out.
    bool parse_handshake(Conn& c) {
        const size_t end = handshake_end(c.in, c.accept, opt_.path);
        if (end == std::string::npos) return false;
        c.in.erase(0, end + 4);
        c.state = State::Open;
        return true;
    }

    // Handles every complete frame in c.in and keeps the rest for the next read.
    void parse_frames(Conn& c) {
        size_t pos = 0;
        for (;;) {
            const auto* b = reinterpret_cast<const unsigned char*>(c.in.data()) + pos;
            const size_t avail = c.in.size() - pos;
            const ws_client::FrameHeader h = ws_client::parse_header(b, avail);
            if (h.status == ws_client::FrameHeader::Masked) die("server sent a masked frame");
            if (h.status == ws_client::FrameHeader::NeedMore) break;
            if (h.length > (uint64_t(1) << 30))
                die("frame of %llu bytes", static_cast<unsigned long long>(h.length));
            if (avail < h.size + h.length) break;
            on_frame(c, h.b0, std::string_view(c.in.data() + pos + h.size, size_t(h.length)));
            pos += h.size + size_t(h.length);
        }
        c.in.erase(0, pos);
    }

    void on_frame(Conn& c, unsigned char b0, std::string_view data) {
        const bool fin = b0 & 0x80;
        const int opcode = b0 & 0x0f;
        switch (opcode) {
        case 0x9: send_frame(c, 0x8a, data); return;  // ping -> pong with the same data
        case 0xa: return;                              // unsolicited pong
        case 0x8: {
            const std::string_view reason = close_reason(data);
            die("server sent close %u \"%.*s\"", close_code(data), int(reason.size()),
                reason.data());
        }
        case 0x1:
        case 0x2:
            if (c.fragmented) die("new message inside a fragmented one");
            if (opcode != 0x1) die("echo of a text message came back as binary");
            if (fin) return on_message(c, data);
            c.fragmented = true;
            c.fragments.assign(data);
            return;
        case 0x0:
            if (!c.fragmented) die("continuation frame without a message");
            c.fragments.append(data);
            if (fin) {
                c.fragmented = false;
                on_message(c, c.fragments);
            }
            return;
        default: die("unknown opcode %d", opcode);
        }
    }

    void on_message(Conn& c, std::string_view msg) {
        if (!c.waiting)
            die("message received with none in flight: %.*s", int(std::min<size_t>(msg.size(), 300)),
                msg.data());
        if (opt_.mode == Mode::action) {
            // The whole reply, exactly: a fatalError (refused token), an error (unknown
            // action) or a stale reply fails the run and shows what came back.
            if (msg != c.expect)
                die("action reply differs from the expected one:\n  sent     %s\n  expected %s\n"
                    "  got      %.*s", c.payload.c_str(), c.expect.c_str(),
                    int(std::min<size_t>(msg.size(), 300)), msg.data());
        } else {
            // Comparing the whole payload costs a memcmp: cheap next to two syscalls, and it
            // catches servers that drop, truncate, reorder or replay messages.
            if (msg.size() != c.payload.size()) die("echo of %zu bytes came back with %zu",
                                                    c.payload.size(), msg.size());
            if (msg != c.payload) die("echo content differs from what was sent");
        }
        c.waiting = false;
        ++completed_;
        if (measuring_) {
            samples_.push_back(now_ns() - c.sent_ns);
            ++c.window_msgs;
        }
        if (!opt_.idle) send_message(c);
    }

    // Text message of opt_.size ASCII bytes; the first bytes carry a running counter in hex
    // so that no two consecutive messages are equal (a replayed echo would not match).
    void send_message(Conn& c) {
        if (opt_.mode == Mode::action) {
            // An 8-digit id that changes with every message, so a stale reply cannot pass. It is
            // written in place into both strings (no allocation: the load generator's cost
            // per message should stay as close to echo's as it can).
            static const std::string message = action_message(opt_.action, "10000000"),
                                     reply = action_reply(opt_.action, "10000000");
            static const size_t at_message = message.find("10000000"), at_reply = reply.find("10000000");
            if (c.payload.size() != message.size()) {
                c.payload = message;
                c.expect = reply;
            }
            uint64_t id = 10'000'000 + ++seq_ % 90'000'000;
            for (int i = 7; i >= 0; --i, id /= 10)
                c.payload[at_message + size_t(i)] = c.expect[at_reply + size_t(i)] = char('0' + id % 10);
            c.waiting = true;
            c.sent_ns = now_ns();
            send_frame(c, 0x81, c.payload);
            return;
        }
        if (c.payload.size() != opt_.size) {
            c.payload.resize(opt_.size);
            for (size_t i = 0; i < opt_.size; ++i) c.payload[i] = char('a' + i % 26);
        }
        uint64_t seq = ++seq_;
        for (size_t i = 0; i < std::min<size_t>(opt_.size, 16); ++i, seq >>= 4)
            c.payload[i] = "0123456789abcdef"[seq & 15];
        c.waiting = true;
        c.sent_ns = now_ns();
        send_frame(c, 0x81, c.payload);
    }

    // Builds one masked client frame and writes it with a single write().
    void send_frame(Conn& c, unsigned char b0, std::string_view data) {
        const size_t len = ws_client::build_frame(frame_, b0, data, uint32_t(rng()));
        write_all(c, frame_.data(), len);
    }

    // Writes what the kernel takes now; queues the rest and waits for EPOLLOUT.
    void write_all(Conn& c, const char* data, size_t len) {
        if (c.ssl ? tls::write_or_queue(c.ssl, c.out, data, len) : write_or_queue(c.fd, c.out, data, len))
            set_events(c, EPOLLIN | EPOLLOUT);
    }

    void flush(Conn& c) {
        if (c.ssl ? tls::flush(c.ssl, c.out) : flush_queued(c.fd, c.out)) set_events(c, EPOLLIN);
    }

    Options opt_;
    std::vector<Conn> conns_;
    sockaddr_in addr_{};
    int ep_ = -1;
    epoll_event events_[kMaxEvents];
    std::vector<char> rbuf_;
    std::string frame_;
    std::vector<uint64_t> samples_;  // latency in ns of every echo completed in the window
    size_t next_ = 0, opened_ = 0;  // connections started, connections past the handshake
    uint64_t completed_ = 0, seq_ = 0;
    bool measuring_ = false;
    Totals near_;                // the intervals measured with the CPUs near
    std::vector<double> xcpu_;   // every probe's round trip in ns
    std::vector<HsKey> hs_keys_; // handshake mode: requests to send and the accepts they get
    size_t hs_next_key_ = 0, hs_request_size_ = 0;
    SSL_CTX* tls_ctx_ = nullptr;  // --tls: the client context of every connection
    tls::Negotiated negotiated_;  // what the first TLS handshake agreed on
};

}  // namespace

int main(int argc, char** argv) {
    setvbuf(stdout, nullptr, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);  // a server that vanished must be reported, not kill us silently
    if (fanout_requested(argc, argv)) return fanout_main(argc, argv);
    const Options opt = parse_args(argc, argv);
    raise_fd_limit(opt.conns);
    if (kill(opt.server_pid, 0) < 0 && errno == ESRCH) die("no process %d", int(opt.server_pid));

    LoadGen lg(opt);
    if (opt.check_action) lg.check_action();
    if (opt.mode == Mode::handshake) {
        lg.run_echo();
        return 0;
    }
    if (!opt.idle) {
        lg.connect_all();
        lg.run_echo();
        return 0;
    }
    // The brief's figure: growth from no connection to N, divided by N. It includes what the
    // server allocates once, on first use (libraries' lazy initialisation, buffers per loop),
    // so the marginal figure is given too: the growth over the last 90% of the connections.
    const uint64_t settle = uint64_t(opt.idle_wait * 1e9);
    const size_t first = size_t(opt.conns) / 10;
    const long long rss0 = server_rss(opt.server_pid);
    const uint64_t t0 = now_ns();
    lg.connect_all(first);
    lg.idle_until(now_ns() + settle / 4);
    const long long rss_first = server_rss(opt.server_pid);
    lg.connect_all();
    const double connect_s = double(now_ns() - t0) / 1e9;
    // Let the server settle (deferred allocations, GC in managed runtimes) before measuring.
    lg.idle_until(now_ns() + settle);
    const long long rss1 = server_rss(opt.server_pid);
    const double per_conn = double(rss1 - rss0) / opt.conns;
    const double marginal = double(rss1 - rss_first) / double(size_t(opt.conns) - first);
    std::printf("idle: %d connections\n  server VmRSS: %lld KiB before, %lld KiB after %zu, "
                "%lld KiB after all\n  %.0f bytes per connection, %.0f bytes per connection "
                "after the first %zu\n",
                opt.conns, rss0 / 1024, rss_first / 1024, first, rss1 / 1024, per_conn,
                marginal, first);
    std::printf("RESULT mode=idle conns=%d rss_before_kib=%lld rss_after_kib=%lld "
                "rss_per_conn_bytes=%.0f rss_marginal_per_conn_bytes=%.0f connect_s=%.2f\n",
                opt.conns, rss0 / 1024, rss1 / 1024, per_conn, marginal, connect_s);
    return 0;
}

// fanout.cpp: capstan_loadgen --mode fanout, the broadcast benchmark.
//
// N WebSocket connections, all receivers; connection 0 is also the publisher. In a loop, the
// publisher writes a burst of B text messages in one write(), and the next burst leaves only
// once every connection has received all B of them, so the server always fans out exactly
// B x N messages per burst. One thread, epoll, loopback only, like the other modes.
//
// Reports deliveries/s (messages received by all connections in the window / its seconds),
// the server's CPU time per delivery (/proc/PID/stat) and the load generator's own; with
// --probe-cpu the figures cover only the parts of the window in which the two CPUs were near
// (xcpu_probe.hpp), as in echo mode. The last line is "RESULT mode=fanout ...".
//
// Every delivery is checked against the message it must be, in order, per connection (each
// message carries a running counter): a lost, duplicated, reordered or altered delivery, a
// close, a binary or fragmented frame, or 5 s without any delivery ends the run with an error.
//
// Channels (pub/sub servers): with --subscribe, every connection sends that text right after
// its handshake and must get a text frame starting with --subscribe-ack back before the
// bursts begin (the acks are not deliveries). --publish-template wraps each payload in the
// server's publish envelope, --delivery-template says what each subscriber must receive.

#include "fanout.hpp"

#include <sys/epoll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common.hpp"
#include "procfs.hpp"
#include "ws_client.hpp"
#include "xcpu_probe.hpp"

namespace {

using namespace loadgen;

// ---------------------------------------------------------------------------------------------
// Options

// Templates: the text of a message or a delivery with placeholders. {payload} is the
// payload (its first 16 bytes a running counter in hex), {seq} the publication's number in
// decimal, from 1 for the run's first message (so a server's numbered publications, e.g.
// pubsub's offset, must start at 1 on a fresh channel), and, in a delivery template only,
// {*} any run of 1 to 64 ASCII letters and digits (at most one; e.g. pubsub's epoch).
constexpr std::string_view kPayload = "{payload}", kSeq = "{seq}", kAny = "{*}";

// The default message and what the deliveries are by --reply. `same`: the bytes the publisher
// sent (ws, Bun). `notify`: Capstan's relay reply with data_as_string (its default), data as a
// string holding the JSON string.
constexpr std::string_view kDefaultMessage = R"({"action":"m","data":"{payload}"})";
constexpr std::string_view kNotifyDelivery = R"({"action":"m","data":"\"{payload}\""})";

// --size counts the payload's bytes inside the JSON message.
struct Options : CommonOptions {
    Options() : CommonOptions("/", 1000, 5, 1) {}  // path, connections, duration, warm-up
    int burst = 10;
    std::string message = std::string(kDefaultMessage);  // --publish-template
    std::string delivery;                                // --delivery-template; empty: --reply
    std::string subscribe;                               // sent after the handshake, if set
    std::string subscribe_ack = R"({"action":"subscribed")";  // how its ack must begin
    double stall = 5;             // seconds without a delivery that end the run
    bool busy_poll = false;       // epoll_wait without sleeping during the bursts
};

[[noreturn]] void usage() {
    std::fputs(
        "usage: capstan_loadgen --mode fanout --port N --server-pid PID [--host 127.0.0.1]\n"
        "         [--path /] [--connections 1000] [--burst 10] [--size 20] [--reply same|notify]\n"
        "         [--publish-template TEXT] [--delivery-template TEXT]\n"
        "         [--subscribe TEXT [--subscribe-ack PREFIX]] [--busy-poll 0|1]\n"
        "         [--duration 5] [--warmup 1] [--connect-timeout 60]\n"
        "         [--probe-cpu SERVER_CPU [--near-ns 250]]\n"
        "  Connection 0 publishes bursts of --burst messages {\"action\":\"m\",\"data\":\"<--size\n"
        "  bytes>\"} in one write; every connection must receive each of them (--reply same: the\n"
        "  bytes sent; notify: Capstan's relay reply, data as a string holding JSON).\n"
        "  --publish-template: the message instead, {payload} standing for the payload.\n"
        "  --delivery-template: what every delivery must be instead of --reply's: {payload}, {seq}\n"
        "  (the publication's number, from 1) and at most one {*} (1-64 letters and digits).\n"
        "  --subscribe: sent as a text message on every connection after its handshake; the\n"
        "  next text frame must begin with --subscribe-ack ({\"action\":\"subscribed\") before\n"
        "  the first burst. Acks are not counted as deliveries.\n"
        "  --busy-poll 1: never sleep in epoll_wait during the bursts (CPU 1 stays busy), so the\n"
        "  server's sends do not have to wake the load generator.\n",
        stderr);
    std::exit(2);
}

Options parse_args(int argc, char** argv) {
    Options o;
    std::string reply = "same";
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        if (a == "-h" || a == "--help" || i + 1 >= argc) usage();
        const char* v = argv[++i];
        if (a == "--mode") continue;  // fanout, or we would not be here
        if (parse_common_option(o, a, v)) continue;
        if (a == "--burst") o.burst = std::atoi(v);
        else if (a == "--reply") {
            const std::string_view r = v;
            if (r == "same") reply = "same";
            else if (r == "notify") reply = "notify";
            else usage();
        } else if (a == "--publish-template") o.message = v;
        else if (a == "--delivery-template") o.delivery = v;
        else if (a == "--subscribe") o.subscribe = v;
        else if (a == "--subscribe-ack") o.subscribe_ack = v;
        else if (a == "--busy-poll") o.busy_poll = std::atoi(v) != 0;
        else usage();
    }
    if (!common_options_valid(o) || o.burst <= 0 || o.burst > 100000 || o.size > (1u << 20))
        usage();
    if (o.delivery.empty()) o.delivery = reply == "notify" ? std::string(kNotifyDelivery) : o.message;
    const auto count = [](const std::string& t, std::string_view what) {
        size_t n = 0;
        for (size_t at = t.find(what); at != std::string::npos; at = t.find(what, at + 1)) ++n;
        return n;
    };
    // The payload's counter is what makes every message differ: a template without it could
    // not tell a stale delivery from the right one.
    if (count(o.message, kPayload) == 0) die("--publish-template must contain {payload}");
    if (count(o.message, kAny) != 0) die("--publish-template cannot contain {*}");
    if (count(o.delivery, kPayload) == 0) die("--delivery-template must contain {payload}");
    if (count(o.delivery, kAny) > 1) die("--delivery-template may contain {*} once at most");
    if (!o.subscribe.empty() && o.subscribe_ack.empty()) die("--subscribe-ack must not be empty");
    return o;
}

// ---------------------------------------------------------------------------------------------
// Messages: the payload's first 16 bytes are a running counter in hex, so no two messages of a
// run are equal and a stale or repeated delivery cannot pass the check.

std::string payload(uint64_t seq, size_t size) {
    std::string p(size, 'x');
    for (size_t i = 0; i < size; ++i) p[i] = char('a' + i % 26);
    for (size_t i = 0; i < std::min<size_t>(size, 16); ++i, seq >>= 4)
        p[i] = "0123456789abcdef"[seq & 15];
    return p;
}

// A template with {payload} and {seq} filled in ({*} is left as it is). The payload is hex
// digits and letters: nothing in it needs escaping in any JSON form, and it holds no brace.
std::string render(std::string_view t, const std::string& payload, uint64_t seq) {
    std::string out;
    out.reserve(t.size() + payload.size());
    for (size_t i = 0; i < t.size();) {
        if (t.substr(i, kPayload.size()) == kPayload) out += payload, i += kPayload.size();
        else if (t.substr(i, kSeq.size()) == kSeq) out += std::to_string(seq), i += kSeq.size();
        else out += t[i++];
    }
    return out;
}

// What one delivery must be: exactly `head`, or, with a {*} in the template, `head`, 1 to 64
// letters and digits, then `tail`.
struct Expected {
    std::string head, tail;
    bool wild = false;

    Expected(std::string_view t, const std::string& payload, uint64_t seq) {
        const std::string all = render(t, payload, seq);
        const size_t at = all.find(kAny);
        wild = at != std::string::npos;
        head = all.substr(0, at);
        if (wild) tail = all.substr(at + kAny.size());
    }

    bool matches(std::string_view d) const {
        if (!wild) return d == head;
        if (d.size() < head.size() + tail.size() + 1 || d.size() > head.size() + tail.size() + 64)
            return false;
        if (d.substr(0, head.size()) != head || d.substr(d.size() - tail.size()) != tail)
            return false;
        for (const char ch : d.substr(head.size(), d.size() - head.size() - tail.size()))
            if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')))
                return false;
        return true;
    }

    std::string shown() const { return wild ? head + std::string(kAny) + tail : head; }
};

// ---------------------------------------------------------------------------------------------
// The run

enum class State { Connecting, Handshake, Subscribing, Open };

struct Conn {
    int fd = -1;
    State state = State::Connecting;
    std::string accept;  // expected Sec-WebSocket-Accept
    std::string in;      // the start of a frame that a read split (usually empty)
    std::string out;     // publisher: what the kernel has not taken yet
    uint64_t got = 0;    // deliveries received since the first burst
};

class Fanout {
public:
    explicit Fanout(const Options& o)
        : opt_(o), conns_(size_t(o.conns)), addr_(loopback_address(o.host, o.port)),
          ep_(new_epoll()) {
        rbuf_.resize(256 * 1024);
        const std::string p = payload(0, o.size);
        message_size_ = render(o.message, p, 1).size();
        delivery_size_ = render(o.delivery, p, 1).size();  // with {*}: set by the first delivery
        if (!o.subscribe.empty())
            subscribe_frame_.resize(ws_client::build_frame(subscribe_frame_, 0x81, o.subscribe,
                                                           uint32_t(rng())));
    }

    // Opens every connection, a bounded number at a time so that the listen backlog never
    // overflows (a dropped SYN costs a 1 s retransmit).
    void connect_all() {
        const uint64_t deadline = now_ns() + uint64_t(opt_.connect_timeout * 1e9);
        size_t next = 0;
        while (opened_ < conns_.size()) {
            while (next < conns_.size() && next - opened_ < 256) open_connection(next++);
            if (now_ns() > deadline)
                die("timeout: only %zu of %zu connections completed the handshake%s", opened_,
                    conns_.size(), opt_.subscribe.empty() ? "" : " and got the subscribe ack");
            poll_once(100);
        }
    }

    // Bursts until the window is complete: it opens after the warm-up and holds `duration`
    // seconds (with --probe-cpu: of intervals with the CPUs near, or 3 x `duration` elapsed).
    void run() {
        std::unique_ptr<CrossCpuProbe> probe;
        if (opt_.probe_cpu >= 0) probe = std::make_unique<CrossCpuProbe>(opt_.probe_cpu);
        const uint64_t start = now_ns(), duration = uint64_t(opt_.duration * 1e9);
        const uint64_t warm_end = start + uint64_t(opt_.warmup * 1e9);
        const uint64_t last_end = warm_end + (probe ? 3 : 1) * duration;
        const uint64_t probe_every = 250'000'000;
        Snapshot begin, mark;
        uint64_t next_probe = 0, last_progress = start, seen = 0;
        send_burst();
        for (;;) {
            const uint64_t t = now_ns();
            if (!measuring_ && t >= warm_end) {
                begin = mark = snapshot(probe.get());
                next_probe = mark.t_ns + probe_every;
                measuring_ = true;
            }
            if (measuring_ && probe && t >= next_probe) {
                const Snapshot next = snapshot(probe.get());
                add_if_near(near_, mark, next, opt_.near_ns);
                mark = next;
                next_probe = t + probe_every;
            }
            if (measuring_ && (t >= last_end || (probe && near_.ns >= duration))) break;
            if (delivered_ != seen) seen = delivered_, last_progress = t;
            if (t - last_progress > uint64_t(opt_.stall * 1e9)) die_stalled();
            poll_once(opt_.busy_poll ? 0 : 20);
        }
        report(begin, snapshot(nullptr), probe != nullptr);
    }

private:
    static constexpr int kMaxEvents = 1024;

    // ---- connecting ---------------------------------------------------------------------

    void open_connection(size_t idx) {
        Conn& c = conns_[idx];
        c.fd = tcp_socket("connection", idx);
        set_nodelay(c.fd);
        start_connect(c.fd, addr_, "connection", idx);
        epoll_add(ep_, c.fd, EPOLLOUT, idx);
    }

    void set_events(Conn& c, uint32_t events) {
        epoll_modify(ep_, c.fd, events, uint64_t(&c - conns_.data()));
    }

    void send_handshake(Conn& c) {
        if (const int err = connect_result(c.fd))
            die("connect to port %d: %s", opt_.port, std::strerror(err));
        const std::string key = new_handshake_key();
        c.accept = ws_client::expected_accept(key);
        c.state = State::Handshake;
        set_events(c, EPOLLIN);
        const std::string req = ws_client::handshake_request(opt_.path, opt_.host, opt_.port, key);
        write_all(c, req.data(), req.size());
    }

    // Returns true once the whole 101 has arrived and checked out; the bytes behind it stay
    // in c.in. With --subscribe the subscription leaves now and the connection counts as open
    // once its ack arrives (on_frame).
    bool parse_handshake(Conn& c) {
        const size_t end = handshake_end(c.in, c.accept, opt_.path);
        if (end == std::string::npos) return false;
        c.in.erase(0, end + 4);
        if (opt_.subscribe.empty()) {
            c.state = State::Open;
            ++opened_;
        } else {
            c.state = State::Subscribing;
            write_all(c, subscribe_frame_.data(), subscribe_frame_.size());
        }
        return true;
    }

    // The first text frame after the subscription must be its ack.
    void on_subscribe_ack(Conn& c, std::string_view data) {
        if (data.substr(0, opt_.subscribe_ack.size()) != opt_.subscribe_ack)
            die("connection %zu: the answer to the subscription does not begin with %s:\n  %.*s",
                index(c), opt_.subscribe_ack.c_str(), int(std::min<size_t>(data.size(), 300)),
                data.data());
        if (ack_.empty()) ack_.assign(data.substr(0, 300));
        c.state = State::Open;
        ++opened_;
    }

    // ---- events -------------------------------------------------------------------------

    void poll_once(int timeout_ms) {
        const int n = epoll_wait(ep_, events_, kMaxEvents, timeout_ms);
        if (n < 0 && errno != EINTR) die("epoll_wait: %s", std::strerror(errno));
        polls_ += measuring_;
        for (int i = 0; i < n; ++i) on_event(conns_[events_[i].data.u64], events_[i].events);
    }

    void on_event(Conn& c, uint32_t events) {
        if (c.state == State::Connecting) return send_handshake(c);
        if (events & EPOLLOUT) flush(c);
        if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) on_readable(c);
    }

    // One read per readiness event (level-triggered: what is left comes back next turn). The
    // frames are parsed straight from the read buffer; only a split frame is copied.
    void on_readable(Conn& c) {
        const ssize_t n = read(c.fd, rbuf_.data(), rbuf_.size());
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
        if (n <= 0)
            die("server closed connection %zu (%s)", index(c),
                n == 0 ? "EOF" : std::strerror(errno));
        if (c.state == State::Handshake) {
            c.in.append(rbuf_.data(), size_t(n));
            if (parse_handshake(c)) c.in.erase(0, parse_frames(c, c.in.data(), c.in.size()));
            return;
        }
        if (c.in.empty()) {
            const size_t used = parse_frames(c, rbuf_.data(), size_t(n));
            c.in.assign(rbuf_.data() + used, size_t(n) - used);
        } else {
            c.in.append(rbuf_.data(), size_t(n));
            c.in.erase(0, parse_frames(c, c.in.data(), c.in.size()));
        }
    }

    // Handles every complete frame in [p, p + n); returns the bytes consumed.
    size_t parse_frames(Conn& c, const char* p, size_t n) {
        size_t pos = 0;
        for (;;) {
            const auto* b = reinterpret_cast<const unsigned char*>(p) + pos;
            const ws_client::FrameHeader h = ws_client::parse_header(b, n - pos);
            if (h.status == ws_client::FrameHeader::Masked) die("server sent a masked frame");
            if (h.status == ws_client::FrameHeader::NeedMore) break;
            if (h.length > (uint64_t(1) << 24))
                die("frame of %llu bytes", static_cast<unsigned long long>(h.length));
            if (n - pos < h.size + h.length) break;
            on_frame(c, h.b0, std::string_view(p + pos + h.size, size_t(h.length)));
            pos += h.size + size_t(h.length);
        }
        return pos;
    }

    void on_frame(Conn& c, unsigned char b0, std::string_view data) {
        const int opcode = b0 & 0x0f;
        if (b0 == 0x81) {  // FIN, text: the only thing we expect
            if (c.state == State::Subscribing) return on_subscribe_ack(c, data);
            return on_delivery(c, data);
        }
        if (opcode == 0x9) return send_frame(c, 0x8a, data);  // ping -> pong
        if (opcode == 0xa) return;                            // unsolicited pong
        if (opcode == 0x8) {
            const std::string_view reason = close_reason(data);
            die("server sent close %u \"%.*s\" on connection %zu", close_code(data),
                int(reason.size()), reason.data(), index(c));
        }
        die("connection %zu got a frame with opcode %d%s (byte 0x%02x); only unfragmented text "
            "frames are expected", index(c), opcode, (b0 & 0x80) ? "" : ", not final", b0);
    }

    // A delivery must be the next message of the current burst for this connection, exactly.
    void on_delivery(Conn& c, std::string_view data) {
        const uint64_t k = c.got - base_;
        if (k >= expected_.size())
            die("connection %zu got a message beyond the %zu of the burst: %.*s", index(c),
                expected_.size(), int(std::min<size_t>(data.size(), 200)), data.data());
        if (!expected_[k].matches(data))
            die("connection %zu, message %llu of burst %llu differs:\n  expected %s\n"
                "  got      %.*s",
                index(c), (unsigned long long)k, (unsigned long long)bursts_,
                expected_[k].shown().c_str(), int(std::min<size_t>(data.size(), 300)), data.data());
        if (expected_[k].wild && !wild_size_seen_) delivery_size_ = data.size(), wild_size_seen_ = true;
        ++c.got;
        ++delivered_;
        if (--remaining_ == 0) burst_done();
    }

    // ---- bursts -------------------------------------------------------------------------

    // The publisher writes the next B messages in one write(); every connection, the
    // publisher included, must then receive all of them.
    void send_burst() {
        base_ = bursts_ * uint64_t(opt_.burst);
        ++bursts_;
        expected_.clear();
        burst_buf_.clear();
        for (int i = 0; i < opt_.burst; ++i) {
            const std::string p = payload(++seq_, opt_.size);
            expected_.emplace_back(opt_.delivery, p, seq_);
            const std::string m = render(opt_.message, p, seq_);
            const size_t len = ws_client::build_frame(frame_, 0x81, m, uint32_t(rng()));
            burst_buf_.append(frame_.data(), len);
        }
        remaining_ = uint64_t(opt_.burst) * conns_.size();
        burst_sent_ns_ = now_ns();
        write_all(conns_[0], burst_buf_.data(), burst_buf_.size());
    }

    void burst_done() {
        if (measuring_) burst_ns_.push_back(now_ns() - burst_sent_ns_);
        send_burst();
    }

    // What the stall check tells: which burst, and who still waits for how much of it.
    [[noreturn]] void die_stalled() {
        size_t waiting = 0, first = 0;
        for (size_t i = conns_.size(); i-- > 0;)
            if (conns_[i].got - base_ < uint64_t(opt_.burst)) ++waiting, first = i;
        die("no delivery for %.0f s: burst %llu of %d messages; %zu of %zu connections "
            "still miss some (connection %zu got %llu)", opt_.stall, (unsigned long long)bursts_,
            opt_.burst, waiting, conns_.size(), first,
            (unsigned long long)(conns_[first].got - base_));
    }

    // ---- writing ------------------------------------------------------------------------

    void send_frame(Conn& c, unsigned char b0, std::string_view data) {
        const size_t len = ws_client::build_frame(frame_, b0, data, uint32_t(rng()));
        write_all(c, frame_.data(), len);
    }

    // Writes what the kernel takes now; queues the rest and waits for EPOLLOUT.
    void write_all(Conn& c, const char* data, size_t len) {
        if (write_or_queue(c.fd, c.out, data, len)) set_events(c, EPOLLIN | EPOLLOUT);
    }

    void flush(Conn& c) {
        if (flush_queued(c.fd, c.out)) set_events(c, EPOLLIN);
    }

    size_t index(const Conn& c) const { return size_t(&c - conns_.data()); }

    // ---- figures ------------------------------------------------------------------------

    // The readings at one end of an interval; the count is of the deliveries so far.
    Snapshot snapshot(CrossCpuProbe* probe) {
        Snapshot s;
        if (probe) {
            s.xcpu_ns = probe->measure();
            xcpu_.push_back(s.xcpu_ns);
        }
        read_snapshot(s, opt_.server_pid, delivered_);
        return s;
    }

    struct Figures {
        double secs = 0, elapsed = 0, deliveries = 0, server_us = 0, own_us = 0;
        double others_pct = 0, steal_pct = 0, per_poll = 0, burst_p50 = 0, burst_p99 = 0;
        size_t bursts = 0;
        const char* placement = "";
    };

    // The figures: over the near intervals if there are any, else over the whole window. The
    // load generator's CPU, the disturbance and the burst times: over the whole window.
    Figures figures(const Snapshot& a, const Snapshot& b, bool probed) {
        Totals w{b.t_ns - a.t_ns, b.count - a.count, b.server_ticks - a.server_ticks};
        if (probed && near_.ns > 0) w = near_;
        if (w.count == 0 || b.count == a.count) die("no delivery in the measured window");
        const double hz = double(sysconf(_SC_CLK_TCK));
        const double all = double(b.count - a.count);
        Figures f;
        f.secs = double(w.ns) / 1e9;
        f.elapsed = double(b.t_ns - a.t_ns) / 1e9;
        f.deliveries = double(w.count);
        f.server_us = double(w.server_ticks) * 1e6 / hz / f.deliveries;
        f.own_us = (b.own_us - a.own_us) / all;
        const Disturbance d = disturbance(a, b, hz);
        f.others_pct = d.others_pct;
        f.steal_pct = d.steal_pct;
        f.per_poll = all / double(std::max<uint64_t>(polls_, 1));
        f.bursts = burst_ns_.size();
        f.burst_p50 = percentile_us(burst_ns_, 0.5);
        f.burst_p99 = percentile_us(burst_ns_, 0.99);
        f.placement = placement_of(probed, near_.ns, opt_.duration);
        return f;
    }

    void report(const Snapshot& a, const Snapshot& b, bool probed) {
        const Figures f = figures(a, b, probed);
        if (!opt_.subscribe.empty())
            std::printf("fanout: %zu connections subscribed with %s; first ack %s\n",
                        conns_.size(), opt_.subscribe.c_str(), ack_.c_str());
        const double rate = f.deliveries / f.secs;
        std::printf("fanout: %d connections, bursts of %d, %zu-byte messages "
                    "(%zu-byte deliveries): %.0f deliveries/s over %.2f s\n"
                    "  placement %s: CPUs near for %.2f of %.2f s (round trip p50 %.0f ns)\n"
                    "  %zu bursts completed; one burst to all: p50 %.1f us, p99 %.1f us; "
                    "%.1f deliveries per epoll_wait\n"
                    "  CPU per delivery: server %.3f us, loadgen %.3f us\n"
                    "  other processes used %.1f%% of a CPU; hypervisor steal %.1f%%\n",
                    opt_.conns, opt_.burst, message_size_, delivery_size_, rate, f.secs,
                    f.placement, double(near_.ns) / 1e9, f.elapsed, median_xcpu(xcpu_), f.bursts,
                    f.burst_p50, f.burst_p99, f.per_poll, f.server_us, f.own_us, f.others_pct,
                    f.steal_pct);
        std::printf("RESULT mode=fanout conns=%d burst=%d size=%zu deliveries=%.0f window_s=%.3f "
                    "deliveries_per_s=%.0f server_cpu_us_per_delivery=%.4f "
                    "loadgen_cpu_us_per_delivery=%.4f elapsed_s=%.3f bursts=%zu "
                    "burst_p50_us=%.1f burst_p99_us=%.1f deliveries_per_poll=%.1f "
                    "message_bytes=%zu delivery_bytes=%zu others_cpu_pct=%.1f steal_pct=%.1f "
                    "placement=%s xcpu_ns=%.0f\n",
                    opt_.conns, opt_.burst, opt_.size, f.deliveries, f.secs, rate, f.server_us,
                    f.own_us, f.elapsed, f.bursts, f.burst_p50, f.burst_p99, f.per_poll,
                    message_size_, delivery_size_, f.others_pct, f.steal_pct, f.placement,
                    median_xcpu(xcpu_));
    }

    Options opt_;
    std::vector<Conn> conns_;
    sockaddr_in addr_{};
    int ep_ = -1;
    epoll_event events_[kMaxEvents];
    std::vector<char> rbuf_;
    std::string frame_, burst_buf_;
    std::vector<Expected> expected_;  // the deliveries of the current burst, in order
    std::string subscribe_frame_;     // --subscribe, framed and masked once for all
    std::string ack_;                 // the first subscribe ack, shown in the summary
    bool wild_size_seen_ = false;
    size_t opened_ = 0, message_size_ = 0, delivery_size_ = 0;
    uint64_t seq_ = 0, bursts_ = 0, base_ = 0;  // base_: each connection's `got` at burst start
    uint64_t remaining_ = 0;                    // deliveries the current burst still owes
    uint64_t delivered_ = 0, burst_sent_ns_ = 0;
    uint64_t polls_ = 0;  // epoll_wait calls in the window: how often the load generator woke
    bool measuring_ = false;
    std::vector<uint64_t> burst_ns_;  // write of a burst to its last delivery, in the window
    Totals near_;
    std::vector<double> xcpu_;
};

}  // namespace

int fanout_main(int argc, char** argv) {
    const Options opt = parse_args(argc, argv);
    raise_fd_limit(opt.conns);
    if (kill(opt.server_pid, 0) < 0 && errno == ESRCH) die("no process %d", int(opt.server_pid));
    Fanout f(opt);
    f.connect_all();
    f.run();
    return 0;
}

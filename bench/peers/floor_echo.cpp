// floor_echo: the "kernel cost" floor of the echo benchmark.
//
// The least a WebSocket echo server can do on Linux with epoll: per readiness event one
// read() into a single per-loop buffer, unmask each complete frame in place, rewrite it as a
// server frame and send everything with one write(). No per-connection buffer unless a frame
// is split across reads or the kernel refuses part of a write. It answers the HTTP upgrade
// (just enough for a correct 101) and otherwise parses nothing beyond frame headers: no
// UTF-8 check, no size limits, no timeouts. It is a reference for what the kernel costs, not a
// server to deploy.
//
// usage: floor_echo PORT      (listens on 127.0.0.1 only; one thread; level-triggered epoll)

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "floor_echo: %s: %s\n", what, std::strerror(errno));
    std::exit(1);
}

// The state of one connection, indexed by fd. Empty strings do not allocate, so an idle
// open connection costs only sizeof(Conn) (SSO strings: ~70 bytes).
struct Conn {
    bool used = false;
    bool upgraded = false;
    bool closing = false;  // a close frame was echoed: close once it is written
    std::string partial;   // request bytes or a frame split across reads
    std::string backlog;   // what the kernel did not take
};

int g_ep = -1;
std::vector<Conn> g_conns;
std::vector<unsigned char> g_buf(256 * 1024);  // the one receive buffer of the loop

void close_conn(int fd) {
    g_conns[size_t(fd)] = Conn{};
    close(fd);  // also removes fd from the epoll set
}

void watch(int fd, uint32_t events, int op) {
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = fd;
    if (epoll_ctl(g_ep, op, fd, &ev) < 0) fail("epoll_ctl");
}

// Writes with one write(); a remainder goes to the backlog and reading pauses (EPOLLOUT only)
// until it drains, which is all the backpressure this program has.
void send_out(int fd, Conn& c, const unsigned char* data, size_t len) {
    ssize_t n = write(fd, data, len);
    if (n < 0 && errno != EAGAIN && errno != EINTR) return close_conn(fd);
    size_t done = n < 0 ? 0 : size_t(n);
    if (done < len) {
        c.backlog.assign(reinterpret_cast<const char*>(data) + done, len - done);
        watch(fd, EPOLLOUT, EPOLL_CTL_MOD);
    } else if (c.closing) {
        close_conn(fd);
    }
}

// Answers the upgrade once the request headers are complete. Only Sec-WebSocket-Key is read.
void on_request(int fd, Conn& c) {
    size_t end = c.partial.find("\r\n\r\n");
    if (end == std::string::npos) {
        if (c.partial.size() > 8192) close_conn(fd);
        return;
    }
    std::string lower = c.partial.substr(0, end + 2);
    for (char& ch : lower) ch = char(std::tolower(static_cast<unsigned char>(ch)));
    size_t p = lower.find("\r\nsec-websocket-key:");
    if (p == std::string::npos) return close_conn(fd);
    p += 20;
    size_t e = lower.find("\r\n", p);
    std::string key = c.partial.substr(p, e - p);
    key.erase(0, key.find_first_not_of(" \t"));
    key.erase(key.find_last_not_of(" \t") + 1);
    key += "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";  // RFC 6455 section 4.2.2
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    EVP_Digest(key.data(), key.size(), md, &md_len, EVP_sha1(), nullptr);
    unsigned char accept[64];
    EVP_EncodeBlock(accept, md, int(md_len));
    std::string resp = std::string("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                                   "Connection: Upgrade\r\nSec-WebSocket-Accept: ") +
                       reinterpret_cast<char*>(accept) + "\r\n\r\n";
    // Release the request's memory. Bytes after the request are dropped: a client must wait
    // for the 101 before sending frames, and the load generator does.
    c.partial = std::string();
    c.upgraded = true;
    send_out(fd, c, reinterpret_cast<const unsigned char*>(resp.data()), resp.size());
}

// Rewrites every complete client frame in buf[0, len) into a server frame, compacting the
// output at the front of the same buffer. A server header is 4 bytes shorter than the client
// header it replaces (no masking key), so the write position never passes the read position
// and unmasking can copy forward in one pass. Returns the output length; a trailing partial
// frame is saved in c.partial.
size_t rewrite_frames(int fd, Conn& c, unsigned char* buf, size_t len) {
    size_t r = 0, w = 0;
    while (len - r >= 2) {
        const unsigned char b0 = buf[r];
        if (!(buf[r + 1] & 0x80)) {  // clients must mask (RFC 6455 5.1)
            close_conn(fd);
            return 0;
        }
        uint64_t plen = buf[r + 1] & 0x7f;
        size_t hdr = 2;
        if (plen == 126) {
            hdr = 4;
            if (len - r < hdr) break;
            plen = (uint64_t(buf[r + 2]) << 8) | buf[r + 3];
        } else if (plen == 127) {
            hdr = 10;
            if (len - r < hdr) break;
            plen = 0;
            for (int i = 2; i < 10; ++i) plen = (plen << 8) | buf[r + size_t(i)];
        }
        if (len - r < hdr + 4 + plen) break;
        const unsigned char* mask = buf + r + hdr;
        const size_t src = r + hdr + 4, n = size_t(plen);
        r = src + n;
        const int opcode = b0 & 0x0f;
        if (opcode == 0xa) continue;  // a pong needs no answer
        // Same FIN and opcode back (so fragments echo as fragments), except ping -> pong.
        buf[w++] = opcode == 0x9 ? uint8_t((b0 & 0xf0) | 0xa) : b0;
        if (n < 126) {
            buf[w++] = uint8_t(n);
        } else if (n <= 0xffff) {
            buf[w++] = 126;
            buf[w++] = uint8_t(n >> 8);
            buf[w++] = uint8_t(n);
        } else {
            buf[w++] = 127;
            for (int i = 7; i >= 0; --i) buf[w++] = uint8_t(uint64_t(n) >> (8 * i));
        }
        const unsigned char m[4] = {mask[0], mask[1], mask[2], mask[3]};
        for (size_t i = 0; i < n; ++i) buf[w + i] = buf[src + i] ^ m[i & 3];
        w += n;
        if (opcode == 0x8) {  // echo the close frame, then close
            c.closing = true;
            r = len;
            break;
        }
    }
    if (r < len) c.partial.assign(reinterpret_cast<char*>(buf) + r, len - r);
    return w;
}

void on_readable(int fd) {
    Conn& c = g_conns[size_t(fd)];
    // A frame split across reads: put its start back in front of the loop buffer.
    const size_t carried = c.partial.size();
    if (g_buf.size() < carried + 65536) g_buf.resize(carried + 65536);
    std::memcpy(g_buf.data(), c.partial.data(), carried);
    c.partial = std::string();
    ssize_t n = read(fd, g_buf.data() + carried, g_buf.size() - carried);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        c.partial.assign(reinterpret_cast<char*>(g_buf.data()), carried);
        return;
    }
    if (n <= 0) return close_conn(fd);
    const size_t len = carried + size_t(n);
    if (!c.upgraded) {
        c.partial.assign(reinterpret_cast<char*>(g_buf.data()), len);
        return on_request(fd, c);
    }
    size_t out = rewrite_frames(fd, c, g_buf.data(), len);
    if (out > 0 && g_conns[size_t(fd)].used) send_out(fd, c, g_buf.data(), out);
}

void on_writable(int fd) {
    Conn& c = g_conns[size_t(fd)];
    ssize_t n = write(fd, c.backlog.data(), c.backlog.size());
    if (n < 0) {
        if (errno != EAGAIN && errno != EINTR) close_conn(fd);
        return;
    }
    c.backlog.erase(0, size_t(n));
    if (!c.backlog.empty()) return;
    c.backlog = std::string();
    if (c.closing) return close_conn(fd);
    watch(fd, EPOLLIN, EPOLL_CTL_MOD);
}

void accept_all(int lfd) {
    for (;;) {
        int fd = accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED) return;
            if (errno == EMFILE || errno == ENFILE) return;  // try again on the next event
            fail("accept4");
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (g_conns.size() <= size_t(fd)) g_conns.resize(size_t(fd) * 2 + 1);
        g_conns[size_t(fd)].used = true;
        watch(fd, EPOLLIN, EPOLL_CTL_ADD);
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: floor_echo PORT\n");
        return 2;
    }
    std::signal(SIGPIPE, SIG_IGN);  // a peer that vanished is an error from write(), not a kill
    rlimit rl{};
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);

    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (lfd < 0) fail("socket");
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(uint16_t(std::atoi(argv[1])));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) fail("bind");
    if (listen(lfd, 4096) < 0) fail("listen");

    g_ep = epoll_create1(EPOLL_CLOEXEC);
    if (g_ep < 0) fail("epoll_create1");
    watch(lfd, EPOLLIN, EPOLL_CTL_ADD);
    epoll_event events[1024];
    for (;;) {
        int n = epoll_wait(g_ep, events, 1024, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            fail("epoll_wait");
        }
        for (int i = 0; i < n; ++i) {
            const int fd = events[i].data.fd;
            if (fd == lfd) {
                accept_all(lfd);
            } else if (!g_conns[size_t(fd)].used) {
                continue;  // closed earlier in this batch
            } else if (events[i].events & EPOLLOUT) {
                on_writable(fd);
            } else {
                on_readable(fd);
            }
        }
    }
}

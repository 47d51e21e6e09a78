// beast_echo: the Boost.Beast peer of the echo benchmark.
//
// Written the way Beast's own examples write an asynchronous WebSocket server
// (example/websocket/server/async): one session object per connection holding a
// websocket::stream<tcp_stream> and a flat_buffer, read -> write -> read. One io_context run
// by one thread. permessage-deflate stays off (Beast's default; set explicitly so a change of
// default cannot skew the figures). Text is echoed as text, binary as binary.
//
// usage: beast_echo PORT      (listens on 127.0.0.1 only)

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <cstdio>
#include <cstdlib>
#include <memory>

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

class Session : public std::enable_shared_from_this<Session> {
public:
    explicit Session(tcp::socket&& socket) : ws_(std::move(socket)) {}

    void start() {
        // The same choices as Beast's example: the stream's own timeouts replace tcp_stream's.
        beast::get_lowest_layer(ws_).expires_never();
        ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
        websocket::permessage_deflate pmd;
        pmd.server_enable = false;
        pmd.client_enable = false;
        ws_.set_option(pmd);
        ws_.async_accept(beast::bind_front_handler(&Session::on_accept, shared_from_this()));
    }

private:
    void on_accept(beast::error_code ec) {
        if (!ec) read();
    }

    void read() {
        ws_.async_read(buffer_, beast::bind_front_handler(&Session::on_read, shared_from_this()));
    }

    void on_read(beast::error_code ec, std::size_t) {
        if (ec) return;  // closed or failed: the session ends with its last handler
        ws_.text(ws_.got_text());
        ws_.async_write(buffer_.data(),
                        beast::bind_front_handler(&Session::on_write, shared_from_this()));
    }

    void on_write(beast::error_code ec, std::size_t) {
        if (ec) return;
        buffer_.consume(buffer_.size());
        read();
    }

    websocket::stream<beast::tcp_stream> ws_;
    beast::flat_buffer buffer_;
};

class Listener : public std::enable_shared_from_this<Listener> {
public:
    Listener(net::io_context& ioc, const tcp::endpoint& ep) : ioc_(ioc), acceptor_(ioc) {
        acceptor_.open(ep.protocol());
        acceptor_.set_option(net::socket_base::reuse_address(true));
        acceptor_.bind(ep);
        acceptor_.listen(net::socket_base::max_listen_connections);
    }

    void accept() {
        acceptor_.async_accept(ioc_,
                               beast::bind_front_handler(&Listener::on_accept, shared_from_this()));
    }

private:
    void on_accept(beast::error_code ec, tcp::socket socket) {
        if (!ec) {
            // Every peer in the benchmark disables Nagle, so none gains or loses by it.
            socket.set_option(tcp::no_delay(true), ec);
            std::make_shared<Session>(std::move(socket))->start();
        }
        accept();  // EMFILE and friends: keep accepting, like the example
    }

    net::io_context& ioc_;
    tcp::acceptor acceptor_;
};

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: beast_echo PORT\n");
        return 2;
    }
    const auto port = static_cast<unsigned short>(std::atoi(argv[1]));
    net::io_context ioc{1};  // concurrency hint 1: one thread, no internal locking needed
    std::make_shared<Listener>(ioc, tcp::endpoint{net::ip::make_address("127.0.0.1"), port})
        ->accept();
    net::signal_set signals(ioc, SIGINT, SIGTERM);
    signals.async_wait([&](beast::error_code, int) { ioc.stop(); });
    ioc.run();
    return 0;
}

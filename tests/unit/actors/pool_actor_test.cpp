// The pool actors' bookkeeping with unconnected connection objects: no sockets.
#include "actors/pool_actor.hpp"
#include "io/upstream_connection.hpp"

#include "actor_fixture.hpp"

#include <catch2/catch.hpp>

using namespace proxy;

namespace {

/// Connections refer to this io_context: it is a base listed first, so it outlives the actors.
struct io_holder {
  net::io_context ioc; // never run: connections are only bookkept here
};

struct fixture : io_holder, actor_fixture {
  std::shared_ptr<const upstream_target> target = std::make_shared<upstream_target>(
      upstream_target{parse_url("http://127.0.0.1:1").value(),
                      std::make_shared<ssl::context>(ssl::context::tls_client)});
  std::shared_ptr<std::atomic<std::size_t>> open = std::make_shared<std::atomic<std::size_t>>(0);
  std::atomic<int> made{0};
  caf::actor spawn(std::size_t capacity, std::chrono::seconds idle = std::chrono::seconds(30)) {
    pool_setup s;
    s.open = open;
    s.capacity = capacity;
    s.idle_timeout = idle;
    s.make_connection = [this] {
      return std::make_shared<upstream_connection>(ioc.get_executor(), target, 0,
                                                   static_cast<std::uint64_t>(++made));
    };
    return track(sys->spawn(pool_behavior, s));
  }
  lease_reply lease(const caf::actor &pool) { return ask<lease_reply>(pool, lease_atom::value); }
  pool_status status(const caf::actor &pool) { return ask<pool_status>(pool, status_atom::value); }
};

} // namespace

TEST_CASE("connections are reused only when released as reusable") {
  fixture f;
  auto pool = f.spawn(4);
  caf::scoped_actor self{*f.sys};
  auto a = f.lease(pool);
  REQUIRE(a.ok);
  auto id = a.connection->id();
  self->send(pool, release_atom::value, a.connection, true);
  auto b = f.lease(pool);
  CHECK(b.connection->id() == id);
  self->send(pool, release_atom::value, b.connection, false);
  auto c = f.lease(pool);
  CHECK(c.connection->id() != id);
  auto s = f.status(pool);
  CHECK(s.open == 1);
  CHECK(s.busy == 1);
  CHECK(s.idle == 0);
  CHECK(s.max == 4);
  CHECK(*f.open == 1);
}

TEST_CASE("at the capacity a lease is refused at once with 529; a release makes room") {
  fixture f;
  auto pool = f.spawn(2);
  caf::scoped_actor self{*f.sys};
  auto a = f.lease(pool);
  auto b = f.lease(pool);
  REQUIRE((a.ok && b.ok));
  auto started = std::chrono::steady_clock::now();
  auto refused = f.lease(pool);
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(2)); // no waiting
  CHECK_FALSE(refused.ok);
  CHECK(refused.error.status == 529);
  CHECK(refused.error.type == "overloaded_error");
  CHECK(refused.error.message.find("capacity of 2") != std::string::npos);
  self->send(pool, release_atom::value, a.connection, false);
  f.status(pool); // the release is processed
  CHECK(f.lease(pool).ok);
}

TEST_CASE("the capacity is shared by every thread's pool") {
  fixture f;
  auto first = f.spawn(3);
  auto second = f.spawn(3);
  REQUIRE(f.lease(first).ok);
  REQUIRE(f.lease(first).ok);
  REQUIRE(f.lease(second).ok);
  CHECK_FALSE(f.lease(second).ok);
  CHECK_FALSE(f.lease(first).ok);
  CHECK(*f.open == 3);
  CHECK(f.status(first).open == 2);
  CHECK(f.status(second).open == 1);
}

TEST_CASE("idle connections are closed after the idle timeout") {
  fixture f;
  auto pool = f.spawn(4, std::chrono::seconds(1));
  caf::scoped_actor self{*f.sys};
  auto a = f.lease(pool);
  REQUIRE(a.ok);
  self->send(pool, release_atom::value, a.connection, true);
  CHECK(f.status(pool).idle == 1);
  // The pool's own tick prunes it; nobody has to ask.
  CHECK(eventually_true([&] { return f.open->load() == 0; }));
  CHECK(f.status(pool).open == 0);
}

TEST_CASE("a lease asked of a pool that is gone is answered with an error, not silence") {
  // Sessions ask for leases without a timeout: this is the case that would otherwise hang.
  fixture f;
  auto pool = f.spawn(4);
  caf::scoped_actor self{*f.sys};
  self->monitor(pool);
  caf::anon_send_exit(pool, caf::exit_reason::user_shutdown);
  self->receive([](caf::down_msg &) {},
                caf::after(std::chrono::seconds(5)) >> [] { FAIL("pool did not exit"); });
  bool answered = false;
  self->request(pool, caf::infinite, lease_atom::value)
      .receive([&](lease_reply &) { FAIL("a dead pool leased a connection"); },
               [&](caf::error &e) {
                 answered = true;
                 CHECK(e == caf::sec::request_receiver_down);
               });
  CHECK(answered);
}

// The pool actor's bookkeeping with unconnected connection objects: no sockets.
#include "actors/pool_actor.hpp"

#include "actor_fixture.hpp"

#include <catch2/catch.hpp>

using namespace proxy;

namespace {

/// Connections refer to this io_context: it is a base listed first, so it outlives the actors.
struct io_holder {
  net::io_context ioc; // never run: connections are only bookkept here
};

struct fixture : io_holder, actor_fixture {
  std::shared_ptr<ssl::context> tls = std::make_shared<ssl::context>(ssl::context::tls_client);
  int made = 0;
  caf::actor spawn(std::size_t max, std::chrono::milliseconds max_wait) {
    pool_setup s;
    s.max_connections = max;
    s.max_wait = max_wait;
    s.idle_timeout = std::chrono::seconds(30);
    s.make_connection = [this](std::size_t worker) {
      return std::make_shared<upstream_connection>(ioc.get_executor(),
                                                   parse_url("http://127.0.0.1:1").value(), tls,
                                                   worker, static_cast<std::uint64_t>(++made));
    };
    return track(sys->spawn(pool_actor, s));
  }
  lease_reply lease(caf::scoped_actor &, const caf::actor &pool) {
    return ask<lease_reply>(pool, lease_atom::value, std::size_t{0});
  }
  pool_status status(caf::scoped_actor &, const caf::actor &pool) {
    return ask<pool_status>(pool, status_atom::value);
  }
};

} // namespace

TEST_CASE("connections are reused only when released as reusable") {
  fixture f;
  auto pool = f.spawn(4, std::chrono::seconds(5));
  caf::scoped_actor self{*f.sys};
  auto a = f.lease(self, pool);
  REQUIRE(a.ok);
  auto id = a.connection->id();
  self->send(pool, release_atom::value, a.connection, true);
  auto b = f.lease(self, pool);
  CHECK(b.connection->id() == id);
  self->send(pool, release_atom::value, b.connection, false);
  auto c = f.lease(self, pool);
  CHECK(c.connection->id() != id);
  auto s = f.status(self, pool);
  CHECK(s.open == 1);
  CHECK(s.busy == 1);
  CHECK(s.idle == 0);
  CHECK(s.max == 4);
}

TEST_CASE("at the limit a lease waits for a release, then gets that connection") {
  fixture f;
  auto pool = f.spawn(2, std::chrono::seconds(5));
  caf::scoped_actor self{*f.sys};
  auto a = f.lease(self, pool);
  auto b = f.lease(self, pool);
  REQUIRE((a.ok && b.ok));
  self->send(pool, lease_atom::value, std::size_t{0}); // must wait
  auto s = f.status(self, pool);
  CHECK(s.open == 2);
  CHECK(s.waiting == 1);
  self->send(pool, release_atom::value, a.connection, true);
  self->receive(
      [&](lease_reply &r) {
        REQUIRE(r.ok);
        CHECK(r.connection->id() == a.connection->id());
      },
      caf::after(std::chrono::seconds(5)) >> [] { FAIL("waiter not served"); });
  CHECK(f.status(self, pool).waiting == 0);
}

TEST_CASE("a waiter gets a clear 529 when no connection frees up in time") {
  fixture f;
  auto pool = f.spawn(1, std::chrono::milliseconds(300));
  caf::scoped_actor self{*f.sys};
  auto a = f.lease(self, pool);
  REQUIRE(a.ok);
  auto r = f.lease(self, pool);
  CHECK_FALSE(r.ok);
  CHECK(r.error.status == 529);
  CHECK(r.error.type == "overloaded_error");
  CHECK(f.status(self, pool).waiting == 0);
}

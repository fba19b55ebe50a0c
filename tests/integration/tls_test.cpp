// TLS to the upstream with verification on: a trusted CA works, an unknown CA and a wrong host
// name are refused.
#include "harness.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>

using namespace testing;

namespace {

void run(const std::string &cmd) {
  INFO(cmd);
  REQUIRE(std::system((cmd + " >/dev/null 2>&1").c_str()) == 0);
}

/// A CA and two server certificates it signed: one for localhost, one for another name.
struct certs {
  temp_dir dir;
  std::string ca, good_cert, good_key, wrong_cert, wrong_key;
  certs() {
    auto p = [&](const char *f) { return dir.path + "/" + f; };
    ca = p("ca.pem");
    std::string ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    run("openssl req -x509 " + ec + " -keyout " + p("ca.key") + " -out " + ca +
        " -days 2 -subj /CN=proxy-test-ca");
    auto issue = [&](const std::string &name, const std::string &san) {
      run("openssl req " + ec + " -keyout " + p("") + name + ".key -out " + p("") + name +
          ".csr -subj /CN=" + name);
      std::ofstream(p("") + name + ".ext") << "subjectAltName=" << san << "\n";
      run("openssl x509 -req -in " + p("") + name + ".csr -CA " + ca + " -CAkey " + p("ca.key") +
          " -CAcreateserial -days 2 -out " + p("") + name + ".pem -extfile " + p("") + name +
          ".ext");
    };
    issue("good", "DNS:localhost,IP:127.0.0.1");
    issue("wrong", "DNS:other.test");
    good_cert = p("good.pem");
    good_key = p("good.key");
    wrong_cert = p("wrong.pem");
    wrong_key = p("wrong.key");
  }
};

std::unique_ptr<rig> tls_rig(const std::string &cert, const std::string &key) {
  sim::options so;
  so.host = "localhost";
  so.tls = sim::tls_files{cert, key};
  return rig::with_api_key(so);
}

} // namespace

TEST_CASE("TLS upstream: verified, wrong CA refused, wrong host name refused") {
  certs c;
  SECTION("trusted CA and matching name") {
    auto r = tls_rig(c.good_cert, c.good_key);
    REQUIRE(r->upstream->base_url().find("https://localhost:") == 0);
    r->cfg.upstream_ca_file = c.ca;
    r->start_proxy();
    auto res = post_messages(r->port, message_body(true));
    CHECK(res.status == 200);
    CHECK(res.body == r->upstream->requests().back().response_body);
    CHECK(post_messages(r->port, message_body(false)).status == 200);
  }
  SECTION("a CA the proxy does not trust") {
    auto r = tls_rig(c.good_cert, c.good_key);
    r->start_proxy(); // system CAs only
    auto res = post_messages(r->port, message_body(false));
    CHECK(res.status == 502);
    CHECK(res.body.find("TLS handshake") != std::string::npos);
    CHECK(r->upstream->requests().empty());
  }
  SECTION("a certificate for another host name") {
    auto r = tls_rig(c.wrong_cert, c.wrong_key);
    r->cfg.upstream_ca_file = c.ca;
    r->start_proxy();
    auto res = post_messages(r->port, message_body(false));
    CHECK(res.status == 502);
    CHECK(res.body.find("TLS handshake") != std::string::npos);
    CHECK(r->upstream->requests().empty());
  }
}

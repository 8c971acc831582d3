// `wshub cert` output and certificate loading: the CA verifies the server certificate, the
// SANs are what was asked for, and every bad file is refused with its name and problem.
#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <ctime>
#include <fstream>
#include <string>

#include "tls/certificate_files.h"
#include "tls/tls_context.h"
#include "tls_test_support.h"

namespace wshub::tls {
namespace {

using testing::TempDir;

X509* parse_cert(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), int(pem.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  return cert;
}

void write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

TEST(DevCertificates, CaVerifiesTheServerCertificateWithTheRequestedNames) {
  for (DevKeyType type : {DevKeyType::ecdsa_p256, DevKeyType::rsa_2048}) {
    DevCertificates made = testing::make_certs({"test.ws.com", "127.0.0.1", "::1"}, type, 825);
    X509* ca = parse_cert(made.ca_pem);
    X509* cert = parse_cert(made.cert_pem);
    ASSERT_TRUE(ca && cert);
    X509_STORE* store = X509_STORE_new();
    X509_STORE_add_cert(store, ca);
    X509_STORE_CTX* ctx = X509_STORE_CTX_new();
    X509_STORE_CTX_init(ctx, store, cert, nullptr);
    X509_VERIFY_PARAM_set_purpose(X509_STORE_CTX_get0_param(ctx), X509_PURPOSE_SSL_SERVER);
    EXPECT_EQ(X509_verify_cert(ctx), 1) << X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx));
    EXPECT_EQ(X509_check_host(cert, "test.ws.com", 0, 0, nullptr), 1);
    EXPECT_EQ(X509_check_host(cert, "other.ws.com", 0, 0, nullptr), 0);
    EXPECT_EQ(X509_check_ip_asc(cert, "127.0.0.1", 0), 1);
    EXPECT_EQ(X509_check_ip_asc(cert, "::1", 0), 1);
    EXPECT_EQ(X509_check_ip_asc(cert, "127.0.0.2", 0), 0);
    EVP_PKEY* key = X509_get0_pubkey(cert);
    EXPECT_EQ(EVP_PKEY_get_base_id(key), type == DevKeyType::rsa_2048 ? EVP_PKEY_RSA : EVP_PKEY_EC);
    if (type == DevKeyType::rsa_2048) EXPECT_EQ(EVP_PKEY_get_bits(key), 2048);
    // 825 days, the longest validity browsers accept for a server certificate.
    const time_t in_824_days = std::time(nullptr) + 824 * 86400;
    EXPECT_GT(X509_cmp_time(X509_get0_notAfter(cert), const_cast<time_t*>(&in_824_days)), 0);
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    X509_free(ca);
    X509_free(cert);
  }
}

TEST(DevCertificates, WritesTheFilesWithAPrivateKeyMode) {
  TempDir dir;
  const std::string where = testing::write_certs(dir, "out", testing::make_certs({"a.test"}));
  struct stat st{};
  ASSERT_EQ(stat((where + "/key.pem").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(stat((where + "/ca.pem").c_str(), &st), 0);
  CertificatePair pair;
  std::string why;
  EXPECT_TRUE(load_certificate_pair({where + "/cert.pem", where + "/key.pem"}, std::time(nullptr), pair, why)) << why;
  EXPECT_NE(pair.summary.find("CN=a.test"), std::string::npos) << pair.summary;
}

TEST(DevCertificates, RefusesNamesThatAreNeitherDnsNorIp) {
  DevCertificates made;
  std::string why;
  EXPECT_FALSE(make_dev_certificates({"bad host"}, DevKeyType::ecdsa_p256, 1, made, why));
  EXPECT_EQ(why, "'bad host' is neither a DNS name nor an IP address");
  EXPECT_FALSE(make_dev_certificates({}, DevKeyType::ecdsa_p256, 1, made, why));
}

struct BadFiles : ::testing::Test {
  TempDir dir;
  std::string good = testing::write_certs(dir, "good", testing::make_certs({"good.test"}));
  std::string other = testing::write_certs(dir, "other", testing::make_certs({"other.test"}));
  std::string why;
  bool load(const std::string& cert, const std::string& key) {
    CertificatePair pair;
    return load_certificate_pair({cert, key}, std::time(nullptr), pair, why);
  }
};

TEST_F(BadFiles, WrongKey) {
  EXPECT_FALSE(load(good + "/cert.pem", other + "/key.pem"));
  EXPECT_EQ(why, other + "/key.pem: the private key does not match the certificate in " + good +
                     "/cert.pem (CN=good.test, DNS:good.test); the two files must come from the same issuance");
}

TEST_F(BadFiles, Expired) {
  const std::string old = testing::write_certs(dir, "old", testing::make_certs({"old.test"}, DevKeyType::ecdsa_p256, -2));
  EXPECT_FALSE(load(old + "/cert.pem", old + "/key.pem"));
  EXPECT_NE(why.find(old + "/cert.pem: the certificate (CN=old.test, DNS:old.test) expired on "), std::string::npos) << why;
  EXPECT_NE(why.find("; renew it"), std::string::npos) << why;
}

TEST_F(BadFiles, NotPem) {
  write(dir.file("garbage.pem"), "this is not a certificate\n");
  EXPECT_FALSE(load(dir.file("garbage.pem"), good + "/key.pem"));
  EXPECT_EQ(why, dir.file("garbage.pem") + ": not PEM: expected a '-----BEGIN CERTIFICATE-----' block (a DER "
                 "file converts with 'openssl x509 -inform der -in FILE -out FILE.pem')");
  EXPECT_FALSE(load(good + "/key.pem", good + "/key.pem"));
  EXPECT_NE(why.find("no '-----BEGIN CERTIFICATE-----' block (is it the key file?)"), std::string::npos) << why;
  EXPECT_FALSE(load(good + "/cert.pem", good + "/cert.pem"));
  EXPECT_NE(why.find("not a private key"), std::string::npos) << why;
  write(dir.file("truncated.pem"), "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
  EXPECT_FALSE(load(dir.file("truncated.pem"), good + "/key.pem"));
  EXPECT_NE(why.find("the PEM certificate cannot be parsed"), std::string::npos) << why;
}

TEST_F(BadFiles, Missing) {
  EXPECT_FALSE(load(dir.file("nope.pem"), good + "/key.pem"));
  EXPECT_EQ(why, dir.file("nope.pem") + ": cannot open: No such file or directory");
}

TEST_F(BadFiles, ContextRefusesToStartAndReloadKeepsTheOldCertificate) {
  TlsConfig config;
  config.files = {dir.file("live-cert.pem"), dir.file("live-key.pem")};
  std::filesystem::copy_file(good + "/cert.pem", config.files.cert);
  std::filesystem::copy_file(good + "/key.pem", config.files.key);
  TlsContext context(config, "reload");
  EXPECT_FALSE(context.files_settled_after_change());
  write(config.files.key, "broken\n");
  EXPECT_FALSE(context.files_settled_after_change());  // changed: wait one more look
  EXPECT_TRUE(context.files_settled_after_change());   // settled
  EXPECT_FALSE(context.reload(why));
  EXPECT_NE(why.find("live-key.pem: not PEM"), std::string::npos) << why;
  EXPECT_NE(context.summaries()[0].find("CN=good.test"), std::string::npos);
  EXPECT_FALSE(context.files_settled_after_change());  // a refused file is not retried until it changes
  EXPECT_EQ(context.counters().reload_failures.load(), 1u);
  std::filesystem::copy_file(other + "/cert.pem", config.files.cert, std::filesystem::copy_options::overwrite_existing);
  std::filesystem::copy_file(other + "/key.pem", config.files.key, std::filesystem::copy_options::overwrite_existing);
  EXPECT_TRUE(context.reload(why)) << why;
  EXPECT_NE(context.summaries()[0].find("CN=other.test"), std::string::npos);

  TlsConfig broken;
  broken.files = {good + "/cert.pem", other + "/key.pem"};
  try {
    TlsContext refused(broken, "0.0.0.0:8443");
    FAIL() << "a mismatched pair must stop the start";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("TLS listener 0.0.0.0:8443: " + other + "/key.pem: the private key does not match"),
              std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace wshub::tls

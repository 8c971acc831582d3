// Development certificates made with the OpenSSL API: a throw-away CA and a server certificate
// it signs, with the given host names and IP addresses as subjectAltNames. The CA's key is not
// kept, so trusting the CA trusts only this one certificate. Not for production.
#pragma once

#include <string>
#include <vector>

namespace wshub::tls {

enum class DevKeyType : uint8_t { ecdsa_p256, rsa_2048 };

struct DevCertificates {
  std::string ca_pem;    // the CA certificate: what a browser or client is told to trust
  std::string cert_pem;  // the server certificate
  std::string key_pem;   // its private key (PKCS#8, unencrypted)
};

// `hosts` are DNS names or IP literals; the first is also the certificate's CN. False with
// `why` when a host is neither or OpenSSL fails.
bool make_dev_certificates(const std::vector<std::string>& hosts, DevKeyType key_type,
                           int valid_days, DevCertificates& out, std::string& why);

// Writes ca.pem, cert.pem and key.pem (mode 0600) into `directory`, creating it if needed.
bool write_dev_certificates(const DevCertificates& certificates, const std::string& directory,
                            std::string& why);

}  // namespace wshub::tls

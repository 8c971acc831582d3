// The certificate files of one wss listener, as plain values filled by the app layer.
// Nothing here opens a file or knows about OpenSSL.
#pragma once

#include <string>
#include <vector>

namespace wshub::tls {

struct CertificateFiles {
  std::string cert;  // PEM: the certificate, then any intermediates
  std::string key;   // PEM: its private key, unencrypted
};

// A certificate served to clients that ask for `host` through SNI. `host` is a DNS name,
// case-insensitive; "*.example.com" matches exactly one label in front of example.com.
struct SniCertificate {
  std::string host;
  CertificateFiles files;
};

struct TlsConfig {
  CertificateFiles files;           // the default: no SNI, or a name no entry matches
  std::vector<SniCertificate> sni;  // checked in order
};

}  // namespace wshub::tls

#pragma once
// Algorithm lists for the two legs of an SSH session.
//
// The user->broker leg is always modern: curve25519/ECDH/DH-group16+ key
// exchange, AEAD or CTR+ETM ciphers, SHA-2 MACs, an ssh-ed25519 host key.
// The broker->target leg follows the target's crypto profile: "modern" is
// the same set; "legacy" adds what old RTUs and switches still speak
// (ssh-rsa host keys, diffie-hellman-group14-sha1 / group1-sha1, CBC
// ciphers, hmac-sha1) -- only on that leg, and `portcullis targets ls
// --weak-crypto` lists every target that needs it.

#include <string>

namespace portcullis::ssh {

struct AlgorithmSet {
  std::string kex;
  std::string ciphers;
  std::string macs;
  std::string host_keys;
};

// The broker's own listener.
AlgorithmSet ListenerAlgorithms();
// The broker->target leg for a crypto profile ("modern" or "legacy").
AlgorithmSet TargetAlgorithms(const std::string& crypto_profile);

}  // namespace portcullis::ssh

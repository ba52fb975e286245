# The TLS test makes a self-signed certificate with openssl at test time (it skips, visibly, without it).
command -v openssl >/dev/null || (apt-get update && apt-get install -y --no-install-recommends openssl)

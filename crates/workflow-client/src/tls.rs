//! TLS on the connection: rustls, compiled in by the `tls-ring` or `tls-aws-lc` feature (the
//! `tls` feature is ring with `tls-webpki-roots`), trusting the roots of `tls-webpki-roots`
//! or `tls-native-roots` when no CA is given. Without a backend, asking for TLS is a
//! configuration error that names the features.

use tonic::transport::Endpoint;

use crate::Error;
use crate::options::ClientOptions;

/// Sets up TLS on `endpoint` as `options` ask.
#[cfg(feature = "_tls")]
pub(crate) fn configure(endpoint: Endpoint, options: &ClientOptions) -> Result<Endpoint, Error> {
    use tonic::transport::{Certificate, ClientTlsConfig, Identity};

    let tls = options.tls.clone().unwrap_or_default();
    let mut config = ClientTlsConfig::new();
    config = match &tls.server_root_ca {
        Some(ca) => config.ca_certificate(Certificate::from_pem(ca)),
        None => default_roots(config)?,
    };
    if let Some(domain) = &tls.domain {
        config = config.domain_name(domain.clone());
    }
    match (&tls.client_cert, &tls.client_key) {
        (Some(cert), Some(key)) => config = config.identity(Identity::from_pem(cert, key)),
        (None, None) => {}
        _ => {
            return Err(Error::Config(
                "mTLS needs both a client certificate and a client key".to_owned(),
            ));
        }
    }
    endpoint
        .tls_config(config)
        .map_err(|e| Error::Config(format!("TLS: {}", crate::client::error_chain(&e))))
}

/// The roots trusted when no CA is given: the compiled-in Mozilla roots, the system's, or
/// both when both features are on.
#[cfg(all(
    feature = "_tls",
    any(feature = "tls-webpki-roots", feature = "tls-native-roots")
))]
fn default_roots(
    config: tonic::transport::ClientTlsConfig,
) -> Result<tonic::transport::ClientTlsConfig, Error> {
    #[cfg(feature = "tls-webpki-roots")]
    let config = config.with_webpki_roots();
    #[cfg(feature = "tls-native-roots")]
    let config = config.with_native_roots();
    Ok(config)
}

/// A backend without roots trusts only a CA given in the options.
#[cfg(all(
    feature = "_tls",
    not(any(feature = "tls-webpki-roots", feature = "tls-native-roots"))
))]
fn default_roots(
    _config: tonic::transport::ClientTlsConfig,
) -> Result<tonic::transport::ClientTlsConfig, Error> {
    Err(Error::Config(
        "TLS without a server CA needs trusted roots: turn on workflow-client's \
         `tls-webpki-roots` or `tls-native-roots` feature, or give `TlsOptions::server_root_ca`"
            .to_owned(),
    ))
}

/// Without TLS compiled in, a TLS connection cannot be made.
#[cfg(not(feature = "_tls"))]
pub(crate) fn configure(_endpoint: Endpoint, options: &ClientOptions) -> Result<Endpoint, Error> {
    Err(Error::Config(format!(
        "connecting to `{}` needs TLS (TLS options or an API key were given), but \
         workflow-client was built without it: turn on its `tls-ring` or `tls-aws-lc` \
         feature",
        options.target
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::TlsOptions;

    fn endpoint() -> Endpoint {
        Endpoint::from_static("https://localhost:7233")
    }

    #[cfg(not(feature = "_tls"))]
    #[test]
    fn tls_without_a_backend_is_a_config_error_naming_the_features() {
        let options = ClientOptions::new("localhost:7233").tls(TlsOptions::new());
        let error = configure(endpoint(), &options).unwrap_err();
        let Error::Config(message) = error else {
            panic!("expected a configuration error, got {error:?}");
        };
        assert!(message.contains("`localhost:7233`"), "{message}");
        assert!(message.contains("`tls-ring` or `tls-aws-lc`"), "{message}");
    }

    #[cfg(feature = "_tls")]
    #[test]
    fn mtls_needs_both_the_certificate_and_the_key() {
        let options = ClientOptions::new("localhost:7233")
            .tls(TlsOptions::new().server_root_ca(Vec::new()).domain("x"));
        assert!(configure(endpoint(), &options).is_ok());
        let mut half = TlsOptions::new().server_root_ca(Vec::new());
        half.client_cert = Some(b"cert".to_vec());
        let error = configure(endpoint(), &ClientOptions::new("h:1").tls(half)).unwrap_err();
        assert!(
            matches!(&error, Error::Config(m) if m.contains("both a client certificate and a client key")),
            "{error:?}"
        );
    }
}

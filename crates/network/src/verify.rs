//! Admission: which peers are let in, and the certificate verifiers that enforce it during the
//! handshake while recording, in plain words, why a peer was refused.
//!
//! rustls aborts a refused handshake with a terse alert; the verifiers here keep the peer's
//! certificate and the reason in a per-handshake [`Slot`] so the caller can log one clear line.

use crate::NodeId;
use crate::cert::{CertInfo, fmt_time, short_id};
use crate::tls::{Trust, provider};
use parking_lot::{Mutex, RwLock};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, Error, SignatureScheme};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use std::collections::HashSet;
use std::sync::Arc;

/// Blacklist and optional whitelist of node ids, replaceable at run time.
#[derive(Debug, Default)]
struct Lists {
    blacklist: HashSet<NodeId>,
    whitelist: Option<HashSet<NodeId>>,
}

/// The node-id rules of admission (the CA rules live in the verifiers).
#[derive(Debug)]
pub(crate) struct Admission {
    own: NodeId,
    lists: RwLock<Lists>,
}

impl Admission {
    pub fn new(own: NodeId, blacklist: Vec<NodeId>, whitelist: Option<Vec<NodeId>>) -> Self {
        let a = Admission { own, lists: RwLock::new(Lists::default()) };
        a.set(blacklist, whitelist);
        a
    }

    pub fn set(&self, blacklist: Vec<NodeId>, whitelist: Option<Vec<NodeId>>) {
        *self.lists.write() = Lists {
            blacklist: blacklist.into_iter().collect(),
            whitelist: whitelist.map(|w| w.into_iter().collect()),
        };
    }

    /// `Err(reason)` if `id` may not connect, e.g. `node id … is blacklisted`.
    pub fn check(&self, id: &NodeId) -> Result<(), String> {
        if *id == self.own {
            return Err(format!(
                "node id {} is our own (a connection to ourselves, or another node uses our certificate)",
                short_id(id)
            ));
        }
        let lists = self.lists.read();
        if lists.blacklist.contains(id) {
            return Err(format!("node id {} is blacklisted", id.to_hex()));
        }
        if let Some(white) = &lists.whitelist
            && !white.contains(id)
        {
            return Err(format!("node id {} is not on the whitelist", id.to_hex()));
        }
        Ok(())
    }
}

/// Why a handshake's verifier refused the peer, and the node id its certificate named.
#[derive(Debug, Clone)]
pub(crate) struct Refusal {
    pub reason: String,
    pub node_id: Option<NodeId>,
}

/// The refusal of the current handshake, if any (one handshake per slot).
pub(crate) type Slot = Arc<Mutex<Option<Refusal>>>;

/// Verifies the peer's certificate on either side of a handshake: chain to a trusted CA and
/// validity period (webpki), then node id admission. Records refusals in `slot`.
#[derive(Debug)]
pub(crate) struct PeerVerifier {
    trust: Arc<Trust>,
    admission: Arc<Admission>,
    pub slot: Slot,
}

impl PeerVerifier {
    pub fn new(trust: Arc<Trust>, admission: Arc<Admission>) -> Arc<Self> {
        Arc::new(PeerVerifier { trust, admission, slot: Slot::default() })
    }

    /// Turns the chain verdict into admission: refuses with a recorded reason, or admits.
    fn judge(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        chain: Result<(), Error>,
        now: UnixTime,
    ) -> Result<(), Error> {
        let Some(info) = CertInfo::parse(end_entity) else {
            return self.refuse(
                "presented a certificate that is not valid X.509".into(),
                None,
                Error::InvalidCertificate(CertificateError::BadEncoding),
            );
        };
        if let Err(err) = chain {
            let reason = describe_chain_error(&err, &info, intermediates, &self.trust, now);
            return self.refuse(reason, info.node_id, err);
        }
        let Some(id) = info.node_id else {
            return self.refuse(
                format!(
                    "{} carries no node id (subjectAltName URI {}<hex>)",
                    info.describe(),
                    crate::NODE_ID_URI_PREFIX
                ),
                None,
                Error::InvalidCertificate(CertificateError::ApplicationVerificationFailure),
            );
        };
        self.admission.check(&id).or_else(|reason| {
            self.refuse(
                format!("{}: {reason}", info.describe()),
                Some(id),
                Error::InvalidCertificate(CertificateError::ApplicationVerificationFailure),
            )
        })
    }

    fn refuse(&self, reason: String, node_id: Option<NodeId>, err: Error) -> Result<(), Error> {
        *self.slot.lock() = Some(Refusal { reason, node_id });
        Err(err)
    }
}

/// Why peers that trust `trust` would refuse our own certificate chain, if they would; lets
/// `start` warn about a misissued or expired certificate before any peer complains.
pub(crate) fn own_chain_problem(
    chain: &[CertificateDer<'static>],
    trust: &Trust,
) -> Option<String> {
    let (end_entity, intermediates) = chain.split_first()?;
    let info = CertInfo::parse(end_entity)?;
    let now = UnixTime::now();
    rustls::server::ParsedCertificate::try_from(end_entity)
        .and_then(|cert| {
            rustls::client::verify_server_cert_signed_by_trust_anchor(
                &cert,
                &trust.roots,
                intermediates,
                now,
                provider().signature_verification_algorithms.all,
            )
        })
        .err()
        .map(|e| describe_chain_error(&e, &info, intermediates, trust, now))
}

/// Plain words for a failed chain verification.
fn describe_chain_error(
    err: &Error,
    info: &CertInfo,
    intermediates: &[CertificateDer<'_>],
    trust: &Trust,
    now: UnixTime,
) -> String {
    let desc = info.describe();
    let now = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
    let Error::InvalidCertificate(cert_err) = err else {
        return format!("{desc} was rejected: {err}");
    };
    // The chain as presented, to find which certificate is out of its validity period.
    let chain: Vec<CertInfo> = std::iter::once(info.clone())
        .chain(intermediates.iter().filter_map(|c| CertInfo::parse(c)))
        .collect();
    let which = |c: &CertInfo| {
        if c == info {
            String::new()
        } else {
            format!(": its issuer certificate \"{}\"", c.subject)
        }
    };
    match cert_err {
        CertificateError::UnknownIssuer => {
            format!("{desc} does not chain to any trusted CA (trusted: {})", trust.names_list())
        }
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            match chain.iter().find(|c| c.not_after < now) {
                Some(c) => format!("{desc}{} expired at {}", which(c), fmt_time(c.not_after)),
                None => format!("{desc} has expired"),
            }
        }
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            match chain.iter().find(|c| c.not_before > now) {
                Some(c) => {
                    format!("{desc}{} is not valid before {}", which(c), fmt_time(c.not_before))
                }
                None => format!("{desc} is not valid yet"),
            }
        }
        CertificateError::BadSignature => {
            format!("{desc} has a signature that does not verify against its issuer")
        }
        CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => {
            format!(
                "{desc} is not allowed for TLS peer authentication (it needs both serverAuth and clientAuth extended key usages)"
            )
        }
        CertificateError::BadEncoding => format!("{desc} is malformed"),
        other => format!("{desc} was rejected: {other:?}"),
    }
}

impl ServerCertVerifier for PeerVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        // Peers are identified by node id, not DNS name, so only the chain is checked here.
        let chain = rustls::server::ParsedCertificate::try_from(end_entity).and_then(|cert| {
            rustls::client::verify_server_cert_signed_by_trust_anchor(
                &cert,
                &self.trust.roots,
                intermediates,
                now,
                provider().signature_verification_algorithms.all,
            )
        });
        self.judge(end_entity, intermediates, chain, now).map(|()| ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        // The configs only enable TLS 1.3.
        Err(Error::General("TLS 1.2 is not enabled".into()))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &provider().signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        provider().signature_verification_algorithms.supported_schemes()
    }
}

impl ClientCertVerifier for PeerVerifier {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.trust.client_verifier.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, Error> {
        let chain = self
            .trust
            .client_verifier
            .verify_client_cert(end_entity, intermediates, now)
            .map(|_| ());
        self.judge(end_entity, intermediates, chain, now).map(|()| ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.trust.client_verifier.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.trust.client_verifier.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.trust.client_verifier.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admission_rules() {
        let own = NodeId::from_slice(&[1u8; 64]).unwrap();
        let a = NodeId::from_slice(&[2u8; 64]).unwrap();
        let b = NodeId::from_slice(&[3u8; 64]).unwrap();
        let adm = Admission::new(own, vec![a], None);
        assert!(adm.check(&own).unwrap_err().contains("our own"));
        assert!(adm.check(&a).unwrap_err().contains("is blacklisted"));
        assert!(adm.check(&b).is_ok());
        adm.set(vec![], Some(vec![a]));
        assert!(adm.check(&a).is_ok());
        assert!(adm.check(&b).unwrap_err().contains("not on the whitelist"));
    }
}

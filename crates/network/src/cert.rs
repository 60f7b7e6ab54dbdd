//! Reading certificates for admission and for log lines: subject and issuer common names,
//! serial, validity and the node id carried in a subjectAltName URI.

use crate::NodeId;
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate, X509Name};

/// A node certificate binds its node id as a subjectAltName URI `aurum:node:<128 hex chars>`.
pub const NODE_ID_URI_PREFIX: &str = "aurum:node:";

/// What a log line says about a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CertInfo {
    pub subject: String,
    pub issuer: String,
    pub serial: String,
    pub node_id: Option<NodeId>,
    pub not_before: i64,
    pub not_after: i64,
}

fn common_name(name: &X509Name<'_>) -> String {
    name.iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok().map(str::to_string))
        // No CN: fall back to the whole distinguished name so the line still names something.
        .unwrap_or_else(|| name.to_string())
}

impl CertInfo {
    /// Parses a DER certificate; `None` if it is not a parseable X.509 certificate.
    pub fn parse(der: &[u8]) -> Option<CertInfo> {
        let (_, cert) = X509Certificate::from_der(der).ok()?;
        let validity = cert.validity();
        Some(CertInfo {
            subject: common_name(cert.subject()),
            issuer: common_name(cert.issuer()),
            serial: cert.raw_serial_as_string(),
            node_id: node_id_of(&cert),
            not_before: validity.not_before.timestamp(),
            not_after: validity.not_after.timestamp(),
        })
    }

    /// `certificate "node4" (node id 1a2b3c4d5e6f7a8b…, serial 3f:…) issued by "agency"`.
    pub fn describe(&self) -> String {
        let id = self.node_id.map(|id| format!("node id {}, ", short_id(&id))).unwrap_or_default();
        format!(
            "certificate \"{}\" ({id}serial {}) issued by \"{}\"",
            self.subject,
            short_serial(&self.serial),
            self.issuer
        )
    }
}

fn node_id_of(cert: &X509Certificate<'_>) -> Option<NodeId> {
    let san = cert.subject_alternative_name().ok()??;
    san.value.general_names.iter().find_map(|name| match name {
        GeneralName::URI(uri) => {
            uri.strip_prefix(NODE_ID_URI_PREFIX).and_then(|hex| NodeId::from_hex(hex).ok())
        }
        _ => None,
    })
}

/// First 16 hex characters of a node id, for log lines that are already long.
pub(crate) fn short_id(id: &NodeId) -> String {
    let hex = id.to_hex();
    format!("{}…", &hex[..16])
}

fn short_serial(serial: &str) -> String {
    // rcgen serials are 20 bytes; the first 8 identify a certificate well enough in a log.
    if serial.len() > 23 { format!("{}…", &serial[..23]) } else { serial.to_string() }
}

/// RFC 3339 UTC time of a Unix timestamp, e.g. `2026-01-01T00:00:00Z`.
pub(crate) fn fmt_time(unix: i64) -> String {
    match time::OffsetDateTime::from_unix_timestamp(unix) {
        Ok(t) => format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            t.year(),
            t.month() as u8,
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        ),
        Err(_) => format!("unix time {unix}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_rfc3339() {
        assert_eq!(fmt_time(0), "1970-01-01T00:00:00Z");
        assert_eq!(fmt_time(1_767_225_600), "2026-01-01T00:00:00Z");
    }
}

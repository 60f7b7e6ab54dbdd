use super::*;

fn b(n: u8) -> B256 {
    B256::repeat_byte(n)
}

fn cert() -> PreparedCert {
    PreparedCert {
        height: 5,
        view: 1,
        digest: b(1),
        payload: Bytes::from_static(b"payload"),
        prepares: vec![Vote { node: 0, sig: Bytes::from_static(b"s0") }],
    }
}

fn vote() -> ViewChange {
    ViewChange {
        height: 5,
        new_view: 2,
        from: 3,
        prepared: Some(cert().proof()),
        sig: Bytes::from_static(b"vc"),
    }
}

fn every_kind() -> Vec<Message> {
    let vc = vote();
    vec![
        Message::PrePrepare { height: 5, view: 0, digest: b(2), payload: Bytes::new() },
        Message::Prepare { height: 5, view: 0, digest: b(2), sig: Bytes::from_static(b"p") },
        Message::Commit { height: 5, view: 0, digest: b(2), sig: Bytes::from_static(b"c") },
        Message::Checkpoint { height: 5, digest: b(2), block_hash: b(3), sig: Bytes::new() },
        Message::ViewChange { vote: vc.clone(), payload: None },
        Message::ViewChange { vote: vc.clone(), payload: Some(Bytes::from_static(b"payload")) },
        Message::ViewChange { vote: ViewChange { prepared: None, ..vc.clone() }, payload: None },
        Message::NewView {
            height: 5,
            view: 2,
            justification: vec![vc],
            digest: b(1),
            payload: Bytes::from_static(b"payload"),
        },
        Message::Decided(Decision {
            height: 4,
            digest: b(4),
            payload: Bytes::from_static(b"x"),
            block_hash: b(5),
            certificate: vec![Vote { node: 1, sig: Bytes::from_static(b"s1") }],
        }),
        Message::Committed {
            height: 5,
            view: 0,
            digest: b(2),
            payload: Bytes::from_static(b"y"),
            commits: vec![],
        },
    ]
}

#[test]
fn every_message_kind_round_trips() {
    for m in every_kind() {
        let bytes = m.encode();
        assert_eq!(bytes[0], 0x80 | WIRE_VERSION);
        assert_eq!(m.encoded_len(), bytes.len(), "{m:?}");
        assert_eq!(Message::decode(&bytes).unwrap(), m);
    }
    let p = Persisted {
        height: 9,
        view: 2,
        prepared_votes: vec![(0, b(1)), (2, b(2))],
        commit_votes: vec![(0, b(1))],
        locked: Some(cert()),
        proposal: Some((2, b(2), Bytes::from_static(b"z"))),
    };
    assert_eq!(Persisted::decode(&p.encode()).unwrap(), p);
    assert_eq!(Persisted::decode(&Persisted::default().encode()).unwrap(), Persisted::default());
}

#[test]
fn garbage_is_an_error_not_a_panic() {
    let v = 0x80 | WIRE_VERSION;
    assert!(Message::decode(&[]).is_err());
    assert!(Message::decode(&[v]).is_err());
    assert!(Message::decode(&[v, 9, 0xc0]).is_err());
    assert!(Message::decode(&[v, 2, 0xc0]).is_err());
    let mut m = Message::Prepare { height: 1, view: 0, digest: b(1), sig: Bytes::new() }.encode();
    m.push(0);
    assert!(matches!(Message::decode(&m), Err(CodecError::Trailing)));
    for len in 0..m.len() - 1 {
        assert!(Message::decode(&m[..len]).is_err());
    }
    // A view change with two payloads, or two proofs, has no meaning: refused.
    let two = ViewChangeMsg_ {
        vote: vc_out(&vote()),
        payload: vec![Bytes::from_static(b"a"), Bytes::from_static(b"b")],
    };
    let mut bytes = vec![v, 5];
    two.encode(&mut bytes);
    assert!(matches!(Message::decode(&bytes), Err(CodecError::Malformed(_))));
    let mut vc = vc_out(&vote());
    vc.prepared.push(proof_out(&cert().proof()));
    let mut bytes = vec![v, 5];
    ViewChangeMsg_ { vote: vc, payload: vec![] }.encode(&mut bytes);
    assert!(matches!(Message::decode(&bytes), Err(CodecError::Malformed(_))));
}

#[test]
fn a_message_of_the_old_wire_version_is_refused_not_misread() {
    let refused = |bytes: &[u8]| {
        let e = Message::decode(bytes).unwrap_err();
        assert!(matches!(e, CodecError::WireVersion { found: 1, expected: WIRE_VERSION }), "{e:?}");
        assert!(e.to_string().contains("wire version 1"), "{e}");
    };
    // The shapes version 2 changed, as version 1 encoded them (certificates with payloads).
    let payload = Bytes::from_static(b"payload");
    refused(&v1::view_change(&vote(), Some(&payload)));
    refused(&v1::new_view(5, 2, &[vote()], |_| Some(payload.clone()), b(1), &payload));
    // And every other kind: version 1 had no version byte.
    for m in every_kind() {
        refused(&v1::unchanged(&m));
    }
    // A future version is refused too, naming it.
    let mut m = Message::Prepare { height: 1, view: 0, digest: b(1), sig: Bytes::new() }.encode();
    m[0] = 0x80 | 3;
    assert!(matches!(
        Message::decode(&m),
        Err(CodecError::WireVersion { found: 3, expected: WIRE_VERSION })
    ));
    assert!(matches!(Message::decode(&[0x42, 1]), Err(CodecError::NotVersioned(0x42))));
}

//! End-to-end tests over real TLS sockets on 127.0.0.1.

mod common;

use aurum_crypto::SuiteKind;
use aurum_network::{Module, Network, NetworkError};
use bytes::Bytes;
use common::*;
use std::time::{Duration, SystemTime};

const SECP: SuiteKind = SuiteKind::Secp256k1Keccak;

async fn three_nodes_exchange(kind: SuiteKind) {
    let env = Env::new();
    let ca = env.ca("chain-ca", "agency-a");
    let specs: Vec<_> =
        (0..3).map(|i| env.node(&ca.agency, &format!("node{i}"), kind, &[&ca])).collect();
    let n0 = specs[0].start(&[]).await;
    let n1 = specs[1].start(&[n0.local_addr()]).await;
    // n2 dials both, and n0 learns n2's address later, so n0 and n2 dial each other.
    let n2 = specs[2].start(&[n0.local_addr(), n1.local_addr()]).await;
    n0.add_peer(n2.local_addr());
    for n in [&n0, &n1, &n2] {
        wait_connected(n, 2).await;
    }

    let mut rx1_cons = n1.register("g1", Module::Consensus);
    let mut rx1_sync = n1.register("g1", Module::Sync);
    let mut rx0_gossip = n0.register("g2", Module::TxGossip);
    let mut rx2_gossip = n2.register("g2", Module::TxGossip);

    assert!(n0.send(&n1.node_id(), "g1", Module::Consensus, Bytes::from_static(b"vote")));
    assert!(n2.send(&n1.node_id(), "g1", Module::Sync, Bytes::from_static(b"blocks")));
    assert!(n1.send(&n0.node_id(), "g2", Module::TxGossip, Bytes::from_static(b"tx-from-1")));
    let m = recv(&mut rx1_cons).await;
    assert_eq!((m.from, &m.payload[..]), (n0.node_id(), &b"vote"[..]));
    let m = recv(&mut rx1_sync).await;
    assert_eq!((m.from, &m.payload[..]), (n2.node_id(), &b"blocks"[..]));
    let m = recv(&mut rx0_gossip).await;
    assert_eq!((m.from, &m.payload[..]), (n1.node_id(), &b"tx-from-1"[..]));

    // Broadcast reaches every peer, only on the matching route.
    n1.broadcast("g2", Module::TxGossip, Bytes::from_static(b"tx-all"));
    for rx in [&mut rx0_gossip, &mut rx2_gossip] {
        let m = recv(rx).await;
        assert_eq!((m.from, &m.payload[..]), (n1.node_id(), &b"tx-all"[..]));
    }
    assert!(rx1_cons.try_recv().is_err());

    // Many frames in order on one route.
    for i in 0..500u32 {
        assert!(n0.send(
            &n1.node_id(),
            "g1",
            Module::Consensus,
            Bytes::from(i.to_be_bytes().to_vec())
        ));
    }
    for i in 0..500u32 {
        assert_eq!(&recv(&mut rx1_cons).await.payload[..], &i.to_be_bytes()[..]);
    }

    // Mutual dials settle on one connection per node pair, and stay there.
    for n in [&n0, &n1, &n2] {
        assert_eq!(n.connected().len(), 2);
        assert!(n.refusals().is_empty(), "{:?}", n.refusals());
    }
    let unknown = aurum_crypto::KeyPair::generate(kind).public();
    assert!(!n0.send(&unknown, "g1", Module::Consensus, Bytes::new()));
    for n in [n0, n1, n2] {
        n.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_exchange_secp256k1() {
    three_nodes_exchange(SuiteKind::Secp256k1Keccak).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_exchange_sm2() {
    three_nodes_exchange(SuiteKind::Sm2Sm3).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreign_ca_is_refused_on_accept_and_on_dial() {
    let env = Env::new();
    let ca = env.ca("chain-ca", "agency-a");
    let foreign = env.ca("foreign-ca", "foreign-agency");
    let a = env.node(&ca.agency, "node-a", SECP, &[&ca]).start(&[]).await;
    // f trusts a's CA, so the handshake reaches a's check of f's certificate.
    let f =
        env.node(&foreign.agency, "node4", SECP, &[&foreign, &ca]).start(&[a.local_addr()]).await;
    let expected = "certificate \"node4\" (node id ";
    let reason =
        "issued by \"foreign-agency\" does not chain to any trusted CA (trusted: \"chain-ca\")";
    wait_for("a refuses the foreign node dialing in", || {
        refused_with(&a, expected) && refused_with(&a, reason)
    })
    .await;
    let line = a.refusals().into_iter().find(|l| l.contains("node4")).unwrap();
    assert!(line.contains(&f.node_id().to_hex()[..16]), "{line}");
    // a dialing f refuses it on the connecting side as well.
    a.add_peer(f.local_addr());
    let dialed = format!("refused peer {}: certificate \"node4\"", f.local_addr());
    wait_for("a refuses the foreign node it dialed", || {
        refused_with(&a, &dialed) && refused_with(&a, reason)
    })
    .await;
    assert!(a.connected().is_empty() && f.connected().is_empty());
    assert!(a.stats().refused >= 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_certificate_is_refused() {
    let env = Env::new();
    let ca = env.ca("chain-ca", "agency-a");
    let a = env.node(&ca.agency, "node-a", SECP, &[&ca]).start(&[]).await;
    let long_ago = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let expired = env.node_valid(&ca.agency, "node2", SECP, &[&ca], long_ago, long_ago + DAY);
    let e = expired.start(&[a.local_addr()]).await;
    wait_for("a refuses the expired certificate", || {
        refused_with(&a, "certificate \"node2\"")
            && refused_with(&a, "expired at 2023-11-15T22:13:20Z")
    })
    .await;
    // Dialing the expired node is refused on our side too.
    a.add_peer(e.local_addr());
    wait_for("a refuses the expired node it dialed", || {
        refused_with(&a, &format!("refused peer {}: certificate \"node2\"", e.local_addr()))
    })
    .await;
    assert!(a.connected().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blacklist_refuses_disconnects_and_readmits() {
    let env = Env::new();
    let ca = env.ca("chain-ca", "agency-a");
    let a = env.node(&ca.agency, "node-a", SECP, &[&ca]).start(&[]).await;
    let b = env.node(&ca.agency, "node-b", SECP, &[&ca]).start(&[a.local_addr()]).await;
    wait_connected(&a, 1).await;
    wait_connected(&b, 1).await;

    a.set_lists(vec![b.node_id()], None);
    wait_for("a drops b", || a.connected().is_empty() && b.connected().is_empty()).await;
    assert!(refused_with(
        &a,
        &format!("node id {} is blacklisted; disconnecting", b.node_id().to_hex())
    ));
    // b keeps redialing and is refused at the handshake.
    wait_for("a refuses b's redial", || {
        a.refusals().iter().filter(|l| l.contains("is blacklisted")).count() >= 2
    })
    .await;
    assert!(a.connected().is_empty());

    a.set_lists(vec![], None);
    wait_connected(&a, 1).await;
    let mut rx = a.register("g", Module::Consensus);
    deliver(&b, &a, &mut rx, "g", Module::Consensus, b"back").await;

    // Blacklisted at start: refused from the first handshake.
    let c_spec = env.node(&ca.agency, "node-c", SECP, &[&ca]);
    let mut config = c_spec.config.clone();
    config.blacklist = vec![b.node_id()];
    config.peers = vec![b.local_addr()];
    let c = c_spec.start_with(config).await;
    wait_for("c refuses b", || refused_with(&c, "is blacklisted")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whitelist_admits_only_listed_nodes() {
    let env = Env::new();
    let ca = env.ca("chain-ca", "agency-a");
    let a_spec = env.node(&ca.agency, "node-a", SECP, &[&ca]);
    let b_spec = env.node(&ca.agency, "node-b", SECP, &[&ca]);
    let c_spec = env.node(&ca.agency, "node-c", SECP, &[&ca]);
    let mut config = a_spec.config.clone();
    config.whitelist = Some(vec![c_spec.key.public()]);
    let a = a_spec.start_with(config).await;
    let b = b_spec.start(&[a.local_addr()]).await;
    let c = c_spec.start(&[a.local_addr()]).await;
    wait_connected(&c, 1).await;
    wait_for("a refuses b", || {
        refused_with(&a, &format!("node id {} is not on the whitelist", b.node_id().to_hex()))
    })
    .await;
    assert_eq!(a.connected(), vec![c.node_id()]);
    // Whitelisting b at run time lets it in.
    a.set_lists(vec![], Some(vec![b.node_id(), c.node_id()]));
    wait_connected(&a, 2).await;
    // Narrowing the whitelist disconnects c.
    a.set_lists(vec![], Some(vec![b.node_id()]));
    wait_for("a drops c", || a.connected() == vec![b.node_id()]).await;
    assert!(refused_with(&a, "not on the whitelist; disconnecting"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_trusted_cas_are_both_admitted() {
    let env = Env::new();
    let ca1 = env.ca("chain-ca-1", "agency-1");
    let ca2 = env.ca("chain-ca-2", "agency-2");
    let a = env.node(&ca1.agency, "node-a", SECP, &[&ca1, &ca2]).start(&[]).await;
    let b = env.node(&ca1.agency, "node-b", SECP, &[&ca1]).start(&[a.local_addr()]).await;
    let c = env.node(&ca2.agency, "node-c", SECP, &[&ca1, &ca2]).start(&[a.local_addr()]).await;
    wait_connected(&a, 2).await;
    wait_connected(&b, 1).await;
    wait_connected(&c, 1).await;
    // b trusts only CA 1, so it refuses c when c dials it.
    c.add_peer(b.local_addr());
    wait_for("b refuses c", || {
        refused_with(&b, "does not chain to any trusted CA (trusted: \"chain-ca-1\")")
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificate_for_another_node_fails_start() {
    let env = Env::new();
    let ca = env.ca("chain-ca", "agency-a");
    let spec = env.node(&ca.agency, "node-a", SECP, &[&ca]);
    let other = aurum_crypto::KeyPair::generate(SECP);
    let err = Network::start(spec.config.clone(), other.clone(), aurum_crypto::suite(SECP))
        .await
        .unwrap_err();
    assert!(matches!(err, NetworkError::NodeIdMismatch { .. }), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("ssl.crt") && msg.contains(&other.public().to_hex()), "{msg}");

    // Unreadable and invalid files are named.
    let mut config = spec.config.clone();
    config.tls.key = env.dir.path().join("missing.key");
    let msg = Network::start(config, spec.key.clone(), aurum_crypto::suite(SECP))
        .await
        .unwrap_err()
        .to_string();
    assert!(msg.contains("missing.key"), "{msg}");
    let mut config = spec.config.clone();
    config.tls.ca_certs = vec![spec.config.tls.key.clone()];
    let msg = Network::start(config, spec.key.clone(), aurum_crypto::suite(SECP))
        .await
        .unwrap_err()
        .to_string();
    assert!(msg.contains("ssl.key") && msg.contains("no PEM certificate"), "{msg}");
    // A key of the other suite.
    let msg = Network::start(
        spec.config.clone(),
        spec.key.clone(),
        aurum_crypto::suite(SuiteKind::Sm2Sm3),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(msg.contains("Sm2Sm3"), "{msg}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_frame_closes_connection_and_peer_reconnects() {
    let env = Env::new();
    let ca = env.ca("chain-ca", "agency-a");
    let a_spec = env.node(&ca.agency, "node-a", SECP, &[&ca]);
    let mut config = a_spec.config.clone();
    config.max_frame_bytes = 1024;
    let a = a_spec.start_with(config).await;
    let b = env.node(&ca.agency, "node-b", SECP, &[&ca]).start(&[a.local_addr()]).await;
    wait_connected(&a, 1).await;
    wait_connected(&b, 1).await;
    let mut rx = a.register("g", Module::Sync);
    assert!(b.send(&a.node_id(), "g", Module::Sync, Bytes::from(vec![7u8; 4096])));
    wait_for("a closes on the oversized frame", || a.stats().oversized == 1).await;
    // b reconnects and small frames flow again.
    deliver(&b, &a, &mut rx, "g", Module::Sync, b"small").await;
    // a never sends what its own limit forbids.
    assert!(!a.send(&b.node_id(), "g", Module::Sync, Bytes::from(vec![0u8; 2048])));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnects_after_peer_restarts_on_same_port() {
    let env = Env::new();
    let ca = env.ca("chain-ca", "agency-a");
    let b_spec = env.node(&ca.agency, "node-b", SECP, &[&ca]);
    let b = b_spec.start(&[]).await;
    let b_addr = b.local_addr();
    let a = env.node(&ca.agency, "node-a", SECP, &[&ca]).start(&[b_addr]).await;
    wait_connected(&a, 1).await;
    b.shutdown().await;
    wait_for("a notices b is gone", || a.connected().is_empty()).await;

    let mut config = b_spec.config.clone();
    config.listen = b_addr;
    let b = b_spec.start_with(config).await;
    assert_eq!(b.local_addr(), b_addr);
    wait_connected(&b, 1).await;
    let mut rx = b.register("g", Module::Consensus);
    deliver(&a, &b, &mut rx, "g", Module::Consensus, b"again").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_identity_presents_rotated_certificate() {
    let env = Env::new();
    let ca = env.ca("chain-ca", "agency-a");
    let agency2 = ca.root.new_agency("agency-b", 365).unwrap();
    let b_spec = env.node(&ca.agency, "node-b", SECP, &[&ca]);
    let b = b_spec.start(&[]).await;
    let a = env.node(&ca.agency, "node-a", SECP, &[&ca]).start(&[b.local_addr()]).await;
    wait_connected(&a, 1).await;
    assert!(a.peers()[0].certificate.contains("issued by \"agency-a\""));

    // Rotate b to a certificate from a second agency of the same CA.
    let now = SystemTime::now();
    let (chain, key) = agency2
        .issue_node("node-b-rotated", &b.node_id(), now - Duration::from_secs(60), now + DAY)
        .unwrap();
    aurum_network::pki::write_node_files(&b_spec.dir, &chain, &key).unwrap();
    b.reload_identity().unwrap();
    // The live connection stays up.
    assert_eq!(a.connected(), vec![b.node_id()]);

    let c = env.node(&ca.agency, "node-c", SECP, &[&ca]).start(&[b.local_addr()]).await;
    wait_connected(&c, 1).await;
    let cert = &c.peers()[0].certificate;
    assert!(
        cert.contains("\"node-b-rotated\"") && cert.contains("issued by \"agency-b\""),
        "{cert}"
    );

    // A broken rotation is refused and leaves the identity as it was.
    let bad = aurum_crypto::KeyPair::generate(SECP);
    let (chain, key) = agency2.issue_node("wrong", &bad.public(), now, now + DAY).unwrap();
    aurum_network::pki::write_node_files(&b_spec.dir, &chain, &key).unwrap();
    assert!(matches!(b.reload_identity(), Err(NetworkError::NodeIdMismatch { .. })));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dialing_own_address_is_refused_and_stops() {
    let env = Env::new();
    let ca = env.ca("chain-ca", "agency-a");
    let a = env.node(&ca.agency, "node-a", SECP, &[&ca]).start(&[]).await;
    a.add_peer(a.local_addr());
    wait_for("a refuses itself", || refused_with(&a, "is our own")).await;
    assert!(a.connected().is_empty());
}

/// Two nodes with certificates from one CA, linked to each other.
async fn linked_pair(env: &Env) -> (Network, Network) {
    let ca = env.ca("chain-ca", "agency-a");
    let specs: Vec<_> =
        (0..2).map(|i| env.node(&ca.agency, &format!("node{i}"), SECP, &[&ca])).collect();
    let n0 = specs[0].start(&[]).await;
    let n1 = specs[1].start(&[n0.local_addr()]).await;
    wait_connected(&n0, 1).await;
    wait_connected(&n1, 1).await;
    (n0, n1)
}

/// Consensus frames have their own lane: a gossip flood from another group that overflows
/// the bulk queue does not crowd out a single vote.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gossip_flood_does_not_crowd_out_consensus() {
    let env = Env::new();
    let (n0, n1) = linked_pair(&env).await;
    let mut votes = n1.register("g1", Module::Consensus);
    let _gossip = n1.register("g2", Module::TxGossip);
    let blob = Bytes::from(vec![0u8; 16 * 1024]);
    let mut queued_votes = 0;
    for i in 0..20_000u32 {
        n0.send(&n1.node_id(), "g2", Module::TxGossip, blob.clone());
        if i % 200 == 0 {
            let vote = Bytes::from(i.to_be_bytes().to_vec());
            assert!(n0.send(&n1.node_id(), "g1", Module::Consensus, vote), "vote {i} not queued");
            queued_votes += 1;
        }
    }
    assert!(n0.stats().dropped_outbound > 0, "the flood did overflow the bulk lane");
    for _ in 0..queued_votes {
        recv(&mut votes).await;
    }
}

/// One group flooding its gossip to a peer takes at most half the bulk lane: another
/// group's gossip still gets through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flooded_group_leaves_room_for_another() {
    let env = Env::new();
    let (n0, n1) = linked_pair(&env).await;
    let _flood = n1.register("g2", Module::TxGossip);
    let mut calm = n1.register("g1", Module::TxGossip);
    let blob = Bytes::from(vec![0u8; 16 * 1024]);
    for _ in 0..20_000 {
        n0.send(&n1.node_id(), "g2", Module::TxGossip, blob.clone());
    }
    assert!(n0.stats().dropped_outbound > 0, "the flood did overflow its share");
    for i in 0..100u32 {
        assert!(
            n0.send(&n1.node_id(), "g1", Module::TxGossip, Bytes::from(i.to_be_bytes().to_vec())),
            "group g1's frame {i} found no room"
        );
    }
    for _ in 0..100 {
        recv(&mut calm).await;
    }
}

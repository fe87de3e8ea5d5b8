//! One place for every option, one convention for "no limit" / "off" (`None`),
//! and one check behind every setter.

use std::time::Duration;

use zeroring_sockets::{Error, PushSocket, ReqSocket, RouterSocket, SocketOptions, XpubSocket};

fn option_error(r: Result<(), Error>) -> &'static str {
    match r {
        Err(Error::InvalidOption { option, .. }) => option,
        other => panic!("expected InvalidOption, got {other:?}"),
    }
}

#[compio::test]
async fn none_means_no_limit_and_zero_is_refused() {
    let push = PushSocket::new();
    let o = push.options();
    assert_eq!(o.sndhwm, Some(1000));
    assert_eq!(o.rcvhwm, Some(1000));
    assert_eq!(o.handshake_ivl, Some(Duration::from_secs(30)));
    assert_eq!(o.heartbeat_ivl, None);
    push.set_sndhwm(None).unwrap();
    assert_eq!(push.options().sndhwm, None);
    assert_eq!(option_error(push.set_sndhwm(Some(0))), "SNDHWM");
    assert_eq!(option_error(push.set_rcvhwm(Some(0))), "RCVHWM");
    assert_eq!(option_error(push.set_sndhwm_bytes(Some(0))), "SNDHWM_BYTES");
    assert_eq!(
        option_error(push.set_max_msg_frames(Some(0))),
        "MAX_MSG_FRAMES"
    );
    assert_eq!(
        option_error(push.set_heartbeat_ivl(Some(Duration::ZERO))),
        "HEARTBEAT_IVL"
    );
    assert_eq!(
        option_error(push.set_heartbeat_ttl(Some(Duration::from_secs(7000)))),
        "HEARTBEAT_TTL"
    );
    assert_eq!(
        option_error(push.set_handshake_ivl(Some(Duration::ZERO))),
        "HANDSHAKE_IVL"
    );
    assert_eq!(
        option_error(push.set_busy_poll(Some(Duration::ZERO))),
        "BUSY_POLL"
    );
    assert_eq!(option_error(push.set_backlog(0)), "BACKLOG");
    assert_eq!(
        option_error(push.set_routing_id(&b"\0id"[..])),
        "ROUTING_ID"
    );
    assert_eq!(
        option_error(push.set_routing_id(vec![b'x'; 256])),
        "ROUTING_ID"
    );
    // A refused change leaves the options as they were.
    assert_eq!(push.options().sndhwm, None);
}

#[compio::test]
async fn set_options_checks_everything_at_once() {
    let push = PushSocket::new();
    let mut o = push.options();
    o.linger = Some(Duration::from_millis(10));
    o.rcvhwm = Some(0);
    assert_eq!(option_error(push.set_options(o.clone())), "RCVHWM");
    assert_eq!(push.options().linger, None, "nothing changed");
    o.rcvhwm = None;
    push.set_options(o.clone()).unwrap();
    assert_eq!(push.options(), o);
    assert!(SocketOptions::default().validate().is_ok());
}

#[compio::test]
async fn type_specific_options_live_in_the_same_place() {
    let req = ReqSocket::new();
    req.set_req_relaxed(true);
    req.set_req_correlate(true);
    let o = req.options();
    assert!(o.req_relaxed && o.req_correlate);
    let router = RouterSocket::new();
    router.set_router_mandatory(true);
    assert!(router.options().router_mandatory);
    let xpub = XpubSocket::new();
    xpub.set_xpub_verbose(true);
    xpub.set_xpub_nodrop(true);
    xpub.set_xpub_welcome_msg(Some("hi"));
    let o = xpub.options();
    assert!(o.xpub_verbose && o.xpub_nodrop && !o.xpub_manual);
    assert_eq!(o.xpub_welcome_msg.as_deref(), Some(&b"hi"[..]));
    // And set_options sets them too.
    let mut o = req.options();
    o.req_relaxed = false;
    req.set_options(o).unwrap();
    assert!(!req.options().req_relaxed);
}

#[compio::test]
async fn adaptive_spin_is_on_for_req_and_rep_only() {
    use zeroring_sockets::{Context, DEFAULT_ADAPTIVE_SPIN, PullSocket, RepSocket, SocketType};
    assert_eq!(
        ReqSocket::new().options().adaptive_spin,
        Some(DEFAULT_ADAPTIVE_SPIN)
    );
    assert_eq!(
        RepSocket::new().options().adaptive_spin,
        Some(DEFAULT_ADAPTIVE_SPIN)
    );
    assert_eq!(PullSocket::new().options().adaptive_spin, None);
    assert_eq!(SocketOptions::default().adaptive_spin, None);
    let push = PushSocket::new();
    assert_eq!(
        option_error(push.set_adaptive_spin(Some(Duration::ZERO))),
        "ADAPTIVE_SPIN"
    );
    // A context's I/O thread serves all its sockets: its REQ does not spin.
    let ctx = Context::new().unwrap();
    let req = ctx.socket(SocketType::Req).unwrap();
    assert_eq!(req.options().adaptive_spin, None);
    req.set_adaptive_spin(Some(Duration::from_micros(10)))
        .unwrap();
    assert_eq!(req.options().adaptive_spin, Some(Duration::from_micros(10)));
}

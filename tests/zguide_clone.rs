//! The clone-lite example (examples/clone_lite.rs): every client's copy of the
//! state ends equal to what the replicated log holds, although the clients joined
//! at different times (part of the state by snapshot, the rest by updates).

#[allow(dead_code)]
#[path = "../examples/clone_lite.rs"]
mod clone_lite;

#[test]
fn clone_lite_keeps_every_copy_equal_to_the_log() {
    let r = clone_lite::run().unwrap();
    assert_eq!(
        r.log.len(),
        clone_lite::CLIENTS * clone_lite::CHANGES,
        "{r:?}"
    );
    assert_eq!(r.clients.len(), clone_lite::CLIENTS);
    for (i, copy) in r.clients.iter().enumerate() {
        assert_eq!(copy, &r.log, "client {i}");
    }
    // The first client joined an empty state, so everything it holds came as
    // updates; the others got earlier changes in their snapshot.
    assert_eq!(r.dropped[0], 0, "{r:?}");
}

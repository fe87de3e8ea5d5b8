//! The steady-state send path does not allocate per message for bodies under 8 KiB:
//! a counting global allocator watches this thread while a burst of sends is
//! encoded into a warmed-up connection buffer (the flusher does not run in between,
//! so only the send path is measured). Over inproc, a message goes into the link
//! as it is, so frames the socket did not make (a `Vec<u8>`) cost nothing either.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::Duration;

use bytes::Bytes;
use compio::time::timeout;
use zeroring::{DealerSocket, PullSocket, PushSocket, RouterSocket};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

const BURST: usize = 500;
const WAIT: Duration = Duration::from_secs(10);

#[compio::test]
async fn push_send_does_not_allocate_per_message() {
    for size in [0usize, 64, 1024, 8 * 1024 - 1] {
        let pull = PullSocket::new();
        let ep = pull.bind("tcp://127.0.0.1:0").await.unwrap();
        let push = PushSocket::new();
        push.connect(&ep.to_string()).await.unwrap();
        let body = Bytes::from(vec![3u8; size]);
        let mut measured = Vec::new();
        for _ in 0..4 {
            let before = allocations();
            for _ in 0..BURST {
                push.send(body.clone()).await.unwrap();
            }
            measured.push(allocations() - before);
            for _ in 0..BURST {
                timeout(WAIT, pull.recv()).await.unwrap().unwrap();
            }
        }
        // Rounds 0-1 warm up both halves of the double buffer; after that the
        // send path must not allocate at all.
        assert_eq!(
            measured[2..],
            [0, 0],
            "size {size}: allocations per burst {measured:?}"
        );
    }
}

#[compio::test]
async fn dealer_and_router_sends_do_not_allocate_per_message() {
    let router = RouterSocket::new();
    let ep = router.bind("tcp://127.0.0.1:0").await.unwrap();
    let dealer = DealerSocket::new();
    dealer.set_routing_id("d1").unwrap();
    dealer.connect(&ep.to_string()).await.unwrap();
    dealer.send("hello").await.unwrap();
    timeout(WAIT, router.recv()).await.unwrap().unwrap();
    let body = Bytes::from(vec![1u8; 100]);
    let id = Bytes::from_static(b"d1");
    let mut measured = Vec::new();
    for _ in 0..4 {
        let before = allocations();
        for _ in 0..BURST {
            dealer.send(vec![body.clone()]).await.unwrap();
            router.send(vec![id.clone(), body.clone()]).await.unwrap();
        }
        measured.push(allocations() - before);
        for _ in 0..BURST {
            timeout(WAIT, router.recv()).await.unwrap().unwrap();
            timeout(WAIT, dealer.recv()).await.unwrap().unwrap();
        }
    }
    // Building the Vec<Bytes> of each message allocates once per send (the
    // caller's choice of container); the socket itself adds nothing.
    assert_eq!(
        measured[2..],
        [2 * BURST as u64, 2 * BURST as u64],
        "allocations per burst {measured:?}"
    );
}

#[compio::test]
async fn inproc_push_hands_vec_frames_over_without_allocating() {
    let pull = PullSocket::new();
    pull.bind("inproc://no-alloc-send").await.unwrap();
    let push = PushSocket::new();
    push.connect("inproc://no-alloc-send").await.unwrap();
    let mut measured = Vec::new();
    for _ in 0..4 {
        // Frames the socket did not make: a Vec<u8> each, built before counting.
        let bodies: Vec<Vec<u8>> = (0..BURST).map(|_| vec![5u8; 64]).collect();
        let before = allocations();
        for body in bodies {
            push.send(body).await.unwrap();
        }
        measured.push(allocations() - before);
        for _ in 0..BURST {
            let m = timeout(WAIT, pull.recv()).await.unwrap().unwrap();
            assert_eq!(&m[0][..], &[5u8; 64][..]);
        }
    }
    // Rounds 0-1 warm up both halves of the link's double buffer; after that the
    // message itself goes into the link (before, cloning each frame made the
    // Vec's bytes shared: one allocation per message).
    assert_eq!(measured[2..], [0, 0], "allocations per burst {measured:?}");
}

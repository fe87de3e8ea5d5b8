//! The replicated log's storage with real segment files: recovery of torn tails,
//! refusal of mid-log damage, rollover, reads across segments and the write buffer,
//! truncation, epochs, shipping records between logs, and a model-based property
//! test. Everything goes through the public `zeroring_replog` API.

use std::collections::BTreeMap;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use zeroring_replog::ReplogError;
use zeroring_replog::record::{self, HEADER_LEN, Parse};
use zeroring_replog::storage::{Recovery, Storage, segment_file_name};

type Model = Vec<(u64, Vec<u8>)>;

fn open(dir: &Path, segment_bytes: u64) -> (Storage, Recovery) {
    Storage::open_dir(dir, segment_bytes).expect("open_dir")
}

/// Payload of record `i`: varied lengths, recognisable bytes.
fn payload(i: u64) -> Vec<u8> {
    let mut p = format!("value {i}:").into_bytes();
    p.resize(10 + (i as usize * 7) % 50, b'a' + (i % 26) as u8);
    p
}

/// Appends `n` records with `epoch_of(offset)`, recording them in `model`.
fn fill(s: &mut Storage, model: &mut Model, n: u64, epoch_of: impl Fn(u64) -> u64) {
    for _ in 0..n {
        let off = s.next_offset();
        let (e, p) = (epoch_of(off), payload(off));
        assert_eq!(s.append(e, &p).unwrap(), off);
        model.push((e, p));
    }
}

/// Everything in the log, checking that offsets are dense from 0.
fn contents(s: &Storage) -> Model {
    let mut v = Vec::new();
    s.for_each(0, |r| {
        assert_eq!(r.offset, v.len() as u64, "for_each offsets are dense");
        v.push((r.epoch, r.payload.to_vec()));
        Ok(())
    })
    .unwrap();
    v
}

/// The encoded bytes of `model[from..to]`.
fn encoded(model: &Model, from: u64, to: u64) -> Vec<u8> {
    let mut out = Vec::new();
    for o in from..to {
        let (e, p) = &model[o as usize];
        record::encode(&mut out, *e, o, p);
    }
    out
}

fn epochs_of(model: &Model) -> Vec<(u64, u64)> {
    let mut v: Vec<(u64, u64)> = Vec::new();
    for (o, (e, _)) in model.iter().enumerate() {
        if v.last().is_none_or(|&(last, _)| last != *e) {
            v.push((*e, o as u64));
        }
    }
    v
}

fn check_against(s: &Storage, model: &Model) {
    assert_eq!(s.next_offset(), model.len() as u64);
    assert_eq!(s.last_epoch(), model.last().map_or(0, |r| r.0));
    assert_eq!(s.epochs(), &epochs_of(model)[..]);
    assert_eq!(&contents(s), model);
}

/// Segment files in `dir` (name -> bytes), plus anything else in it.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().into_string().unwrap(),
                fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

fn names(dir: &Path) -> Vec<String> {
    snapshot(dir).into_keys().collect()
}

fn seg(dir: &Path, base: u64) -> PathBuf {
    dir.join(segment_file_name(base))
}

/// Byte position of every record in a segment file (parsed independently).
fn record_positions(path: &Path) -> Vec<u64> {
    let bytes = fs::read(path).unwrap();
    let mut pos = 0;
    let mut v = Vec::new();
    while pos < bytes.len() {
        match record::parse(&bytes[pos..]) {
            Parse::Complete(_, n) => {
                v.push(pos as u64);
                pos += n;
            }
            other => panic!("{} at {pos}: {other:?}", path.display()),
        }
    }
    v
}

fn flip(path: &Path, at: u64, mask: u8) {
    let mut b = fs::read(path).unwrap();
    b[at as usize] ^= mask;
    fs::write(path, b).unwrap();
}

fn cut(path: &Path, len: u64) {
    OpenOptions::new()
        .write(true)
        .open(path)
        .unwrap()
        .set_len(len)
        .unwrap();
}

fn file_len(path: &Path) -> u64 {
    fs::metadata(path).unwrap().len()
}

/// A synced log of `n` records in one segment, closed; returns its model.
fn one_segment_log(dir: &Path, n: u64) -> Model {
    let (mut s, _) = open(dir, 1 << 30);
    let mut model = Vec::new();
    fill(&mut s, &mut model, n, |o| 1 + o / 7);
    s.sync_now().unwrap();
    model
}

/// Reopens after damage and checks a torn tail was cut at the start of the last
/// record of a 20-record log, and that the log keeps working.
fn assert_last_record_torn(dir: &Path, model: &Model, damaged_len: u64) {
    let path = seg(dir, 0);
    let last_pos = *record_positions_prefix(&path, 19).last().unwrap();
    let (mut s, rec) = open(dir, 1 << 30);
    assert_eq!(rec.records, 19);
    assert_eq!(rec.segments, 1);
    assert_eq!(rec.truncated_at, Some((path.clone(), last_pos)));
    assert_eq!(rec.truncated_bytes, damaged_len - last_pos);
    assert_eq!(file_len(&path), last_pos);
    check_against(&s, &model[..19].to_vec());
    // The log continues at 19 and survives another reopen untouched.
    let mut m = model[..19].to_vec();
    fill(&mut s, &mut m, 3, |_| 9);
    s.sync_now().unwrap();
    drop(s);
    let (s, rec) = open(dir, 1 << 30);
    assert_eq!(rec.truncated_at, None);
    assert_eq!(rec.records, 22);
    check_against(&s, &m);
}

/// Positions of the first `n` records (the rest of the file may be damaged).
fn record_positions_prefix(path: &Path, n: usize) -> Vec<u64> {
    let bytes = fs::read(path).unwrap();
    let mut pos = 0;
    let mut v = Vec::new();
    while v.len() < n {
        let Parse::Complete(_, used) = record::parse(&bytes[pos..]) else {
            panic!("record {} damaged", v.len())
        };
        v.push(pos as u64);
        pos += used;
    }
    v.push(pos as u64);
    v
}

#[test]
fn fresh_directory_gets_a_first_segment() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("a/b/log");
    let (s, rec) = open(&dir, 1000);
    assert_eq!(rec, Recovery::default());
    assert_eq!(names(&dir), [segment_file_name(0)]);
    assert_eq!(
        (s.next_offset(), s.first_offset(), s.last_epoch()),
        (0, 0, 0)
    );
    assert!(s.epochs().is_empty());
    let (base, _file) = s.active_file().unwrap();
    assert_eq!(base, 0);
    assert_eq!(s.dir(), Some(dir.as_path()));
}

#[test]
fn reopen_continues_offsets_and_epochs() {
    let tmp = tempfile::tempdir().unwrap();
    let mut model = Vec::new();
    {
        let (mut s, _) = open(tmp.path(), 400);
        fill(&mut s, &mut model, 10, |_| 1);
        fill(&mut s, &mut model, 10, |_| 3);
        s.sync_now().unwrap();
    }
    let (mut s, rec) = open(tmp.path(), 400);
    assert_eq!(rec.records, 20);
    assert_eq!(rec.truncated_at, None);
    assert_eq!(rec.truncated_bytes, 0);
    assert_eq!(rec.segments, names(tmp.path()).len());
    check_against(&s, &model);
    assert_eq!(s.epochs(), &[(1, 0), (3, 10)]);
    assert!(matches!(
        s.append(2, b"stale leader"),
        Err(ReplogError::InvalidRecord(_))
    ));
    assert_eq!(s.append(3, b"x").unwrap(), 20);
    assert_eq!(s.append(5, b"y").unwrap(), 21);
    model.push((3, b"x".to_vec()));
    model.push((5, b"y".to_vec()));
    // Dropped without sync_now: a clean close still hands the buffer to the kernel.
    drop(s);
    let (s, rec) = open(tmp.path(), 400);
    assert_eq!(rec.records, 22);
    check_against(&s, &model);
    assert_eq!(s.epochs(), &[(1, 0), (3, 10), (5, 21)]);
}

#[test]
fn torn_tail_cut_mid_header() {
    let tmp = tempfile::tempdir().unwrap();
    let model = one_segment_log(tmp.path(), 20);
    let path = seg(tmp.path(), 0);
    let last = record_positions(&path)[19];
    for within in [1, 10, HEADER_LEN as u64 - 1] {
        let copy = tempfile::tempdir().unwrap();
        fs::copy(&path, seg(copy.path(), 0)).unwrap();
        cut(&seg(copy.path(), 0), last + within);
        assert_last_record_torn(copy.path(), &model, last + within);
    }
}

#[test]
fn torn_tail_cut_mid_payload() {
    let tmp = tempfile::tempdir().unwrap();
    let model = one_segment_log(tmp.path(), 20);
    let path = seg(tmp.path(), 0);
    let last = record_positions(&path)[19];
    let end = file_len(&path);
    for len in [
        last + HEADER_LEN as u64,
        last + HEADER_LEN as u64 + 3,
        end - 1,
    ] {
        let copy = tempfile::tempdir().unwrap();
        fs::copy(&path, seg(copy.path(), 0)).unwrap();
        cut(&seg(copy.path(), 0), len);
        assert_last_record_torn(copy.path(), &model, len);
    }
}

#[test]
fn flipped_byte_in_last_record_is_a_torn_tail() {
    let tmp = tempfile::tempdir().unwrap();
    let model = one_segment_log(tmp.path(), 20);
    let path = seg(tmp.path(), 0);
    let last = record_positions(&path)[19];
    let end = file_len(&path);
    let cases = [
        ("payload", end - 2, 0x40),
        ("len field, length shrinks", last, 0x01),
        ("len field, length grows past the end", last + 1, 0x01),
        ("len field, over the limit", last + 3, 0x80),
        ("crc field", last + 5, 0x08),
        ("epoch field", last + 8, 0x01),
        ("offset field", last + 16, 0x02),
    ];
    for (what, at, mask) in cases {
        let copy = tempfile::tempdir().unwrap();
        fs::copy(&path, seg(copy.path(), 0)).unwrap();
        flip(&seg(copy.path(), 0), at, mask);
        eprintln!("case: {what}");
        assert_last_record_torn(copy.path(), &model, end);
    }
}

#[test]
fn zero_filled_tail_is_a_torn_tail() {
    let tmp = tempfile::tempdir().unwrap();
    let model = one_segment_log(tmp.path(), 20);
    let path = seg(tmp.path(), 0);
    let end = file_len(&path);
    OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap()
        .write_all(&[0; 4096])
        .unwrap();
    let (s, rec) = open(tmp.path(), 1 << 30);
    assert_eq!(rec.records, 20);
    assert_eq!(rec.truncated_at, Some((path.clone(), end)));
    assert_eq!(rec.truncated_bytes, 4096);
    assert_eq!(file_len(&path), end);
    check_against(&s, &model);
}

/// Opening must fail with Corrupt naming `path` and `position`, changing no file.
fn assert_corrupt(dir: &Path, segment_bytes: u64, path: &Path, position: u64) -> String {
    let before = snapshot(dir);
    let err =
        Storage::open_dir(dir, segment_bytes).expect_err("damage in the middle must not open");
    let message = err.to_string();
    match err {
        ReplogError::Corrupt {
            path: p,
            position: q,
            reason,
        } => {
            assert_eq!(p, path, "{message}");
            assert_eq!(q, position, "{message}");
            assert!(message.contains(&path.display().to_string()), "{message}");
            assert!(message.contains(&format!("byte {position}")), "{message}");
            assert_eq!(snapshot(dir), before, "files must be left untouched");
            reason
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[test]
fn mid_file_corruption_refuses_to_open() {
    let tmp = tempfile::tempdir().unwrap();
    one_segment_log(tmp.path(), 100);
    let path = seg(tmp.path(), 0);
    let pos = record_positions(&path);
    let pristine = fs::read(&path).unwrap();
    let cases = [
        ("payload", pos[10] + HEADER_LEN as u64 + 2, 0x01),
        ("len field changes", pos[10], 0x04),
        ("len field over the limit", pos[10] + 3, 0x80),
        ("crc field", pos[10] + 4, 0x10),
        ("offset field", pos[10] + 16, 0x01),
    ];
    for (what, at, mask) in cases {
        fs::write(&path, &pristine).unwrap();
        flip(&path, at, mask);
        let reason = assert_corrupt(tmp.path(), 1 << 30, &path, pos[10]);
        assert!(reason.contains("offset 11"), "{what}: {reason}");
    }
    // Undamaged again, it opens with all records.
    fs::write(&path, &pristine).unwrap();
    let (s, rec) = open(tmp.path(), 1 << 30);
    assert_eq!((rec.records, rec.truncated_at), (100, None));
    assert_eq!(s.next_offset(), 100);
}

#[test]
fn record_with_wrong_offset_or_lower_epoch_in_the_middle_is_corrupt() {
    // A complete, checksummed record that does not fit the log is damage too.
    let tmp = tempfile::tempdir().unwrap();
    let path = seg(tmp.path(), 0);
    let mut bytes = Vec::new();
    record::encode(&mut bytes, 1, 0, b"zero");
    let second = bytes.len() as u64;
    record::encode(&mut bytes, 1, 5, b"gap");
    record::encode(&mut bytes, 1, 6, b"after");
    fs::write(&path, &bytes).unwrap();
    let reason = assert_corrupt(tmp.path(), 1 << 30, &path, second);
    assert!(reason.contains("offset 5 where offset 1"), "{reason}");

    let mut bytes = Vec::new();
    record::encode(&mut bytes, 4, 0, b"zero");
    record::encode(&mut bytes, 2, 1, b"lower epoch");
    fs::write(&path, &bytes).unwrap();
    let reason = assert_corrupt(tmp.path(), 1 << 30, &path, second);
    assert!(reason.contains("epoch 2 below epoch 4"), "{reason}");
}

#[test]
fn stale_record_with_lower_offset_at_the_tail_is_torn() {
    let tmp = tempfile::tempdir().unwrap();
    let path = seg(tmp.path(), 0);
    let mut bytes = Vec::new();
    record::encode(&mut bytes, 1, 0, b"zero");
    record::encode(&mut bytes, 1, 1, b"one");
    let tail = bytes.len() as u64;
    record::encode(&mut bytes, 1, 0, b"zero again");
    fs::write(&path, &bytes).unwrap();
    let (s, rec) = open(tmp.path(), 1 << 30);
    assert_eq!(rec.records, 2);
    assert_eq!(rec.truncated_at, Some((path, tail)));
    assert_eq!(s.next_offset(), 2);
}

/// 35 records of 100 bytes each, in segments of 10 (segment_bytes 1000).
fn fixed_records(s: &mut Storage, model: &mut Model, n: u64, epoch_of: impl Fn(u64) -> u64) {
    for _ in 0..n {
        let off = s.next_offset();
        let p = vec![b'0' + (off % 10) as u8; 100 - HEADER_LEN];
        assert_eq!(s.append(epoch_of(off), &p).unwrap(), off);
        model.push((epoch_of(off), p));
    }
}

#[test]
fn rollover_at_the_configured_size() {
    let tmp = tempfile::tempdir().unwrap();
    let mut model = Vec::new();
    let (mut s, _) = open(tmp.path(), 1000);
    fixed_records(&mut s, &mut model, 35, |o| o / 12);
    assert_eq!(s.active_file().unwrap().0, 30);
    s.sync_now().unwrap();
    assert_eq!(
        names(tmp.path()),
        [0, 10, 20, 30].map(segment_file_name).to_vec()
    );
    for (base, len) in [(0, 1000), (10, 1000), (20, 1000), (30, 500)] {
        assert_eq!(file_len(&seg(tmp.path(), base)), len, "segment {base}");
        let first = fs::read(seg(tmp.path(), base)).unwrap();
        let Parse::Complete(r, _) = record::parse(&first) else {
            panic!("segment {base}")
        };
        assert_eq!(r.offset, base, "a segment starts at its base offset");
    }
    drop(s);
    let (s, rec) = open(tmp.path(), 1000);
    assert_eq!((rec.segments, rec.records), (4, 35));
    check_against(&s, &model);

    // A size that is not a multiple of the record size: roll once the size reaches it.
    let tmp = tempfile::tempdir().unwrap();
    let (mut s, _) = open(tmp.path(), 250);
    fixed_records(&mut s, &mut Vec::new(), 7, |_| 0);
    s.sync_now().unwrap();
    assert_eq!(names(tmp.path()), [0, 3, 6].map(segment_file_name).to_vec());
    // Tiny segments hold one record each.
    let tmp = tempfile::tempdir().unwrap();
    let (mut s, _) = open(tmp.path(), 1);
    fixed_records(&mut s, &mut Vec::new(), 3, |_| 0);
    s.sync_now().unwrap();
    assert_eq!(names(tmp.path()), [0, 1, 2].map(segment_file_name).to_vec());
}

#[test]
fn buffered_records_reach_the_file_on_write_out() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut s, _) = open(tmp.path(), 1 << 30);
    s.append(1, b"hello").unwrap();
    assert_eq!(s.pending_bytes(), record::encoded_len(5));
    assert_eq!(
        file_len(&seg(tmp.path(), 0)),
        0,
        "append makes no system call"
    );
    s.write_out().unwrap();
    assert_eq!(s.pending_bytes(), 0);
    assert_eq!(file_len(&seg(tmp.path(), 0)), record::encoded_len(5) as u64);
    // Past 256 KiB the buffer is written out by the next append on its own.
    let big = vec![7u8; 100 << 10];
    s.append(1, &big).unwrap();
    s.append(1, &big).unwrap();
    s.append(1, &big).unwrap();
    assert!(s.pending_bytes() > 256 << 10);
    s.append(1, b"x").unwrap();
    assert_eq!(s.pending_bytes(), record::encoded_len(1));
    assert!(file_len(&seg(tmp.path(), 0)) > 300 << 10);
}

#[test]
fn corruption_at_the_end_of_a_non_last_segment_refuses_to_open() {
    let tmp = tempfile::tempdir().unwrap();
    {
        let (mut s, _) = open(tmp.path(), 1000);
        fixed_records(&mut s, &mut Vec::new(), 35, |_| 1);
        s.sync_now().unwrap();
    }
    let path = seg(tmp.path(), 10);
    let pristine = fs::read(&path).unwrap();
    // Flipped byte in the segment's last record: later segments hold valid records.
    flip(&path, 999, 0x01);
    let reason = assert_corrupt(tmp.path(), 1000, &path, 900);
    assert!(reason.contains(&segment_file_name(20)), "{reason}");
    // Its last record cut short.
    fs::write(&path, &pristine).unwrap();
    cut(&path, 950);
    assert_corrupt(tmp.path(), 1000, &path, 900);
    // A whole segment missing: the next one does not continue the log.
    fs::write(&path, &pristine).unwrap();
    fs::remove_file(&path).unwrap();
    let reason = assert_corrupt(tmp.path(), 1000, &seg(tmp.path(), 20), 0);
    assert!(reason.contains("starts at offset 20"), "{reason}");
}

#[test]
fn torn_tail_removes_later_segments_without_valid_records() {
    let tmp = tempfile::tempdir().unwrap();
    let mut model = Vec::new();
    {
        let (mut s, _) = open(tmp.path(), 1000);
        fixed_records(&mut s, &mut model, 35, |_| 1);
        s.sync_now().unwrap();
    }
    // Crash while rolling: segment 20 lost its last record's tail, segment 30 holds
    // only zeros (its blocks were allocated, its data never written).
    cut(&seg(tmp.path(), 20), 950);
    fs::write(seg(tmp.path(), 30), [0u8; 500]).unwrap();
    let (mut s, rec) = open(tmp.path(), 1000);
    assert_eq!(rec.records, 29);
    assert_eq!(rec.segments, 3);
    assert_eq!(rec.truncated_at, Some((seg(tmp.path(), 20), 900)));
    assert_eq!(rec.truncated_bytes, 50 + 500);
    assert_eq!(
        names(tmp.path()),
        [0, 10, 20].map(segment_file_name).to_vec()
    );
    model.truncate(29);
    check_against(&s, &model);
    // It keeps going: record 29 fills segment 20, then 30 starts a new file.
    fixed_records(&mut s, &mut model, 3, |_| 2);
    s.sync_now().unwrap();
    assert_eq!(
        names(tmp.path()),
        [0, 10, 20, 30].map(segment_file_name).to_vec()
    );
    drop(s);
    let (s, _) = open(tmp.path(), 1000);
    check_against(&s, &model);
}

#[test]
fn misplaced_last_segment_without_valid_records_is_removed() {
    let tmp = tempfile::tempdir().unwrap();
    let model = one_segment_log(tmp.path(), 5);
    fs::write(seg(tmp.path(), 9), b"garbage that is not a record at all").unwrap();
    let (mut s, rec) = open(tmp.path(), 1 << 30);
    assert_eq!(rec.records, 5);
    assert_eq!(rec.truncated_at, Some((seg(tmp.path(), 9), 0)));
    assert_eq!(names(tmp.path()), [segment_file_name(0)]);
    check_against(&s, &model);
    assert_eq!(s.append(9, b"next").unwrap(), 5);
}

#[test]
fn zero_length_last_segment_is_fine() {
    let tmp = tempfile::tempdir().unwrap();
    let mut model = Vec::new();
    {
        let (mut s, _) = open(tmp.path(), 1000);
        fixed_records(&mut s, &mut model, 30, |_| 1);
        s.sync_now().unwrap();
    }
    // A crash right after a roll created the next file.
    fs::write(seg(tmp.path(), 30), b"").unwrap();
    let (mut s, rec) = open(tmp.path(), 1000);
    assert_eq!((rec.segments, rec.records, rec.truncated_at), (4, 30, None));
    assert_eq!(s.active_file().unwrap().0, 30);
    fixed_records(&mut s, &mut model, 1, |_| 1);
    s.sync_now().unwrap();
    assert_eq!(file_len(&seg(tmp.path(), 30)), 100);
    check_against(&s, &model);
}

#[test]
fn read_across_segments_and_from_the_buffer() {
    let tmp = tempfile::tempdir().unwrap();
    let mut model = Vec::new();
    let (mut s, _) = open(tmp.path(), 1000);
    fixed_records(&mut s, &mut model, 35, |o| 1 + o / 8);
    // Records 30..35 are still in the user buffer.
    assert_eq!(s.pending_bytes(), 500);
    let mut mem = Storage::memory();
    for (e, p) in &model {
        mem.append(*e, p).unwrap();
    }
    let cases: [(u64, usize, u64); 10] = [
        (0, 0, 1),           // at least one record
        (0, 99, 1),          // even if it does not fit
        (0, 250, 2),         // whole records only
        (5, 2500, 30),       // spans segments 0, 10 and 20
        (9, 200, 11),        // across one boundary
        (28, 700, 35),       // from files into the buffer
        (31, 10_000, 35),    // buffer only
        (34, 100, 35),       // last record exactly
        (0, usize::MAX, 35), // everything
        (35, 1000, 35),      // nothing to read at the end
    ];
    for (from, max, to) in cases {
        let mut out = b"keep".to_vec();
        assert_eq!(
            s.read(from, max, &mut out).unwrap(),
            to,
            "read({from}, {max})"
        );
        assert_eq!(&out[..4], b"keep", "read appends");
        assert_eq!(out[4..], encoded(&model, from, to), "read({from}, {max})");
        let mut from_mem = Vec::new();
        assert_eq!(mem.read(from, max, &mut from_mem).unwrap(), to);
        assert_eq!(from_mem, out[4..]);
    }
    let mut out = Vec::new();
    assert!(matches!(
        s.read(36, 100, &mut out),
        Err(ReplogError::InvalidRecord(_))
    ));
    assert!(mem.read(36, 100, &mut out).is_err());
    assert!(out.is_empty());
    // for_each from the middle sees file and buffer records.
    let mut seen = Vec::new();
    s.for_each(27, |r| {
        seen.push(r.offset);
        Ok(())
    })
    .unwrap();
    assert_eq!(seen, (27..35).collect::<Vec<_>>());
}

#[test]
fn truncate_across_segments_then_reopen() {
    let tmp = tempfile::tempdir().unwrap();
    let mut model = Vec::new();
    let (mut s, _) = open(tmp.path(), 1000);
    fixed_records(&mut s, &mut model, 35, |o| o / 10);
    s.sync_now().unwrap();
    assert!(matches!(s.truncate(36), Err(ReplogError::InvalidRecord(_))));
    s.truncate(35).unwrap();
    assert_eq!(s.next_offset(), 35);

    s.truncate(15).unwrap();
    model.truncate(15);
    assert_eq!(names(tmp.path()), [0, 10].map(segment_file_name).to_vec());
    assert_eq!(file_len(&seg(tmp.path(), 10)), 500);
    check_against(&s, &model);
    assert_eq!(s.epochs(), &[(0, 0), (1, 10)]);
    assert_eq!(s.active_file().unwrap().0, 10);
    drop(s);
    let (mut s, rec) = open(tmp.path(), 1000);
    assert_eq!((rec.segments, rec.records, rec.truncated_at), (2, 15, None));
    check_against(&s, &model);

    // Grow again in a newer epoch, then cut exactly at a segment boundary.
    fixed_records(&mut s, &mut model, 10, |_| 7);
    assert_eq!(s.active_file().unwrap().0, 20);
    s.truncate(20).unwrap();
    model.truncate(20);
    assert_eq!(names(tmp.path()), [0, 10].map(segment_file_name).to_vec());
    assert_eq!(file_len(&seg(tmp.path(), 10)), 1000);
    assert_eq!(s.last_epoch(), 7);
    fixed_records(&mut s, &mut model, 1, |_| 8);
    s.sync_now().unwrap();
    assert_eq!(
        names(tmp.path()),
        [0, 10, 20].map(segment_file_name).to_vec()
    );
    check_against(&s, &model);

    // Cut inside the unflushed buffer, then to nothing at all.
    fixed_records(&mut s, &mut model, 3, |_| 8);
    s.truncate(22).unwrap();
    model.truncate(22);
    check_against(&s, &model);
    s.truncate(0).unwrap();
    model.clear();
    assert_eq!(names(tmp.path()), [segment_file_name(0)]);
    assert_eq!(file_len(&seg(tmp.path(), 0)), 0);
    check_against(&s, &model);
    assert_eq!(s.last_epoch(), 0);
    drop(s);
    let (s, rec) = open(tmp.path(), 1000);
    assert_eq!((rec.segments, rec.records), (1, 0));
    check_against(&s, &model);
}

#[test]
fn epoch_end_semantics() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut s, _) = open(tmp.path(), 200);
    assert_eq!(s.epoch_end(0), 0);
    let mut model = Vec::new();
    fill(&mut s, &mut model, 12, |o| match o {
        0..5 => 1,
        5..9 => 3,
        _ => 4,
    });
    let expect = [(0, 0), (1, 5), (2, 5), (3, 9), (4, 12), (9, 12)];
    for (epoch, end) in expect {
        assert_eq!(s.epoch_end(epoch), end, "epoch_end({epoch})");
    }
    s.sync_now().unwrap();
    drop(s);
    let (mut s, _) = open(tmp.path(), 200);
    for (epoch, end) in expect {
        assert_eq!(s.epoch_end(epoch), end, "after reopen: epoch_end({epoch})");
    }
    // A follower that diverged in epoch 3 truncates to the leader's end of epoch 3.
    s.truncate(7).unwrap();
    assert_eq!(s.epochs(), &[(1, 0), (3, 5)]);
    assert_eq!((s.epoch_end(1), s.epoch_end(3), s.epoch_end(4)), (5, 7, 7));
    s.truncate(5).unwrap();
    assert_eq!(s.epochs(), &[(1, 0)]);
    assert_eq!(s.epoch_end(1), 5);
}

#[test]
fn shipping_read_batches_gives_byte_identical_logs() {
    let leader_dir = tempfile::tempdir().unwrap();
    let follower_dir = tempfile::tempdir().unwrap();
    let (mut leader, _) = open(leader_dir.path(), 700);
    let mut model = Vec::new();
    fill(&mut leader, &mut model, 300, |o| 1 + o / 70);
    leader.sync_now().unwrap();

    let (mut follower, _) = open(follower_dir.path(), 700);
    let mut in_memory = Storage::memory();
    let mut batch = Vec::new();
    let mut batches = 0;
    while follower.next_offset() < leader.next_offset() {
        batch.clear();
        let next = leader
            .read(follower.next_offset(), 1500, &mut batch)
            .unwrap();
        assert_eq!(follower.append_encoded(&batch).unwrap(), next);
        assert_eq!(in_memory.append_encoded(&batch).unwrap(), next);
        batches += 1;
    }
    assert!(batches > 10);
    follower.sync_now().unwrap();
    assert_eq!(snapshot(follower_dir.path()), snapshot(leader_dir.path()));
    assert_eq!(follower.epochs(), leader.epochs());
    check_against(&follower, &model);
    check_against(&in_memory, &model);
    drop(follower);
    let (follower, rec) = open(follower_dir.path(), 700);
    assert_eq!(rec.records, 300);
    check_against(&follower, &model);

    // One big batch goes in whole and still rolls segments at the same places.
    let third_dir = tempfile::tempdir().unwrap();
    let (mut third, _) = open(third_dir.path(), 700);
    batch.clear();
    leader.read(0, usize::MAX, &mut batch).unwrap();
    assert_eq!(third.append_encoded(&batch).unwrap(), 300);
    third.sync_now().unwrap();
    assert_eq!(snapshot(third_dir.path()), snapshot(leader_dir.path()));
}

#[test]
fn append_encoded_rejects_batches_that_do_not_continue_the_log() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut s, _) = open(tmp.path(), 1000);
    fill(&mut s, &mut Vec::new(), 5, |_| 3);
    let before = s.pending_bytes();
    let mut b = Vec::new();
    record::encode(&mut b, 3, 6, b"gap");
    assert!(matches!(
        s.append_encoded(&b),
        Err(ReplogError::InvalidRecord(_))
    ));
    b.clear();
    record::encode(&mut b, 2, 5, b"older epoch");
    assert!(s.append_encoded(&b).is_err());
    b.clear();
    record::encode(&mut b, 3, 5, b"good");
    record::encode(&mut b, 3, 6, b"then torn");
    let whole = b.clone();
    b.pop();
    assert!(s.append_encoded(&b).is_err());
    let mut b = whole;
    let last = b.len() - 1;
    b[last] ^= 1;
    assert!(s.append_encoded(&b).is_err());
    assert_eq!((s.next_offset(), s.pending_bytes()), (5, before));
    assert_eq!(s.append_encoded(&[]).unwrap(), 5);
}

#[test]
fn replay_of_many_records_after_reopen() {
    let tmp = tempfile::tempdir().unwrap();
    const N: u64 = 100_000;
    {
        let (mut s, _) = open(tmp.path(), 1 << 20);
        for i in 0..N {
            s.append(1 + i / 30_000, &i.to_le_bytes()).unwrap();
        }
        s.sync_now().unwrap();
    }
    let (s, rec) = open(tmp.path(), 1 << 20);
    assert_eq!(rec.records, N);
    assert!(rec.segments > 1);
    let mut next = 0u64;
    s.for_each(0, |r| {
        assert_eq!(r.offset, next);
        assert_eq!(r.payload, next.to_le_bytes());
        next += 1;
        Ok(())
    })
    .unwrap();
    assert_eq!(next, N);
    // A follower far behind gets large batches.
    let mut out = Vec::new();
    let to = s.read(10, 4 << 20, &mut out).unwrap();
    assert_eq!(to, N);
    assert_eq!(out.len() as u64, (N - 10) * (HEADER_LEN as u64 + 8));
}

#[derive(Debug, Clone)]
enum Op {
    Append { bump: u64, len: usize, byte: u8 },
    Batch { count: usize, bump: u64 },
    Truncate(usize),
    Reopen,
    WriteOut,
    Sync,
    Read { from: usize, max: usize },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (prop_oneof![4 => Just(0u64), 1 => 1..3u64], 1..120usize, any::<u8>())
            .prop_map(|(bump, len, byte)| Op::Append { bump, len, byte }),
        2 => (1..12usize, 0..2u64).prop_map(|(count, bump)| Op::Batch { count, bump }),
        1 => any::<usize>().prop_map(Op::Truncate),
        1 => Just(Op::Reopen),
        1 => Just(Op::WriteOut),
        1 => Just(Op::Sync),
        2 => (any::<usize>(), 0..1200usize).prop_map(|(from, max)| Op::Read { from, max }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Random appends (epochs never going down), batches, truncations, reads and
    /// reopens leave the files equal to a plain Vec model and to the memory backend.
    #[test]
    fn storage_matches_a_vec_model(
        segment_bytes in 100..1500u64,
        ops in proptest::collection::vec(op(), 1..60),
    ) {
        let tmp = tempfile::tempdir().unwrap();
        let (mut s, _) = open(tmp.path(), segment_bytes);
        let mut mem = Storage::memory();
        let mut model: Model = Vec::new();
        for op in ops {
            let epoch = model.last().map_or(0, |r| r.0);
            match op {
                Op::Append { bump, len, byte } => {
                    let p = vec![byte; len];
                    let off = s.append(epoch + bump, &p).unwrap();
                    prop_assert_eq!(off, model.len() as u64);
                    mem.append(epoch + bump, &p).unwrap();
                    model.push((epoch + bump, p));
                }
                Op::Batch { count, bump } => {
                    let first = model.len() as u64;
                    let mut b = Vec::new();
                    for i in 0..count as u64 {
                        let p = payload(first + i);
                        record::encode(&mut b, epoch + bump, first + i, &p);
                        model.push((epoch + bump, p));
                    }
                    prop_assert_eq!(s.append_encoded(&b).unwrap(), model.len() as u64);
                    mem.append_encoded(&b).unwrap();
                }
                Op::Truncate(pick) => {
                    let next = pick % (model.len() + 1);
                    s.truncate(next as u64).unwrap();
                    mem.truncate(next as u64).unwrap();
                    model.truncate(next);
                }
                Op::Reopen => {
                    drop(s);
                    let (reopened, rec) = open(tmp.path(), segment_bytes);
                    prop_assert_eq!(rec.records, model.len() as u64);
                    prop_assert_eq!(rec.truncated_at, None);
                    s = reopened;
                }
                Op::WriteOut => {
                    s.write_out().unwrap();
                    prop_assert_eq!(s.pending_bytes(), 0);
                }
                Op::Sync => s.sync_now().unwrap(),
                Op::Read { from, max } => {
                    let from = (from % (model.len() + 1)) as u64;
                    let mut a = Vec::new();
                    let mut b = Vec::new();
                    let to = s.read(from, max, &mut a).unwrap();
                    prop_assert_eq!(mem.read(from, max, &mut b).unwrap(), to);
                    prop_assert_eq!(&a, &b);
                    prop_assert_eq!(&a, &encoded(&model, from, to));
                    if from < model.len() as u64 {
                        prop_assert!(to > from);
                    }
                    if to > from + 1 {
                        prop_assert!(a.len() <= max);
                    }
                    if (to as usize) < model.len() {
                        let one_more = encoded(&model, to, to + 1).len();
                        prop_assert!(to == from || a.len() + one_more > max);
                    }
                }
            }
            prop_assert_eq!(s.next_offset(), model.len() as u64);
            prop_assert_eq!(s.last_epoch(), model.last().map_or(0, |r| r.0));
            prop_assert_eq!(s.epochs(), &epochs_of(&model)[..]);
        }
        check_against(&s, &model);
        check_against(&mem, &model);
        drop(s);
        let (s, rec) = open(tmp.path(), segment_bytes);
        prop_assert_eq!(rec.records, model.len() as u64);
        check_against(&s, &model);
        // Every segment file starts at its base offset and the names are dense.
        let mut expected_base = 0;
        for name in names(tmp.path()) {
            let bytes = fs::read(tmp.path().join(&name)).unwrap();
            prop_assert_eq!(&name, &segment_file_name(expected_base));
            let mut pos = 0;
            while pos < bytes.len() {
                let Parse::Complete(r, n) = record::parse(&bytes[pos..]) else {
                    panic!("{name} at {pos}");
                };
                prop_assert_eq!(r.offset, expected_base);
                expected_base += 1;
                pos += n;
            }
        }
        prop_assert_eq!(expected_base, model.len() as u64);
    }
}

#!/usr/bin/env bash
# Writes the seed corpus under fuzz/corpus/<target>/seed-*: hand-made bytes for the
# codec targets, recorded client transcripts for plain_server and curve_server
# (those need cargo: the generator is an example of the fuzz crate).
# Run from anywhere: bash fuzz/gen-seeds.sh
set -euo pipefail
cd "$(dirname "$0")"

# libzmq 4.3's NULL greeting: 0xFF, padding 00..01, 0x7F, 3.1, "NULL" + 16 NULs,
# as-server 0, 31 zero filler bytes.
greeting() {
    printf '\xff\x00\x00\x00\x00\x00\x00\x00\x01\x7f\x03\x01NULL'
    head -c 16 /dev/zero
    head -c 32 /dev/zero
}
# READY command frames (flags 0x04, short size, body).
ready_rep() { printf '\x04\x19\x05READY\x0bSocket-Type\x00\x00\x00\x03REP'; }
ready_dealer_id() {
    printf '\x04\x2c\x05READY\x0bSocket-Type\x00\x00\x00\x06DEALER\x08Identity\x00\x00\x00\x03ABC'
}
# A long data frame: flags 0x02, 8-byte size 300, body.
long_frame() {
    printf '\x02\x00\x00\x00\x00\x00\x00\x01\x2c'
    head -c 300 /dev/zero | tr '\0' 'L'
}
short_frames() { printf '\x01\x05Hello\x00\x05World'; }
ping_frame() { printf '\x04\x0a\x04PING\x00\x1eabc'; }
# \xNN for a number 0..255.
hex() { printf '\\x%02x' "$1"; }
# A READY command frame: ready TYPE [IDENTITY] (short frames only).
ready() {
    local ty=$1 id=${2-} len
    len=$((6 + 12 + 4 + ${#ty}))
    [ -n "$id" ] && len=$((len + 9 + 4 + ${#id}))
    printf "\x04$(hex "$len")\x05READY\x0bSocket-Type\x00\x00\x00$(hex "${#ty}")%s" "$ty"
    [ -n "$id" ] && printf "\x08Identity\x00\x00\x00$(hex "${#id}")%s" "$id"
    return 0
}
# A ZMTP 3.0 NULL greeting (libzmq 4.0/4.1 and other 3.0 peers).
greeting30() {
    printf '\xff\x00\x00\x00\x00\x00\x00\x00\x01\x7f\x03\x00NULL'
    head -c 48 /dev/zero
}
subscribe_cmd() { printf "\x04$(hex $((10 + ${#1})))\x09SUBSCRIBE%s" "$1"; }
cancel_cmd() { printf "\x04$(hex $((7 + ${#1})))\x06CANCEL%s" "$1"; }
error_frame() { printf '\x04\x0a\x05ERROR\x03bad'; }

mkdir -p corpus/frame_decoder corpus/greeting corpus/handshake corpus/command corpus/session

# frame_decoder: byte 0 = max-size selector (0: no limit), byte 1 = chunking seed.
{ printf '\x00\x00'; ready_rep; short_frames; long_frame; ping_frame; } > corpus/frame_decoder/seed-mixed
{ printf '\x00\x01'; long_frame; } > corpus/frame_decoder/seed-long-1byte-chunks
{ printf '\x7f\x05'; ready_dealer_id; short_frames; } > corpus/frame_decoder/seed-ready-limited
{ printf '\x00\x2b'; ping_frame; subscribe_cmd topic; cancel_cmd topic; error_frame; } > corpus/frame_decoder/seed-commands-mixed-chunks
# Limit 16 * 8 = 128 bytes: the 300-byte frame is refused after two short ones.
{ printf '\x21\x01'; short_frames; long_frame; } > corpus/frame_decoder/seed-over-limit

# greeting: raw 64-byte greetings.
greeting > corpus/greeting/seed-libzmq43-null
{ printf '\xff\x00\x00\x00\x00\x00\x00\x00\x00\x7f\x03\x00PLAIN'; head -c 15 /dev/zero; printf '\x01'; head -c 31 /dev/zero; } > corpus/greeting/seed-zmtp30-plain-server
greeting30 > corpus/greeting/seed-zmtp30-null
# ZMTP 2.0 (libzmq 3.x) greeting start: 0xFF, length, 0x7F, revision 1, socket type.
printf '\xff\x00\x00\x00\x00\x00\x00\x00\x01\x7f\x01\x05' > corpus/greeting/seed-zmtp20-refused

# handshake: byte 0 = chunking seed, byte 1 = our routing-id length, then peer bytes.
{ printf '\x00\x00'; greeting; ready_rep; short_frames; } > corpus/handshake/seed-rep-whole
{ printf '\x01\x03'; greeting; ready_dealer_id; } > corpus/handshake/seed-dealer-id-1byte-chunks
{ printf '\x93\x00'; greeting; printf '\x04\x0a\x05ERROR\x03bad'; } > corpus/handshake/seed-error
{ printf '\x2b\x05'; greeting30; ready PUB; subscribe_cmd A; } > corpus/handshake/seed-zmtp30-pub-mixed-chunks
{ printf '\x00\x00'; greeting; ready ROUTER 'peer-identity-1'; } > corpus/handshake/seed-router-long-id

# session: byte 0 = chunking seed, byte 1 = our socket type (SocketType::ALL[b % 11]:
# 0 REQ 1 REP 2 DEALER 3 ROUTER 4 PUB 5 SUB 6 XPUB 7 XSUB 8 PUSH 9 PULL 10 PAIR),
# byte 2 = routing-id length (low 3 bits) + 256-byte frame limit (0x80), then peer bytes.
{ printf '\x00\x00\x00'; greeting; ready_rep; short_frames; long_frame; ping_frame; } > corpus/session/seed-req-rep-traffic
{ printf '\x01\x03\x00'; greeting; ready_dealer_id; short_frames; ping_frame; } > corpus/session/seed-router-dealer-id-1byte-chunks
{ printf '\x2b\x04\x00'; greeting30; ready SUB; printf '\x00\x06\x01topic'; subscribe_cmd topic; cancel_cmd topic; } > corpus/session/seed-pub-sub30-subscriptions
{ printf '\x93\x02\x83'; greeting; ready ROUTER; short_frames; long_frame; } > corpus/session/seed-dealer-limit-long-frame
{ printf '\x05\x09\x00'; greeting; error_frame; } > corpus/session/seed-peer-error

# command: a command frame body (no frame header).
printf '\x05READY\x0bSocket-Type\x00\x00\x00\x03REQ\x08Identity\x00\x00\x00\x03ABC' > corpus/command/seed-ready
printf '\x05ERROR\x03bad' > corpus/command/seed-error
printf '\x04PING\x00\x1eabc' > corpus/command/seed-ping
# 86 x 0xFF: invalid UTF-8 that grows past 255 bytes when replaced (a past finding).
{ printf '\x05ERROR\x56'; head -c 86 /dev/zero | tr '\0' '\377'; } > corpus/command/seed-error-invalid-utf8
printf '\x04PONGabc' > corpus/command/seed-pong
printf '\x09SUBSCRIBEtopic' > corpus/command/seed-subscribe
printf '\x06CANCELtopic' > corpus/command/seed-cancel
printf '\x05HELLOdata' > corpus/command/seed-unknown

# plain_server, curve_server: header bytes + a client transcript recorded from a
# zeroring-zmtp client Session talking to the target's own server (same keys, same
# seeded randomness), each replayed through the target's checks before it is
# written; see examples/gen_secure_seeds.rs.
cargo run --quiet --example gen_secure_seeds

for f in corpus/*/seed-*; do
    printf '%-52s %5d bytes\n' "$f" "$(wc -c < "$f")"
done

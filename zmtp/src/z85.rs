//! Z85 (RFC 32): ZeroMQ's printable encoding of binary data, used for CURVE keys.
//!
//! Every 4 bytes become 5 characters from an 85-character alphabet, most
//! significant digit first. Only lengths that are multiples of 4 (encoding) and 5
//! (decoding) are valid, exactly as RFC 32 and libzmq's `zmq_z85_encode` /
//! `zmq_z85_decode` define it; there is no padding.
//!
//! ```
//! use zeroring_zmtp::z85;
//! let bytes = [0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B];
//! assert_eq!(z85::encode(&bytes).unwrap(), "HelloWorld");
//! assert_eq!(z85::decode("HelloWorld").unwrap(), bytes);
//! ```

use crate::error::ZmtpError;

/// The 85 characters of Z85, in digit order.
const ALPHABET: &[u8; 85] =
    b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

/// The digit value of each byte (`0xFF`: not in the alphabet).
const DIGITS: [u8; 256] = {
    let mut table = [0xFFu8; 256];
    let mut i = 0;
    while i < ALPHABET.len() {
        table[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// Encodes `data` (a multiple of 4 bytes long) as Z85 text.
pub fn encode(data: &[u8]) -> Result<String, ZmtpError> {
    if !data.len().is_multiple_of(4) {
        return Err(ZmtpError::InvalidZ85(
            "binary length must be a multiple of 4 bytes",
        ));
    }
    let mut out = String::with_capacity(data.len() / 4 * 5);
    for chunk in data.chunks_exact(4) {
        let mut value = u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        let mut digits = [0u8; 5];
        for d in digits.iter_mut().rev() {
            *d = ALPHABET[(value % 85) as usize];
            value /= 85;
        }
        // Every alphabet byte is ASCII.
        out.extend(digits.iter().map(|&b| char::from(b)));
    }
    Ok(out)
}

/// Decodes Z85 text (a multiple of 5 characters long) into bytes.
pub fn decode(text: &str) -> Result<Vec<u8>, ZmtpError> {
    let text = text.as_bytes();
    if !text.len().is_multiple_of(5) {
        return Err(ZmtpError::InvalidZ85(
            "text length must be a multiple of 5 characters",
        ));
    }
    let mut out = Vec::with_capacity(text.len() / 5 * 4);
    for chunk in text.chunks_exact(5) {
        let mut value: u32 = 0;
        for &c in chunk {
            let digit = DIGITS[usize::from(c)];
            if digit == 0xFF {
                return Err(ZmtpError::InvalidZ85("character outside the Z85 alphabet"));
            }
            value = value
                .checked_mul(85)
                .and_then(|v| v.checked_add(u32::from(digit)))
                .ok_or(ZmtpError::InvalidZ85(
                    "group of 5 characters exceeds 32 bits",
                ))?;
        }
        out.extend_from_slice(&value.to_be_bytes());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc32_example() {
        let bytes = [0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B];
        assert_eq!(encode(&bytes).unwrap(), "HelloWorld");
        assert_eq!(decode("HelloWorld").unwrap(), bytes);
    }

    #[test]
    fn round_trips_edge_values() {
        for bytes in [
            vec![],
            vec![0, 0, 0, 0],
            vec![0xFF; 4],
            (0u8..=255).collect::<Vec<_>>(),
        ] {
            let text = encode(&bytes).unwrap();
            assert_eq!(text.len(), bytes.len() / 4 * 5);
            assert_eq!(decode(&text).unwrap(), bytes);
        }
        assert_eq!(encode(&[0xFF; 4]).unwrap(), "%nSc0");
    }

    #[test]
    fn rejects_bad_input() {
        assert!(encode(&[1, 2, 3]).is_err());
        assert!(decode("Hell").is_err());
        assert!(decode("Hell\"").is_err());
        assert!(decode("Hell\u{e9}").is_err());
        // 85^5 - 1 is over 2^32 - 1: "#####" does not fit in 32 bits.
        assert!(decode("#####").is_err());
        assert!(decode("%nSc1").is_err());
    }
}

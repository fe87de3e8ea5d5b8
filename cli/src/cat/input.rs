//! [`Input`]: the messages to send, read from stdin (one per line, split into frames
//! with `--multipart`, decoded with `--hex` / `--base64`) or from files (`--file`,
//! one whole file per message).

use std::collections::VecDeque;
use std::io::{BufRead, Read};
use std::path::PathBuf;

use base64::Engine;
use bytes::Bytes;
use zeroring::Message;

use super::args::Format;
use crate::CliError;

/// Where the messages come from.
enum Source {
    /// Lines of a reader (stdin in the binary), with the number of the next one.
    Lines(Box<dyn BufRead + Send>, usize),
    /// Files still to send.
    Files(VecDeque<PathBuf>),
}

/// The messages to send, one at a time.
pub struct Input {
    source: Source,
    format: Format,
}

impl Input {
    /// Messages from the lines of `reader`.
    pub fn lines(reader: impl BufRead + Send + 'static, format: &Format) -> Input {
        Input {
            source: Source::Lines(Box::new(reader), 1),
            format: format.clone(),
        }
    }

    /// One message per file.
    pub fn files(paths: &[PathBuf], format: &Format) -> Input {
        Input {
            source: Source::Files(paths.iter().cloned().collect()),
            format: format.clone(),
        }
    }

    /// The next line's message.
    fn next_line(
        reader: &mut dyn BufRead,
        number: usize,
        format: &Format,
    ) -> Option<Result<Message, CliError>> {
        let mut line = Vec::new();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) => return None,
            Ok(_) => {}
            Err(e) => return Some(Err(CliError(format!("cannot read stdin: {e}")))),
        }
        if line.last() == Some(&b'\n') {
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
        }
        Some(decode_line(&line, format).map_err(|e| CliError(format!("input line {number}: {e}"))))
    }
}

impl Iterator for Input {
    type Item = Result<Message, CliError>;

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.source {
            Source::Lines(reader, number) => {
                let msg = Input::next_line(reader.as_mut(), *number, &self.format);
                *number += 1;
                msg
            }
            Source::Files(paths) => {
                let path = paths.pop_front()?;
                let mut body = Vec::new();
                Some(
                    std::fs::File::open(&path)
                        .and_then(|mut f| f.read_to_end(&mut body))
                        .map(|_| Message::from(body))
                        .map_err(|e| CliError(format!("cannot read {}: {e}", path.display()))),
                )
            }
        }
    }
}

/// One input line (without its newline) as a message.
fn decode_line(line: &[u8], format: &Format) -> Result<Message, String> {
    let frames: Vec<&[u8]> = if format.multipart {
        split(line, format.separator.as_bytes())
    } else {
        vec![line]
    };
    frames
        .into_iter()
        .enumerate()
        .map(|(i, frame)| decode_frame(frame, format).map_err(|e| format!("frame {}: {e}", i + 1)))
        .collect::<Result<Vec<Bytes>, String>>()
        .map(Message::from)
}

/// `line` split at every `separator` (an empty separator splits nothing).
fn split<'a>(line: &'a [u8], separator: &[u8]) -> Vec<&'a [u8]> {
    if separator.is_empty() {
        return vec![line];
    }
    let mut frames = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.windows(separator.len()).position(|w| w == separator) {
        frames.push(&rest[..at]);
        rest = &rest[at + separator.len()..];
    }
    frames.push(rest);
    frames
}

/// One frame's bytes from its text.
fn decode_frame(text: &[u8], format: &Format) -> Result<Bytes, String> {
    if format.hex {
        hex::decode(text.trim_ascii())
            .map(Bytes::from)
            .map_err(|e| format!("not hex ({e})"))
    } else if format.base64 {
        base64::engine::general_purpose::STANDARD
            .decode(text.trim_ascii())
            .map(Bytes::from)
            .map_err(|e| format!("not base64 ({e})"))
    } else {
        Ok(Bytes::copy_from_slice(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn format(multipart: bool, hex: bool, base64: bool) -> Format {
        Format {
            multipart,
            separator: "|".into(),
            hex,
            base64,
            json: false,
        }
    }

    fn read(text: &str, format: &Format) -> Vec<Result<Vec<Vec<u8>>, String>> {
        Input::lines(std::io::Cursor::new(text.as_bytes().to_vec()), format)
            .map(|m| {
                m.map(|m| m.iter().map(|f| f.to_vec()).collect())
                    .map_err(|e| e.0)
            })
            .collect()
    }

    #[test]
    fn one_message_per_line() {
        let got = read("a\r\n\nb|c", &format(false, false, false));
        assert_eq!(
            got,
            [
                Ok(vec![b"a".to_vec()]),
                Ok(vec![vec![]]),
                Ok(vec![b"b|c".to_vec()])
            ]
        );
    }

    #[test]
    fn multipart_hex_and_base64() {
        let got = read("id|hello||\n", &format(true, false, false));
        assert_eq!(
            got,
            [Ok(vec![b"id".to_vec(), b"hello".to_vec(), vec![], vec![]])]
        );
        let got = read("00ff|41\n", &format(true, true, false));
        assert_eq!(got, [Ok(vec![vec![0, 255], b"A".to_vec()])]);
        let got = read("aGk=\n", &format(false, false, true));
        assert_eq!(got, [Ok(vec![b"hi".to_vec()])]);
    }

    #[test]
    fn a_bad_line_is_named() {
        let got = read("00\nzz|00\n", &format(true, true, false));
        assert!(got[0].is_ok());
        let e = got[1].as_ref().unwrap_err();
        assert!(e.starts_with("input line 2: frame 1: not hex"), "{e}");
    }

    #[test]
    fn files_are_whole_messages() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("blob");
        std::fs::write(&path, b"\x00line one\nline two\n").unwrap();
        let got: Vec<_> = Input::files(
            &[path.clone(), dir.path().join("missing")],
            &format(false, false, false),
        )
        .collect();
        assert_eq!(
            &got[0].as_ref().unwrap()[0][..],
            b"\x00line one\nline two\n"
        );
        assert!(got[1].as_ref().unwrap_err().0.contains("missing"));
    }
}

//! [`Message`]: a multipart ZeroMQ message made of [`Bytes`] frames.

use std::ops::Index;

use bytes::Bytes;
use smallvec::SmallVec;

/// Frames stored inline before a message spills to the heap: a message of up to
/// this many frames costs no allocation besides its frames' bytes.
pub(crate) const INLINE_FRAMES: usize = 3;

/// The frame list of a message.
pub(crate) type Frames = SmallVec<[Bytes; INLINE_FRAMES]>;

/// A multipart message. Frames are [`Bytes`], so cloning a message or slicing frames
/// out of a receive buffer never copies the payload, and up to three frames are
/// stored inline, so building or receiving a typical message does not allocate.
///
/// ```
/// use zeroring_zmtp::Message;
/// let m = Message::from(vec!["key", "value"]);
/// assert_eq!(m.len(), 2);
/// assert_eq!(&m[1][..], b"value");
/// let single: Message = "hello".into();
/// assert_eq!(single.frames()[0], "hello");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Message {
    frames: Frames,
}

impl Message {
    /// A message with no frames yet.
    pub fn new() -> Message {
        Message::default()
    }

    /// A message made of frames assembled by the session.
    pub(crate) fn from_frames(frames: Frames) -> Message {
        Message { frames }
    }

    /// A message with room for `n` frames.
    pub fn with_capacity(n: usize) -> Message {
        Message {
            frames: Frames::with_capacity(n),
        }
    }

    /// Appends a frame.
    pub fn push_back(&mut self, frame: impl Into<Bytes>) {
        self.frames.push(frame.into());
    }

    /// Prepends a frame (e.g. a routing id).
    pub fn push_front(&mut self, frame: impl Into<Bytes>) {
        self.frames.insert(0, frame.into());
    }

    /// Removes and returns the first frame.
    pub fn pop_front(&mut self) -> Option<Bytes> {
        if self.frames.is_empty() {
            None
        } else {
            Some(self.frames.remove(0))
        }
    }

    /// Removes and returns the last frame.
    pub fn pop_back(&mut self) -> Option<Bytes> {
        self.frames.pop()
    }

    /// The frames in order.
    pub fn frames(&self) -> &[Bytes] {
        &self.frames
    }

    /// Takes the frames out.
    pub fn into_frames(self) -> Vec<Bytes> {
        self.frames.into_vec()
    }

    /// Number of frames.
    pub fn len(&self) -> usize {
        self.frames.len()
    }

    /// True when the message has no frames.
    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    /// The frame at `i`.
    pub fn get(&self, i: usize) -> Option<&Bytes> {
        self.frames.get(i)
    }

    /// Iterates over the frames.
    pub fn iter(&self) -> std::slice::Iter<'_, Bytes> {
        self.frames.iter()
    }

    /// Sum of the frame sizes.
    pub fn byte_len(&self) -> usize {
        self.frames.iter().map(Bytes::len).sum()
    }

    /// Removes the first `n` frames and returns them as a message of their own
    /// (e.g. the envelope of a request, up to its empty delimiter).
    ///
    /// ```
    /// use zeroring_zmtp::Message;
    /// let mut m = Message::from(vec!["id", "", "body"]);
    /// let envelope = m.split_front(2);
    /// assert_eq!(envelope.len(), 2);
    /// assert_eq!(&m[0][..], b"body");
    /// ```
    pub fn split_front(&mut self, n: usize) -> Message {
        Message {
            frames: self.frames.drain(..n).collect(),
        }
    }
}

impl Index<usize> for Message {
    type Output = Bytes;
    fn index(&self, i: usize) -> &Bytes {
        &self.frames[i]
    }
}

impl<'a> IntoIterator for &'a Message {
    type Item = &'a Bytes;
    type IntoIter = std::slice::Iter<'a, Bytes>;
    fn into_iter(self) -> Self::IntoIter {
        self.frames.iter()
    }
}

impl IntoIterator for Message {
    type Item = Bytes;
    type IntoIter = smallvec::IntoIter<[Bytes; INLINE_FRAMES]>;
    fn into_iter(self) -> Self::IntoIter {
        self.frames.into_iter()
    }
}

impl From<Bytes> for Message {
    fn from(b: Bytes) -> Message {
        let mut frames = Frames::new();
        frames.push(b);
        Message { frames }
    }
}

impl From<Vec<u8>> for Message {
    fn from(v: Vec<u8>) -> Message {
        Message::from(Bytes::from(v))
    }
}

impl From<&[u8]> for Message {
    fn from(v: &[u8]) -> Message {
        Message::from(Bytes::copy_from_slice(v))
    }
}

impl<const N: usize> From<&[u8; N]> for Message {
    fn from(v: &[u8; N]) -> Message {
        Message::from(&v[..])
    }
}

impl From<&str> for Message {
    fn from(s: &str) -> Message {
        Message::from(s.as_bytes())
    }
}

impl From<String> for Message {
    fn from(s: String) -> Message {
        Message::from(Bytes::from(s))
    }
}

impl From<Vec<Bytes>> for Message {
    fn from(frames: Vec<Bytes>) -> Message {
        Message {
            frames: Frames::from_vec(frames),
        }
    }
}

impl From<Vec<Vec<u8>>> for Message {
    fn from(frames: Vec<Vec<u8>>) -> Message {
        frames.into_iter().map(Bytes::from).collect()
    }
}

impl From<Vec<&str>> for Message {
    fn from(frames: Vec<&str>) -> Message {
        frames
            .into_iter()
            .map(|s| Bytes::copy_from_slice(s.as_bytes()))
            .collect()
    }
}

impl From<Vec<&[u8]>> for Message {
    fn from(frames: Vec<&[u8]>) -> Message {
        frames.into_iter().map(Bytes::copy_from_slice).collect()
    }
}

impl<T: Into<Bytes>> FromIterator<T> for Message {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Message {
        Message {
            frames: iter.into_iter().map(Into::into).collect(),
        }
    }
}

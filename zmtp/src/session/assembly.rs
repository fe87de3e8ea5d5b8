//! Assembling whole messages from data frames under the size limits: MAXMSGSIZE
//! (bodies plus [`FRAME_COST`] for every frame after the first) and a cap on the
//! frames of one message, so a message that never ends is refused either way.

use bytes::Bytes;

use super::reason::CloseReason;
use crate::message::{Frames, Message};

/// What a frame costs in memory besides its body (its `Bytes` handle), counted
/// toward MAXMSGSIZE for every frame of a message after the first.
pub const FRAME_COST: u64 = 32;

/// Default cap on the frames of one inbound message: about 2 MiB of frame handles.
pub const DEFAULT_MAX_FRAMES: usize = 65_536;

/// Limits on one inbound message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageLimits {
    /// MAXMSGSIZE (`None`: no limit).
    pub max_size: Option<u64>,
    /// Most frames in one message (`None`: no limit).
    pub max_frames: Option<usize>,
}

impl Default for MessageLimits {
    fn default() -> MessageLimits {
        MessageLimits {
            max_size: None,
            max_frames: Some(DEFAULT_MAX_FRAMES),
        }
    }
}

/// The frames of the message being received.
#[derive(Debug)]
pub(crate) struct Assembly {
    parts: Frames,
    /// Bodies plus FRAME_COST per frame so far (wraps only after 2^64 bytes
    /// actually arrived: bodies are counted as they come).
    size: u64,
    /// MAXMSGSIZE + FRAME_COST (the first frame costs nothing extra).
    size_limit: u64,
    max_frames: usize,
    limits: MessageLimits,
}

impl Assembly {
    pub(crate) fn new(limits: MessageLimits) -> Assembly {
        Assembly {
            parts: Frames::new(),
            size: 0,
            size_limit: limits
                .max_size
                .map_or(u64::MAX, |m| m.saturating_add(FRAME_COST)),
            max_frames: limits.max_frames.unwrap_or(usize::MAX),
            limits,
        }
    }

    /// Adds a data frame; returns the message when it was the last one.
    #[inline(always)]
    pub(crate) fn push(&mut self, body: Bytes, more: bool) -> Result<Option<Message>, CloseReason> {
        self.size = self.size.wrapping_add(body.len() as u64 + FRAME_COST);
        if self.size > self.size_limit {
            return Err(self.too_large());
        }
        // With MORE, at least one frame follows this one.
        if more && self.parts.len() + 1 >= self.max_frames {
            return Err(CloseReason::TooManyFrames {
                frames: self.parts.len() + 2,
                max: self.max_frames,
            });
        }
        self.parts.push(body);
        if more {
            return Ok(None);
        }
        self.size = 0;
        Ok(Some(Message::from_frames(std::mem::take(&mut self.parts))))
    }

    #[cold]
    fn too_large(&self) -> CloseReason {
        CloseReason::MessageTooLarge {
            size: self.size - FRAME_COST,
            max: self.limits.max_size.unwrap_or(u64::MAX),
        }
    }

    /// True while part of a message has arrived.
    pub(crate) fn in_progress(&self) -> bool {
        !self.parts.is_empty()
    }
}

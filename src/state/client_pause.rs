//! CLIENT PAUSE's state (Redis's pauseClients): whether commands are held, which ones, until when, and the
//! sessions whose command waits for the end of the pause.
//!
//! A held command is not parked on keys: its argv waits in `Session::postponed`, the session is listed in
//! `Pause::postponed` (INFO counts it in `blocked_clients`, as Redis's BLOCKED_POSTPONE), and when the pause
//! ends the session is handed to the event loop (`State::unblocked`), which runs the argv again before any
//! further input.

use super::session::ClientId;

/// What a pause holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PauseMode {
    /// Commands that write or may replicate (WRITE, MAY_REPLICATE flags, and EXEC of such).
    Write,
    /// Every command.
    All,
}

/// An active pause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pause {
    pub mode: PauseMode,
    /// When it ends, in Unix ms.
    pub end_ms: i64,
}

/// The pause, if any, and the sessions waiting for its end.
#[derive(Debug, Default)]
pub struct Pausing {
    pub pause: Option<Pause>,
    pub postponed: Vec<ClientId>,
}

impl Pausing {
    /// Starts or extends a pause: the stricter mode and the later end win, as in Redis 7.0.
    pub fn pause(&mut self, mode: PauseMode, end_ms: i64) {
        self.pause = Some(match self.pause {
            Some(old) => Pause { mode: old.mode.max(mode), end_ms: old.end_ms.max(end_ms) },
            None => Pause { mode, end_ms },
        });
    }

    /// Ends the pause; returns the sessions to resume, in the order they were held.
    pub fn unpause(&mut self) -> Vec<ClientId> {
        self.pause = None;
        std::mem::take(&mut self.postponed)
    }

    /// The mode in force at `now_ms`, if a pause is.
    pub fn mode(&self, now_ms: i64) -> Option<PauseMode> {
        self.pause.filter(|pause| pause.end_ms > now_ms).map(|pause| pause.mode)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stricter_mode_and_the_later_end_win() {
        let mut pausing = Pausing::default();
        pausing.pause(PauseMode::All, 100);
        pausing.pause(PauseMode::Write, 200);
        assert_eq!(pausing.pause, Some(Pause { mode: PauseMode::All, end_ms: 200 }));
        assert_eq!((pausing.mode(199), pausing.mode(200)), (Some(PauseMode::All), None));
        pausing.postponed.push(ClientId(3));
        assert_eq!(pausing.unpause(), vec![ClientId(3)]);
        assert_eq!(pausing.mode(0), None);
    }
}
